// Logs: batching limits and latency, order and sequence numbers, retries without loss or
// duplication (lost answers, a coderd restart mid-job), and bounded memory under a slow coderd.

import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { deferred } from "../../src/daemon/abort.js";
import type { JobCoordinator } from "../../src/daemon/coordinator.js";
import { TransportError } from "../../src/daemon/errors.js";
import { JobChannel } from "../../src/daemon/job-channel.js";
import { LogBatchOptionsSchema } from "../../src/daemon/options.js";
import {
  AcquiredJob,
  LogLevel,
  LogSource,
  type UpdateJobRequest,
  type UpdateJobResponse,
  WorkspaceTransition,
} from "../../src/provisioner/model.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

const OK: UpdateJobResponse = { canceled: false, parameterValues: [], variableValues: [] };
const line = (output: string, stage = "Planning infrastructure") => ({
  source: LogSource.PROVISIONER,
  level: LogLevel.INFO,
  stage,
  output,
});

/** A job channel to `coordinator`, without heartbeats (it is never started). */
function channelTo(
  coordinator: Pick<JobCoordinator, "updateJob">,
  options: Partial<Parameters<typeof LogBatchOptionsSchema.parse>[0]> = {},
): JobChannel {
  return new JobChannel({
    job: AcquiredJob.create({ jobId: "job-1" }),
    coordinator: {
      ...coordinator,
      commitQuota: async () => ({ ok: true, creditsConsumed: 0, budget: -1 }),
      failJob: async () => {},
      completeJob: async () => {},
    },
    logger: pino({ level: "silent" }),
    heartbeatIntervalMs: 60_000,
    heartbeatDeadlineMs: 60_000,
    logBatch: LogBatchOptionsSchema.parse(options),
    backoff: { initialMs: 1, maxMs: 2 },
  });
}

function recorder(options: Partial<Parameters<typeof LogBatchOptionsSchema.parse>[0]> = {}) {
  const sent: UpdateJobRequest[] = [];
  let respond: (request: UpdateJobRequest) => Promise<UpdateJobResponse> = async () => OK;
  const batcher = channelTo(
    {
      updateJob: (request) => {
        sent.push(request);
        return respond(request);
      },
    },
    options,
  );
  return {
    batcher,
    sent,
    setResponder: (fn: typeof respond) => {
      respond = fn;
    },
  };
}

describe("job channel logs", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("numbers lines from 1, sends the first at once, later ones within the max delay, full batches at once", async () => {
    vi.useFakeTimers();
    const { batcher, sent } = recorder();
    batcher.log(line("first"));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1); // the first line goes at once: it acknowledges the job
    for (let i = 2; i <= 6; i++) batcher.log(line(`l${i}`));
    await vi.advanceTimersByTimeAsync(99);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((r) => r.logs.length)).toEqual([1, 5]);
    for (let i = 7; i <= 156; i++) batcher.log(line(`l${i}`));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.map((r) => r.logs.length)).toEqual([1, 5, 100, 50]);
    const sequences = sent.flatMap((r) => r.logs.map((l) => l.sequence));
    expect(sequences).toEqual(Array.from({ length: 156 }, (_, i) => i + 1));
  });

  it("keeps a batch under 64 KiB", async () => {
    const { batcher, sent } = recorder();
    const big = "x".repeat(10_000);
    for (let i = 0; i < 20; i++) batcher.log(line(big));
    await batcher.flush();
    for (const request of sent) {
      const bytes = request.logs.reduce((sum, l) => sum + l.output.length, 0);
      expect(bytes).toBeLessThanOrEqual(64 << 10);
    }
    expect(sent.flatMap((r) => r.logs).length).toBe(20);
  });

  it("sends the previous stage's lines at a stage change without waiting for the timer", async () => {
    vi.useFakeTimers();
    const { batcher, sent } = recorder();
    batcher.log(line("a", "Setting up"));
    await vi.advanceTimersByTimeAsync(0);
    batcher.log(line("b", "Setting up"));
    batcher.log(line("c", "Planning infrastructure"));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent.flatMap((r) => r.logs.map((l) => l.output))).toEqual(["a", "b", "c"]);
  });

  it("retries a failed send with the same sequence numbers, losing nothing", async () => {
    const sent: UpdateJobRequest[] = [];
    let failures = 3;
    const channel = channelTo({
      updateJob: async (request: UpdateJobRequest) => {
        sent.push(request);
        if (failures-- > 0) throw new TransportError("connection reset");
        return OK;
      },
    });
    for (let i = 1; i <= 3; i++) channel.log(line(`l${i}`));
    await channel.flush();
    expect(sent.length).toBeGreaterThan(3);
    for (const request of sent.slice(0, 4)) expect(request.logs[0]?.sequence).toBe(1);
    const unique = [
      ...new Map(sent.flatMap((r) => r.logs).map((l) => [l.sequence, l.output])).entries(),
    ];
    expect(unique).toEqual([
      [1, "l1"],
      [2, "l2"],
      [3, "l3"],
    ]);
  });

  it("makes the producer wait when the buffer is full, and lets it go on as coderd catches up", async () => {
    const { batcher, setResponder } = recorder({ bufferLines: 50, maxLines: 10 });
    const gate = deferred<void>();
    setResponder(async () => {
      await gate.promise;
      return OK;
    });
    let waited: Promise<void> | undefined;
    for (let i = 0; i < 50; i++) waited = batcher.log(line(`l${i}`)) ?? waited;
    expect(waited).toBeInstanceOf(Promise);
    expect(batcher.bufferedLines).toBe(50);
    let released = false;
    void waited?.then(() => {
      released = true;
    });
    await Promise.resolve();
    expect(released).toBe(false);
    gate.resolve();
    await waited;
    expect(batcher.bufferedLines).toBeLessThanOrEqual(25);
    await batcher.flush();
    expect(batcher.highWaterLines).toBe(50);
  });

  it("sends an update payload after every earlier line, together with its own lines", async () => {
    const { batcher, sent } = recorder();
    batcher.log(line("before", "Setting up"));
    const response = await batcher.update({ readme: Buffer.from("# r") }, [
      {
        source: LogSource.PROVISIONER_DAEMON,
        level: LogLevel.INFO,
        stage: "Adding README.md...",
        output: "",
      },
    ]);
    expect(response).toEqual(OK);
    const withReadme = sent.find((r) => r.readme.length > 0);
    expect(withReadme?.logs.map((l) => l.stage)).toContain("Adding README.md...");
    expect(sent.flatMap((r) => r.logs.map((l) => l.sequence))).toEqual([1, 2]);
  });
});

