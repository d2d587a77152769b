// Terraform state that coderd does not take (it refuses the terminal message for good, or never
// answers before the daemon gives up) is kept in <cache dir>/rescued-state/<job>.tfstate, 0600,
// and the log names that file. The script provisioner returns fixed state bytes, so nothing here
// depends on when terraform persists its state.
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { RESCUED_STATE_DIR } from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import type { FakeMethod } from "../fake-coderd/fake-coderd.js";
import { buildPayload, importPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { type Script, ScriptProvisioner } from "./helpers/script-provisioner.js";

const RESCUED_MESSAGE = "the Terraform state it carried was saved to this file";

let h: Harness | undefined;
let cacheDir: string | undefined;
afterEach(async () => {
  await h?.teardown();
  h = undefined;
  if (cacheDir !== undefined) await rm(cacheDir, { recursive: true, force: true });
  cacheDir = undefined;
});

/** A daemon with its own cache dir whose coderd refuses every `method` call for good. */
async function refusing(method: FakeMethod, script: Script = {}) {
  cacheDir = await mkdtemp(join(tmpdir(), "rescued-state-cache-"));
  h = await startHarness();
  h.fake.inject(method, { kind: "refuse", code: status.FAILED_PRECONDITION }, Infinity);
  const provisioner = new ScriptProvisioner(script);
  const daemon = await h.daemon({ provisioners: [provisioner], cacheDir });
  return { harness: h, daemon, provisioner, cacheDir };
}

function build(harness: Harness, prior: string): string {
  return harness.fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({ transition: WorkspaceTransition.START, state: Buffer.from(prior) }),
    archive: Buffer.from("script"),
  });
}

/** Waits until coderd has refused `method` for the job; the job's run then ends on its own. */
function refused(harness: Harness, method: string, jobId: string) {
  return harness.log.waitForLine(
    (l) => l.msg === `send ${method}` && l.jobId === jobId,
    `the refused ${method}`,
    30_000,
  );
}

/** The rescue line of a run that has ended (close() waits for every run). */
function rescuedLine(harness: Harness): Record<string, unknown> | undefined {
  return harness.log.lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((l) => String(l.msg).includes(RESCUED_MESSAGE));
}

/** The file the log names holds exactly `bytes`, 0600, and is the only thing kept. */
async function expectRescued(
  line: Record<string, unknown> | undefined,
  cache: string,
  jobId: string,
  bytes: string,
) {
  expect(line?.jobId).toBe(jobId);
  const file = line?.file;
  const directory = join(cache, RESCUED_STATE_DIR);
  expect(file).toBe(join(directory, `${jobId}.tfstate`));
  expect(await readFile(String(file), "utf8")).toBe(bytes);
  expect((await stat(String(file))).mode & 0o777).toBe(0o600);
  expect((await stat(directory)).mode & 0o777).toBe(0o700);
  expect(await readdir(directory)).toEqual([`${jobId}.tfstate`]);
}

describe("state coderd did not take is kept on this host", () => {
  it("a refused CompleteJob: the build's state is saved and the log names the file", async () => {
    const { harness, daemon, provisioner, cacheDir: cache } = await refusing("completeJob");
    const id = build(harness, "prior");
    await refused(harness, "CompleteJob", id);
    await daemon.close();
    await expectRescued(rescuedLine(harness), cache, id, "state:START:prior");
    // Nothing else stays behind: the job's record and work dir are gone, coderd got no result.
    expect(await readdir(join(cache, "jobs")).catch(() => [])).toEqual([]);
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
    expect(harness.fake.job(id).terminal).toBeUndefined();
  });

  it("a refused FailJob: the failed apply's partial state is saved", async () => {
    const {
      harness,
      daemon,
      provisioner,
      cacheDir: cache,
    } = await refusing("failJob", {
      applyFails: "terraform apply: boom",
    });
    const id = build(harness, "prior");
    await refused(harness, "FailJob", id);
    await daemon.close();
    await expectRescued(rescuedLine(harness), cache, id, "partial-after:prior");
    expect(await readdir(join(cache, "jobs")).catch(() => [])).toEqual([]);
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("a CompleteJob coderd never answers: the state is saved when the daemon gives up", async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "rescued-state-cache-"));
    h = await startHarness();
    h.fake.inject("completeJob", { kind: "refuse", code: status.UNAVAILABLE }, Infinity);
    const daemon = await h.daemon({
      provisioners: [new ScriptProvisioner()],
      cacheDir,
      closeTimeoutMs: 200,
    });
    const id = build(h, "prior");
    await h.log.waitForLine((l) => l.msg === "retrying terminal message", "a CompleteJob retry");
    expect(await readdir(join(cacheDir, RESCUED_STATE_DIR)).catch(() => [])).toEqual([]);
    await daemon.close();
    await expectRescued(rescuedLine(h), cacheDir, id, "state:START:prior");
  });

  it("a refused CompleteJob of a template import keeps nothing: it carries no state", async () => {
    const { harness, daemon, cacheDir: cache } = await refusing("completeJob");
    const id = harness.fake.enqueueJob({
      kind: "template_import",
      payload: importPayload(),
      archive: Buffer.from("script"),
    });
    await refused(harness, "CompleteJob", id);
    await daemon.close();
    expect(await readdir(join(cache, RESCUED_STATE_DIR)).catch(() => [])).toEqual([]);
    expect(rescuedLine(harness)).toBeUndefined();
  });
});
