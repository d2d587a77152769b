// coderd restarting (same port, state kept) while a build runs: an outage shorter than the
// heartbeat deadline costs nothing (the build completes, every log line arrives once); a longer
// one ends the job in one defined way (below).
//
// The outages of 5, 15, 20, 24 and 40 s against the default 25 s deadline would take minutes, so
// every duration is multiplied by SCALE: the outage, and the daemon's heartbeat interval and
// deadline, per-call timeout and reconnect backoff (the job's own retry backoff is derived from
// the deadline). The outcome depends only on how these durations compare (outage against the
// deadline, retry waits against the time left), and scaling all of them by one factor keeps
// every comparison; the fixed costs that do not scale (a reconnect, the fake's restart, a few
// ms) then weigh more than in real time, which makes the scaled test stricter, not looser. A
// fifth leaves the 24 s case 200 ms of its 1 s margin, room for those costs on a busy machine.
import { describe, expect, it } from "vitest";
import { deferred } from "../../src/daemon/abort.js";
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
import type { Log } from "../../src/proto/provisionerd.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

const SCALE = 1 / 5;
const scaled = (ms: number) => Math.round(ms * SCALE);
/** The daemon's defaults, scaled. */
const TIMING = {
  heartbeatIntervalMs: scaled(500),
  heartbeatDeadlineMs: scaled(25_000),
  rpcTimeoutMs: scaled(30_000),
  reconnect: { initialMs: scaled(50), maxMs: scaled(10_000) },
};
const RUNS = 3;
const PLAN_LINES = 50;
const APPLY_LINES = 400;

function expectEveryLineOnce(logs: Log[]): void {
  expect(logs.map((l) => l.sequence)).toEqual(logs.map((_, i) => i + 1));
  expect(logs.map((l) => l.output).filter((o) => o !== "")).toEqual([
    ...Array.from({ length: PLAN_LINES }, (_, i) => `plan START line ${i + 1}`),
    ...Array.from({ length: APPLY_LINES }, (_, i) => `apply START line ${i + 1}`),
  ]);
}

/**
 * Starts a build, stops coderd once apply is under way and lines are flowing, keeps it down for
 * `outageMs`, and brings it back. Terraform finishes during the outage unless `applyHangs`.
 */
async function buildAcrossRestart(outageMs: number, applyHangs: boolean) {
  const h = await startHarness();
  try {
    return await restartDuringBuild(h, outageMs, applyHangs);
  } finally {
    await h.teardown();
  }
}

async function restartDuringBuild(h: Harness, outageMs: number, applyHangs: boolean) {
  const applyStarted = deferred<void>();
  const gate = deferred<void>();
  const provisioner = new ScriptProvisioner({
    planLines: PLAN_LINES,
    applyLines: APPLY_LINES,
    applyGate: gate.promise,
    onApplyStart: () => applyStarted.resolve(),
  });
  await h.daemon({ provisioners: [provisioner], ...TIMING });
  const id = h.fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({ transition: WorkspaceTransition.START, state: Buffer.from("prior") }),
    archive: Buffer.from("x"),
  });
  await applyStarted.promise;
  await h.fake.waitForLogs(id, (logs) => logs.length > PLAN_LINES + 20);
  await h.fake.stop();
  if (!applyHangs) gate.resolve();
  await new Promise((resolve) => setTimeout(resolve, outageMs));
  await h.fake.restart();
  const job = await h.fake.waitForJobEnd(id, scaled(60_000) + 10_000);
  expect(h.fake.violations).toEqual([]);
  expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  return job;
}

describe.concurrent("a coderd restart during a build", () => {
  it.each([5_000, 15_000, 20_000, 24_000])(
    "down %i ms (scaled), below the deadline: the build completes with every line once",
    async (outage) => {
      for (let run = 0; run < RUNS; run++) {
        const job = await buildAcrossRestart(scaled(outage), false);
        expect(job.terminal, `run ${run}: ${JSON.stringify(job.terminal?.message)}`).toMatchObject({
          kind: "complete",
        });
        const message = job.terminal?.kind === "complete" ? job.terminal.message : undefined;
        expect(
          message?.type?.$case === "workspaceBuild" && message.type.value.state.toString(),
        ).toBe("state:START:prior");
        expectEveryLineOnce(job.logs);
      }
    },
    60_000,
  );

  // Past the deadline the daemon gives the job up, as coderd does with a job it has not heard
  // about: Terraform is killed, and once coderd answers again it gets every line the job wrote
  // and then FailJob with code HEARTBEAT and the state Terraform left.
  it("down 40,000 ms (scaled), past the deadline: FailJob HEARTBEAT with the state, every line once", async () => {
    for (let run = 0; run < RUNS; run++) {
      const job = await buildAcrossRestart(scaled(40_000), true);
      const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
      expect(message?.errorCode, `run ${run}`).toBe("HEARTBEAT");
      expect(message?.type?.$case === "workspaceBuild" && message.type.value.state.toString()).toBe(
        "partial-after:prior",
      );
      expectEveryLineOnce(job.logs);
    }
  }, 60_000);
});