describe("log delivery through coderd faults", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.teardown();
    h = undefined;
  });

  function expectExactlyOnce(
    logs: { sequence: number; output: string }[],
    planLines: number,
    applyLines: number,
  ) {
    expect(logs.map((l) => l.sequence)).toEqual(logs.map((_, i) => i + 1));
    const outputs = logs.map((l) => l.output).filter((o) => o !== "");
    const expected = [
      ...Array.from({ length: planLines }, (_, i) => `plan START line ${i + 1}`),
      ...Array.from({ length: applyLines }, (_, i) => `apply START line ${i + 1}`),
    ];
    expect(outputs).toEqual(expected);
  }

  it("delivers every line exactly once when coderd's answers get lost", async () => {
    h = await startHarness();
    await h.daemon({ provisioners: [new ScriptProvisioner({ planLines: 300, applyLines: 300 })] });
    h.fake.inject("updateJob", { kind: "lose-response" }, 4);
    h.fake.inject("completeJob", { kind: "refuse" }, 2);
    const id = h.fake.enqueueJob({
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("x"),
    });
    const job = await h.fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    expectExactlyOnce(job.logs, 300, 300);
    expect(job.duplicateLines).toBeGreaterThan(0);
    expect(h.fake.violations).toEqual([]);
  });

  it("counts a terminal message as delivered when only its answer was lost", async () => {
    h = await startHarness();
    await h.daemon({ provisioners: [new ScriptProvisioner({ planLines: 3, applyLines: 3 })] });
    h.fake.inject("completeJob", { kind: "lose-response" }, 1);
    const id = h.fake.enqueueJob({
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("x"),
    });
    const job = await h.fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    // The retry repeats the call word for word; coderd answers it OK instead of refusing it.
    await h.fake.waitFor(
      () =>
        h?.fake.callsOf("completeJob").filter((c) => c.outcome === "ok").length === 1 || undefined,
      5_000,
      "the retried CompleteJob",
    );
    expect(h.fake.callsOf("completeJob").map((c) => c.outcome)).toEqual([
      "fault:lose-response",
      "ok",
    ]);
    expect(h.log.text()).not.toContain("send CompleteJob");
    expect(h.fake.violations).toEqual([]);
  });

  it("finishes a job across a coderd restart mid-apply with every line delivered once", async () => {
    h = await startHarness();
    const fake = h.fake;
    const applyStarted = deferred<void>();
    const gate = deferred<void>();
    const provisioner = new ScriptProvisioner({
      planLines: 200,
      applyLines: 3000,
      applyGate: gate.promise,
      onApplyStart: () => applyStarted.resolve(),
    });
    await h.daemon({ provisioners: [provisioner], heartbeatDeadlineMs: 20_000 });
    const id = fake.enqueueJob({
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("x"),
    });
    await applyStarted.promise;
    await fake.waitForLogs(id, (logs) => logs.length > 200);
    await fake.stop();
    gate.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    await fake.restart();
    const job = await fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    expectExactlyOnce(job.logs, 200, 3000);
    expect(fake.violations).toEqual([]);
  });

  it("streams 20,000 lines through a slow coderd in order with bounded buffering", async () => {
    h = await startHarness();
    await h.daemon({
      provisioners: [new ScriptProvisioner({ planLines: 10, applyLines: 20_000 })],
      logBatch: { bufferLines: 1_000 },
    });
    h.fake.inject("updateJob", { kind: "delay", ms: 5 }, 50);
    const id = h.fake.enqueueJob({
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("x"),
    });
    const job = await h.fake.waitForJobEnd(id, 60_000);
    expectExactlyOnce(job.logs, 10, 20_000);
    const batches = h.fake
      .callsOf("updateJob", id)
      .map((c) => (c.request as UpdateJobRequest).logs.length);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
  });
});
