// The daemon as a process: a wrong PSK exits non-zero with a message saying so (it must not
// hang), SIGTERM drains (the running job finishes, exit 0), a second signal forces (the job
// fails with the reference's text, Terraform is killed, nothing is left behind).
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { FAILURE } from "../../src/daemon/index.js";
import { DAEMON_DIED } from "../../src/daemon/leftovers.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { FakeCoderd } from "../fake-coderd/fake-coderd.js";
import { CoderModel } from "../fake-coderd/model.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { processesMatching, templateTar } from "./helpers/terraform.js";

const SCRIPT = resolve(import.meta.dirname, "helpers/daemon-process.ts");
const LONG = 120_000;

let fake: FakeCoderd | undefined;
let child: ResultPromise | undefined;
let root: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  await child?.catch(() => {});
  await fake?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
  fake = undefined;
  child = undefined;
  root = undefined;
});

/** Starts a daemon process; `again` starts it on the dirs and with the id of the last one. */
async function spawnDaemon(
  psk: string,
  again?: { daemonId: string },
): Promise<{ workDirRoot: string; daemonId: string; cacheDir: string }> {
  const tf = await getOfflineTerraform();
  if (again === undefined || root === undefined) root = mkdtempSync(join(tmpdir(), "daemon-proc-"));
  const workDirRoot = join(root, "work");
  const daemonId = again?.daemonId ?? randomUUID();
  child = execa("node", ["--import", "tsx", SCRIPT], {
    env: {
      DAEMON_PROCESS_CONFIG: JSON.stringify({
        coderUrl: fake?.url,
        psk,
        daemonId,
        workDirRoot,
        cacheDir: join(root as string, "cache"),
        mirrorDir: tf.mirrorDir,
      }),
    },
    reject: false,
    timeout: LONG,
  });
  return { workDirRoot, daemonId, cacheDir: join(root, "cache") };
}

async function slowBuild(model: CoderModel, sleep: number): Promise<string> {
  const version = model.importVersion({ archive: templateTar("slow-and-chatty") });
  await model.fake.waitForJobEnd(version.importJobId, LONG);
  return model.build({
    versionId: version.id,
    transition: WorkspaceTransition.START,
    parameterValues: [
      { name: "sleep_seconds", sourceValue: String(sleep) },
      { name: "lines", sourceValue: "20" },
    ],
  }).jobId;
}

/** A build whose terraform is sleeping (for 5 to 15 min, so its `sleep` is told apart). */
async function sleepingBuild(model: CoderModel): Promise<{ jobId: string; sleep: number }> {
  const sleep = 300 + Math.floor(Math.random() * 600);
  const jobId = await slowBuild(model, sleep);
  await model.fake.waitForLogs(
    jobId,
    (logs) => logs.some((l) => l.output.includes(`sleeping ${sleep}s`)),
    LONG,
  );
  return { jobId, sleep };
}

const dirEntries = (dir: string) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

describe("the daemon process", () => {
  it("exits non-zero, saying so, when coderd refuses its PSK", async () => {
    fake = await FakeCoderd.start();
    await spawnDaemon("definitely-the-wrong-psk");
    const result = await child;
    expect(result?.exitCode).toBe(1);
    expect(result?.stderr).toContain("coderd refused the provisioner daemon's credentials");
    expect(result?.stderr).not.toContain("definitely-the-wrong-psk");
  });

  it("drains on SIGTERM: the running job finishes and the process exits 0", async () => {
    fake = await FakeCoderd.start();
    const model = new CoderModel(fake);
    const { workDirRoot } = await spawnDaemon(fake.psk);
    const jobId = await slowBuild(model, 2);
    await fake.waitForLogs(
      jobId,
      (logs) => logs.some((l) => l.output.includes("sleeping 2s")),
      LONG,
    );
    child?.kill("SIGTERM");
    const result = await child;
    expect(result?.exitCode, String(result?.stderr)).toBe(0);
    expect(fake.job(jobId).status).toBe("succeeded");
    expect(fake.streamDaemons()).toEqual([]);
    expect(dirEntries(workDirRoot)).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("forces on a second signal: the job fails as shut down and terraform is gone", async () => {
    fake = await FakeCoderd.start();
    const model = new CoderModel(fake);
    const { workDirRoot } = await spawnDaemon(fake.psk);
    const { jobId, sleep } = await sleepingBuild(model);
    child?.kill("SIGTERM");
    // The first signal was handled once the daemon withdrew from the acquire stream.
    await fake.waitFor(() => fake?.streamDaemons().length === 0, LONG, "withdraw");
    child?.kill("SIGTERM");
    const result = await child;
    expect(result?.exitCode, String(result?.stderr)).toBe(0);
    expect(fake.job(jobId).terminal?.message).toMatchObject({
      error: FAILURE.shutdown,
      errorCode: "SHUTDOWN",
    });
    expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
    expect(dirEntries(workDirRoot)).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("after kill -9, the next daemon on the cache dir stops what was left running, fails the job and cleans up", async () => {
    fake = await FakeCoderd.start();
    const model = new CoderModel(fake);
    const first = await spawnDaemon(fake.psk);
    const { jobId, sleep } = await sleepingBuild(model);
    const records = join(first.cacheDir, "jobs");
    const [recordFile] = dirEntries(records).filter((name) => name.endsWith(".json"));
    const record = JSON.parse(readFileSync(join(records, String(recordFile)), "utf8"));
    expect(record).toMatchObject({ jobId, type: "workspaceBuild", provisioner: "terraform" });
    expect(record.processGroups.length).toBeGreaterThan(0);
    child?.kill("SIGKILL");
    await child;
    // What a SIGKILLed daemon leaves: terraform and its children running, the work dir.
    expect(processesMatching(`sleep ${sleep}`)).not.toEqual([]);
    expect(dirEntries(first.workDirRoot)).not.toEqual([]);
    expect(fake.job(jobId).terminal).toBeUndefined();

    await spawnDaemon(fake.psk, { daemonId: first.daemonId });
    const job = await fake.waitForJobEnd(jobId, LONG);
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message).toMatchObject({ error: DAEMON_DIED, errorCode: "INTERNAL" });
    // No state: the only resource was still being created (lifecycle.test.ts covers a state
    // file left in the work dir).
    expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
    // A drain waits for the failures of leftover jobs, and their clean-up, as for running jobs.
    child?.kill("SIGTERM");
    const result = await child;
    expect(result?.exitCode, String(result?.stderr)).toBe(0);
    expect(dirEntries(records)).toEqual([]);
    expect(dirEntries(first.workDirRoot)).toEqual([]);
    expect(fake.violations).toEqual([]);
  });
});
