// Faults over the coderd v0.17 adapter with real terraform: cancel mid-apply, quota denied, a
// hostile archive, and a coderd restart, which loses a job in flight because v0.17 coderd owns
// a job per connection.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import { FAILURE } from "../../src/daemon/index.js";
import { captureLogger } from "../daemon/helpers/harness.js";
import {
  processesMatching,
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "../daemon/helpers/terraform.js";
import { makeTar } from "../terraform/helpers/tar.js";
import type { FakeJob } from "./fake-coderd-drpc.js";
import {
  buildJob,
  type CoderdSetup,
  ended,
  importJob,
  LONG,
  startV017,
} from "./helpers/coderd-daemon.js";

let scratch: TerraformScratch;
let setup: CoderdSetup | undefined;

beforeAll(async () => {
  scratch = await terraformScratch();
});
afterAll(() => scratch.cleanup());
afterEach(async () => {
  await setup?.close();
  setup = undefined;
});

function outputs(job: FakeJob): string[] {
  return (job.updates as v017.UpdateJobRequest[]).flatMap((u) => u.logs.map((l) => l.output));
}

/** Waits until the job has logged a line containing `text`. */
async function logged(job: FakeJob, text: string): Promise<void> {
  await vi.waitFor(() => expect(outputs(job).some((l) => l.includes(text))).toBe(true), {
    timeout: LONG,
    interval: 50,
  });
}

/** A build of slow-and-chatty sleeping a random time, so orphan checks find only this one. */
function sleepingBuild() {
  const sleep = 300 + Math.floor(Math.random() * 600);
  return {
    sleep,
    job: buildJob(templateTar("slow-and-chatty"), {
      sleep_seconds: String(sleep),
      lines: "20",
    }),
  };
}

describe("coderd v0.17 faults (real terraform)", () => {
  it("cancel mid-apply ends with a FailedJob carrying the partial state", {
    timeout: LONG,
  }, async () => {
    setup = await startV017(scratch);
    const { fake } = setup;
    const { sleep, job: payload } = sleepingBuild();
    const job = fake.enqueue(payload);
    await logged(job, `sleeping ${sleep}s`);
    fake.cancel(job.id);
    await ended(job);
    expect(job.state).toBe("failed");
    const failed = job.terminal as v017.FailedJob;
    expect(failed.type?.$case).toBe("workspaceBuild");
    const state =
      failed.type?.$case === "workspaceBuild" ? failed.type.value.state : Buffer.alloc(0);
    expect(JSON.parse(state.toString("utf8"))).toHaveProperty("version");
    expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
    expect(scratch.workDirs()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("fails a build over budget with the quota text", { timeout: LONG }, async () => {
    setup = await startV017(scratch, { fake: { budget: 40 } });
    const { fake } = setup;
    const archive = templateTar("apps-and-metadata");
    const first = await ended(fake.enqueue(buildJob(archive)));
    expect(first.failure).toBeUndefined();
    expect(fake.consumedCredits).toBe(29);
    // A second workspace would bring consumption to 58 > 40.
    const denied = await ended(fake.enqueue(buildJob(archive)));
    expect(denied.failure).toBe(FAILURE.insufficientQuota);
    expect(fake.consumedCredits).toBe(29);
    expect(fake.violations).toEqual([]);
  });

  it("fails a hostile archive naming the entry, then serves the next job", {
    timeout: LONG,
  }, async () => {
    setup = await startV017(scratch);
    const { fake } = setup;
    const hostile = await ended(
      fake.enqueue(
        importJob(
          makeTar([
            { name: "main.tf", data: "" },
            { name: "../../escape.tf", data: "x" },
          ]),
        ),
      ),
    );
    expect(hostile.state).toBe("failed");
    expect(hostile.failure).toContain("escape.tf");
    const next = await ended(fake.enqueue(importJob(templateTar("minimal"))));
    expect(next.failure).toBeUndefined();
    expect(next.state).toBe("completed");
    expect(scratch.workDirs()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("a coderd restart loses the job in flight; the daemon reconnects and runs the next job", {
    timeout: LONG,
  }, async () => {
    const log = captureLogger();
    setup = await startV017(scratch, { logger: log.logger });
    const { fake, daemon } = setup;
    const { sleep, job: payload } = sleepingBuild();
    const lost = fake.enqueue(payload);
    await logged(lost, `sleeping ${sleep}s`);
    await fake.restart();
    await log.waitForLine(
      (l) => l.msg === "coderd connection ended; the next call reconnects",
      "the connection's end",
      LONG,
    );
    // The new connection is a new daemon row: coderd refuses every call about the lost job,
    // and the daemon gives the job up.
    const given = await log.waitForLine(
      (l) => l.msg === "coderd refused the job; failing it",
      "the daemon giving the lost job up",
      LONG,
    );
    expect(given.err).toContain("you don't own this job");
    const next = await ended(fake.enqueue(importJob(templateTar("minimal"))));
    expect(next.state).toBe("completed");
    expect(fake.daemons.length).toBeGreaterThanOrEqual(2);
    expect(next.owner).not.toBe(lost.owner);
    // The lost job stays running on coderd's side (its owner row is gone), and the daemon
    // stopped working on it: no terraform process is left behind.
    expect(lost.state).toBe("running");
    await vi.waitFor(() => expect(processesMatching(`sleep ${sleep}`)).toEqual([]), {
      timeout: LONG,
      interval: 100,
    });
    await vi.waitFor(() => expect(daemon.runningJobs).toEqual([]), {
      timeout: LONG,
      interval: 100,
    });
    expect(fake.violations).toEqual([]);
  });
});
