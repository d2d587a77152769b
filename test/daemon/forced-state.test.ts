// A forced end of a workspace build (the daemon closing, the force-cancel timer) still hands
// coderd whatever state the killed provisioner call returned: the resources it created exist.
import { afterEach, describe, expect, it } from "vitest";
import { deferred } from "../../src/daemon/abort.js";
import { FAILURE } from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.teardown();
  h = undefined;
});

/** A daemon whose apply only stops when killed, and one started build with `prior` state. */
async function killableBuild(options: { forceCancelIntervalMs?: number } = {}) {
  h = await startHarness();
  const started = deferred<void>();
  const provisioner = new ScriptProvisioner({
    applyIgnoresCancel: true,
    onApplyStart: () => started.resolve(),
  });
  const daemon = await h.daemon({ provisioners: [provisioner], ...options });
  const id = h.fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({ transition: WorkspaceTransition.START, state: Buffer.from("prior") }),
    archive: Buffer.from("script"),
  });
  await started.promise;
  return { harness: h, daemon, id, provisioner };
}

function failedState(harness: Harness, id: string): string | undefined {
  const message = harness.fake.job(id).terminal?.message;
  if (message === undefined || !("errorCode" in message)) return undefined;
  return message.type?.$case === "workspaceBuild" ? message.type.value.state.toString() : undefined;
}

describe("a killed build keeps its state", () => {
  it("daemon close (the second signal) fails the job with the killed apply's state", async () => {
    const { harness, daemon, id, provisioner } = await killableBuild();
    await daemon.close();
    expect(harness.fake.job(id).terminal?.message).toMatchObject({
      error: FAILURE.shutdown,
      errorCode: "SHUTDOWN",
    });
    expect(failedState(harness, id)).toBe("partial-after:prior");
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("the force-cancel timer fails the job with the killed apply's state", async () => {
    const { harness, id } = await killableBuild({ forceCancelIntervalMs: 300 });
    harness.fake.cancelJob(id);
    await harness.fake.waitForJobEnd(id);
    expect(harness.fake.job(id).terminal?.message).toMatchObject({
      error: FAILURE.cancelTimedOut,
      errorCode: "CANCELED",
    });
    expect(failedState(harness, id)).toBe("partial-after:prior");
  });
});
