// coderd hands out again a job whose acknowledgement it has not seen (proto/provisionerd.proto,
// AcquiredJob): a re-send can still be on its way when the job has ended. Each job must start
// exactly once. The race is made certain, not likely: acknowledgements are held back, and the
// fake holds each re-sent push until the daemon is done with the job it carries.
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.teardown();
  h = undefined;
});

function enqueueBuild(harness: Harness): string {
  return harness.fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({ transition: WorkspaceTransition.START }),
    archive: Buffer.from("x"),
  });
}

/**
 * A daemon whose re-sent jobs the fake holds until the daemon is done with them (the job ended
 * and left its slot); `resent` lists them.
 */
async function daemonWithHeldResends(harness: Harness, provisioner: ScriptProvisioner) {
  const slotChanges = new EventEmitter();
  const resent: string[] = [];
  let daemon: Daemon | undefined;
  const doneWith = (jobId: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (daemon?.runningJobs.includes(jobId)) return;
        slotChanges.off("change", check);
        resolve();
      };
      slotChanges.on("change", check);
      check();
    });
  harness.fake.beforePush = async (job, resend) => {
    if (!resend) return;
    resent.push(job.id);
    await harness.fake.waitForJobEnd(job.id);
    await doneWith(job.id);
  };
  daemon = await harness.daemon({
    provisioners: [provisioner],
    // A second slot, so that a daemon busy with one job still offers a credit to re-send on.
    concurrency: 2,
    observer: { slotsChanged: () => slotChanges.emit("change") },
  });
  return { resent };
}

function opensPerJob(provisioner: ScriptProvisioner): Map<string, number> {
  const opens = new Map<string, number>();
  for (const call of provisioner.calls.filter((c) => c.method === "open"))
    opens.set(call.jobId, (opens.get(call.jobId) ?? 0) + 1);
  return opens;
}

describe("jobs coderd hands out again", () => {
  it("starts each of 30 jobs exactly once at concurrency 2 while acknowledgements lag", async () => {
    h = await startHarness();
    const fake = h.fake;
    fake.inject("updateJob", { kind: "delay", ms: 20 }, 100_000);
    const provisioner = new ScriptProvisioner({ planLines: 2, applyLines: 2 });
    const { resent } = await daemonWithHeldResends(h, provisioner);
    const ids = Array.from({ length: 30 }, () => enqueueBuild(h as Harness));
    for (const id of ids) await fake.waitForJobEnd(id, 60_000);
    expect(ids.map((id) => fake.job(id).terminal?.kind)).toEqual(ids.map(() => "complete"));
    expect(opensPerJob(provisioner)).toEqual(new Map(ids.map((id) => [id, 1])));
    expect(resent).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("does not run again a job re-sent on a new stream that arrives after the job ended", async () => {
    h = await startHarness();
    const fake = h.fake;
    const provisioner = new ScriptProvisioner({ planLines: 2, applyLines: 2 });
    const { resent } = await daemonWithHeldResends(h, provisioner);
    // Every UpdateJob of the job is dropped until the stream has been reopened, so the job is
    // still unacknowledged when the new stream asks for work.
    fake.inject("updateJob", { kind: "refuse" }, 100_000);
    const id = enqueueBuild(h);
    await fake.waitFor(() => fake.callsOf("updateJob", id).length > 0, 10_000, "an UpdateJob");
    await fake.restart();
    await fake.waitFor(() => resent.includes(id), 10_000, "the re-send of the job");
    fake.clearFaults();
    const job = await fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    // The held re-send reaches the daemon now; a second run would open the job again and send
    // UpdateJob for an ended job (a violation). A job enqueued after it shows the push went by.
    const next = enqueueBuild(h);
    await fake.waitForJobEnd(next);
    expect(opensPerJob(provisioner)).toEqual(
      new Map([
        [id, 1],
        [next, 1],
      ]),
    );
    expect(fake.violations).toEqual([]);
  });
});
