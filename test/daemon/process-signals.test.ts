// The daemon as a process: a wrong PSK exits non-zero with a message saying so (it must not
// hang), SIGTERM drains (the running job finishes, exit 0), a second signal forces (the job
// fails with the reference's text, Terraform is killed, nothing is left behind).
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { FAILURE } from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
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

async function spawnDaemon(psk: string): Promise<{ workDirRoot: string; daemonId: string }> {
  const tf = await getOfflineTerraform();
  root = mkdtempSync(join(tmpdir(), "daemon-proc-"));
  const workDirRoot = join(root, "work");
  const daemonId = randomUUID();
  child = execa("node", ["--import", "tsx", SCRIPT], {
    env: {
      DAEMON_PROCESS_CONFIG: JSON.stringify({
        coderUrl: fake?.url,
        psk,
        daemonId,
        workDirRoot,
        cacheDir: join(root, "cache"),
        mirrorDir: tf.mirrorDir,
      }),
    },
    reject: false,
    timeout: LONG,
  });
  return { workDirRoot, daemonId };
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
    const sleep = 300 + Math.floor(Math.random() * 600);
    const jobId = await slowBuild(model, sleep);
    await fake.waitForLogs(
      jobId,
      (logs) => logs.some((l) => l.output.includes(`sleeping ${sleep}s`)),
      LONG,
    );
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
});
