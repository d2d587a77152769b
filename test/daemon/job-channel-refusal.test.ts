// coderd refusing an update about a running job means it gave the job up. Whether the refusal
// answers a batch of log lines or a heartbeat is a matter of timing (after a v0.17 coderd
// restart, whichever reaches it first), so both must end the job the same visible way: the
// `lost` signal with the reference's failure text, and one log line that says coderd refused.
import { describe, expect, it } from "vitest";
import { CoordinatorRefusedError, type JobFailure } from "../../src/daemon/errors.js";
import { JobChannel } from "../../src/daemon/job-channel.js";
import { FAILURE } from "../../src/daemon/job-texts.js";
import { LogBatchOptionsSchema } from "../../src/daemon/options.js";
import { AcquiredJob, LogLevel, LogSource } from "../../src/provisioner/model.js";
import { captureLogger } from "./helpers/harness.js";

const REFUSAL = "you don't own this job";

function refusingChannel(heartbeatIntervalMs: number) {
  const log = captureLogger();
  const channel = new JobChannel({
    job: AcquiredJob.create({ jobId: "job-1" }),
    coordinator: {
      updateJob: async () => {
        throw new CoordinatorRefusedError(REFUSAL);
      },
      commitQuota: async () => ({ ok: true, creditsConsumed: 0, budget: -1 }),
      failJob: async () => {},
      completeJob: async () => {},
    },
    logger: log.logger,
    heartbeatIntervalMs,
    heartbeatDeadlineMs: 60_000,
    logBatch: LogBatchOptionsSchema.parse({}),
    backoff: { initialMs: 1, maxMs: 2 },
  });
  return { channel, log };
}

function lostReason(channel: JobChannel): Promise<JobFailure> {
  return new Promise((resolve) =>
    channel.lost.addEventListener("abort", () => resolve(channel.lost.reason as JobFailure), {
      once: true,
    }),
  );
}

describe("a refused update ends the job the same way whatever it carried", () => {
  it("log lines refused", async () => {
    const { channel, log } = refusingChannel(60_000);
    const lost = lostReason(channel);
    void channel.log({
      source: LogSource.PROVISIONER,
      level: LogLevel.INFO,
      stage: "Planning",
      output: "a line",
    });
    await channel.flush().catch(() => {});
    const failure = await lost;
    expect(failure.message).toBe(`${FAILURE.sendLogs}${REFUSAL}`);
    expect(failure.code).toBe("INTERNAL");
    const line = await log.waitForLine(
      (l) => l.msg === "coderd refused the job; failing it",
      "refusal",
    );
    expect(line.err).toBe(failure.message);
    await channel.finish({ kind: "fail", failure });
  });

  it("a heartbeat refused", async () => {
    const { channel, log } = refusingChannel(1);
    const lost = lostReason(channel);
    channel.start();
    const failure = await lost;
    expect(failure.message).toBe(`${FAILURE.heartbeat}${REFUSAL}`);
    expect(failure.code).toBe("HEARTBEAT");
    const line = await log.waitForLine(
      (l) => l.msg === "coderd refused the job; failing it",
      "refusal",
    );
    expect(line.err).toBe(failure.message);
    await channel.finish({ kind: "fail", failure });
  });
});
