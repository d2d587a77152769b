// Acquiring (stream, poll, fallback), slots, tags, and the lifecycle: drain, cancel, close,
// max-jobs, fatal authentication refusal, coderd cancel and force cancel.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { deferred } from "../../src/daemon/abort.js";
import {
  AuthenticationRefusedError,
  CacheDirInUseError,
  CLAIM_FILE,
  createDaemon,
  DaemonIdError,
  type DaemonObserver,
  DaemonOptionsError,
  FAILURE,
  loadOrCreateDaemonId,
} from "../../src/daemon/index.js";
import { DAEMON_DIED } from "../../src/daemon/leftovers.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import type { FakeCoderdOptions } from "../fake-coderd/fake-coderd.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

const ARCHIVE = Buffer.from("script");
let h: Harness | undefined;

async function harness(options?: FakeCoderdOptions): Promise<Harness> {
  h = await startHarness(options);
  return h;
}
afterEach(async () => {
  await h?.teardown();
  h = undefined;
});

function build(hh: Harness, extra: { tags?: Record<string, string>; state?: string } = {}): string {
  return hh.fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({
      transition: WorkspaceTransition.START,
      state: Buffer.from(extra.state ?? ""),
    }),
    archive: ARCHIVE,
    ...(extra.tags ? { tags: extra.tags } : {}),
  });
}

/** A provisioner whose applies wait for `open()`; `started` resolves per job id. */
function gatedProvisioner() {
  const gate = deferred<void>();
  const started = new Map<string, () => void>();
  const startedPromises = new Map<string, Promise<void>>();
  const applyStarted = (jobId: string) => {
    let p = startedPromises.get(jobId);
    if (!p) {
      p = new Promise<void>((resolve) => started.set(jobId, resolve));
      startedPromises.set(jobId, p);
    }
    return p;
  };
  const provisioner = new ScriptProvisioner({
    applyGate: gate.promise,
    onApplyStart: (jobId) => {
      void applyStarted(jobId);
      started.get(jobId)?.();
    },
  });
  return { provisioner, open: () => gate.resolve(), applyStarted };
}

describe("acquiring", () => {
  it("takes a job pushed on the stream by an idle daemon, without any unary acquire", async () => {
    const hh = await harness();
    const daemon = await hh.daemon({ provisioners: [new ScriptProvisioner()] });
    await hh.fake.waitFor(
      () => hh.fake.streamDaemons().find((d) => d.slots === 1),
      5_000,
      "stream readiness",
    );
    const id = build(hh);
    const job = await hh.fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    expect(job.workerId).toBe(daemon.daemonId);
    expect(hh.fake.callsOf("acquireJob")).toHaveLength(0);
    expect(daemon.connected).toBe(true);
    expect(daemon.state).toBe("running");
  });

  it("polls with the unary acquire when asked to", async () => {
    const hh = await harness();
    await hh.daemon({
      provisioners: [new ScriptProvisioner()],
      acquireMode: "poll",
      pollWaitMs: 0,
    });
    const id = build(hh);
    const job = await hh.fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    expect(hh.fake.callsOf("acquireJob").length).toBeGreaterThan(0);
    expect(hh.fake.callsOf("streamAcquireJobs")).toHaveLength(0);
  });

  it("falls back to (long) polling when coderd has no acquire stream", async () => {
    const hh = await harness({ withoutStream: true });
    await hh.daemon({ provisioners: [new ScriptProvisioner()], pollWaitMs: 5_000 });
    await hh.fake.waitFor(() => hh.fake.callsOf("acquireJob").length > 0, 5_000, "a unary acquire");
    expect(hh.log.text()).toContain("polling instead");
    const id = build(hh);
    const job = await hh.fake.waitForJobEnd(id);
    expect(job.terminal?.kind).toBe("complete");
    expect(hh.fake.callsOf("acquireJob").length).toBeGreaterThan(0);
  });

  it("is never pushed more jobs than it offered, even when slots free while jobs are in flight", async () => {
    const hh = await harness();
    await hh.daemon({ provisioners: [new ScriptProvisioner()], concurrency: 2 });
    await hh.fake.waitFor(
      () => hh.fake.streamDaemons().find((d) => d.slots === 2),
      5_000,
      "stream readiness",
    );
    const ids = Array.from({ length: 40 }, () => build(hh));
    await Promise.all(ids.map((id) => hh.fake.waitForJobEnd(id)));
    expect(ids.map((id) => hh.fake.job(id).status)).toEqual(ids.map(() => "succeeded"));
    // A job pushed beyond the offered credits would have to wait inside the daemon.
    expect(hh.log.text()).not.toContain("job arrived with every slot busy");
    // Once idle again, the daemon has offered exactly its two slots: no credit leaked or lost.
    await hh.fake.waitFor(
      () => hh.fake.streamDaemons().find((d) => d.slots === 2),
      5_000,
      "both credits offered again",
    );
    expect(hh.fake.streamDaemons().map((d) => d.slots)).toEqual([2]);
  });

  it("runs up to `concurrency` jobs at once, each in its own slot", async () => {
    const hh = await harness();
    const gated = gatedProvisioner();
    await hh.daemon({ provisioners: [gated.provisioner], concurrency: 2 });
    const [a, b, c] = [build(hh), build(hh), build(hh)];
    await Promise.all([gated.applyStarted(a), gated.applyStarted(b)]);
    expect(hh.fake.job(c).status).toBe("pending");
    const slots = gated.provisioner.calls
      .filter((call) => call.method === "open")
      .map((call) => call.slot);
    expect(slots.sort()).toEqual([0, 1]);
    gated.open();
    await Promise.all([a, b, c].map((id) => hh.fake.waitForJobEnd(id)));
    expect([a, b, c].map((id) => hh.fake.job(id).status)).toEqual([
      "succeeded",
      "succeeded",
      "succeeded",
    ]);
    expect(await gated.provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("gives two daemons with different tags only their own jobs (and untagged jobs only to the untagged one)", async () => {
    const hh = await harness();
    const poolA = await hh.daemon({
      provisioners: [new ScriptProvisioner()],
      tags: { pool: "a" },
      concurrency: 2,
    });
    const poolB = await hh.daemon({
      provisioners: [new ScriptProvisioner()],
      tags: { pool: "b", gpu: "yes" },
      concurrency: 2,
    });
    const plain = await hh.daemon({ provisioners: [new ScriptProvisioner()], concurrency: 2 });
    const jobs = {
      a1: build(hh, { tags: { pool: "a" } }),
      b1: build(hh, { tags: { pool: "b" } }),
      b2: build(hh, { tags: { pool: "b", gpu: "yes" } }),
      u1: build(hh),
      a2: build(hh, { tags: { pool: "a" } }),
      u2: build(hh),
    };
    await Promise.all(Object.values(jobs).map((id) => hh.fake.waitForJobEnd(id)));
    const worker = (id: string) => hh.fake.job(id).workerId;
    expect([worker(jobs.a1), worker(jobs.a2)]).toEqual([poolA.daemonId, poolA.daemonId]);
    expect([worker(jobs.b1), worker(jobs.b2)]).toEqual([poolB.daemonId, poolB.daemonId]);
    expect([worker(jobs.u1), worker(jobs.u2)]).toEqual([plain.daemonId, plain.daemonId]);
    expect(hh.fake.violations).toEqual([]);
  });
});

describe("lifecycle", () => {
  it("stops with AuthenticationRefusedError when the PSK is wrong, and never logs the PSK", async () => {
    const hh = await harness();
    const daemon = createDaemon({
      coderUrl: hh.fake.url,
      psk: "wrong-psk-value-123",
      daemonId: "6b0a4f3e-2f59-4c4b-9d3e-0a1b2c3d4e5f",
      provisioners: [new ScriptProvisioner()],
      logger: hh.log.logger,
    });
    await daemon.start();
    await expect(daemon.done).rejects.toBeInstanceOf(AuthenticationRefusedError);
    expect(daemon.state).toBe("stopped");
    expect(hh.log.text()).not.toContain("wrong-psk-value-123");
    expect(hh.log.text()).toContain("pre-shared key is invalid");
  });

  it("rejects bad options with one error naming the fields", () => {
    expect(() =>
      createDaemon({ coderUrl: "ftp://x", psk: "", provisioners: [], concurrency: 0 } as never),
    ).toThrow(DaemonOptionsError);
    try {
      createDaemon({ coderUrl: "ftp://x", psk: "", provisioners: [], concurrency: 0 } as never);
    } catch (error) {
      const text = (error as Error).message;
      for (const field of ["coderUrl", "psk", "provisioners", "concurrency"])
        expect(text).toContain(field);
    }
  });

  it("drain: stops acquiring (withdraws), lets the running job finish, then stops", async () => {
    const hh = await harness();
    const gated = gatedProvisioner();
    const daemon = await hh.daemon({ provisioners: [gated.provisioner] });
    const first = build(hh);
    await gated.applyStarted(first);
    const stopped = daemon.shutdown({ mode: "drain" });
    expect(daemon.state).toBe("draining");
    await hh.fake.waitFor(() => hh.fake.streamDaemons().length === 0, 5_000, "withdraw");
    const second = build(hh);
    gated.open();
    await stopped;
    await expect(daemon.done).resolves.toBeUndefined();
    expect(daemon.state).toBe("stopped");
    expect(hh.fake.job(first).status).toBe("succeeded");
    expect(hh.fake.job(second).status).toBe("pending");
  });

  it("cancel: cancels the running job gracefully; it fails with its partial state", async () => {
    const hh = await harness();
    const started = deferred<void>();
    const provisioner = new ScriptProvisioner({
      applyWaitsForCancel: true,
      onApplyStart: () => started.resolve(),
    });
    const daemon = await hh.daemon({ provisioners: [provisioner] });
    const id = build(hh, { state: "prior" });
    await started.promise;
    await daemon.shutdown({ mode: "cancel" });
    const job = hh.fake.job(id);
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message?.errorCode).toBe("SHUTDOWN");
    expect(message?.error).toBe(
      "canceled: provisioner daemon is shutting down: terraform apply: interrupted",
    );
    expect(message?.type?.$case === "workspaceBuild" && message.type.value.state.toString()).toBe(
      "partial-after:prior",
    );
    expect(daemon.state).toBe("stopped");
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("close: fails running jobs with the reference's text and kills what ignores the cancel", async () => {
    const hh = await harness();
    const started = deferred<void>();
    const provisioner = new ScriptProvisioner({
      applyIgnoresCancel: true,
      onApplyStart: () => started.resolve(),
    });
    const daemon = await hh.daemon({ provisioners: [provisioner] });
    const id = build(hh, { state: "prior" });
    await started.promise;
    await Promise.all([daemon.close(), daemon.close()]);
    const job = hh.fake.job(id);
    expect(job.terminal?.message).toMatchObject({ error: FAILURE.shutdown, errorCode: "SHUTDOWN" });
    const apply = provisioner.calls.find((c) => c.method === "apply")?.request;
    expect(apply?.killSignal?.aborted).toBe(true);
    expect(daemon.state).toBe("stopped");
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
    expect(hh.fake.violations).toEqual([]);
  });

  it("max jobs: takes that many jobs, finishes them and stops", async () => {
    const hh = await harness();
    const a = build(hh);
    const b = build(hh);
    const daemon = await hh.daemon({ provisioners: [new ScriptProvisioner()], maxJobs: 1 });
    await daemon.done;
    expect(daemon.state).toBe("stopped");
    expect(hh.fake.job(a).status).toBe("succeeded");
    expect(hh.fake.job(b).status).toBe("pending");
  });

  it("keeps its daemon id across restarts in the cache dir, and names a corrupt id file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "daemon-id-"));
    const first = await loadOrCreateDaemonId(dir);
    expect(await loadOrCreateDaemonId(dir)).toBe(first);
    const other = await mkdtemp(join(tmpdir(), "daemon-id-"));
    await writeFile(join(other, "daemon-id"), "not-a-uuid\n");
    await expect(loadOrCreateDaemonId(other)).rejects.toThrow(DaemonIdError);
    await expect(loadOrCreateDaemonId(other)).rejects.toThrow(join(other, "daemon-id"));
  });
});

describe("the cache dir", () => {
  it("belongs to one daemon process: a second daemon refuses it, naming the owner", async () => {
    const hh = await harness();
    const cacheDir = await mkdtemp(join(tmpdir(), "daemon-cache-"));
    const first = await hh.daemon({ provisioners: [new ScriptProvisioner()], cacheDir });
    expect(readFileSync(join(cacheDir, CLAIM_FILE), "utf8").trim()).toBe(String(process.pid));
    // The second daemon must not take the id and plugin caches of the first.
    const foreignOwner = spawn("sleep", ["30"]);
    onTestFinished(() => void foreignOwner.kill());
    await writeFile(join(cacheDir, CLAIM_FILE), `${foreignOwner.pid}\n`);
    const second = createDaemon({
      coderUrl: hh.fake.url,
      psk: hh.fake.psk,
      cacheDir,
      provisioners: [new ScriptProvisioner()],
    });
    const refused = await second.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(CacheDirInUseError);
    expect((refused as Error).message).toContain(
      `is in use by another provisioner daemon (pid ${foreignOwner.pid})`,
    );
    expect((refused as Error).message).toContain(cacheDir);
    expect(first.state).toBe("running");
  });

  it("takes over a claim whose process is gone, and gives it up when it stops", async () => {
    const hh = await harness();
    const cacheDir = await mkdtemp(join(tmpdir(), "daemon-cache-"));
    const gone = spawn("true");
    await new Promise((resolve) => gone.on("exit", resolve));
    await writeFile(join(cacheDir, CLAIM_FILE), `${gone.pid}\n`);
    const daemon = await hh.daemon({ provisioners: [new ScriptProvisioner()], cacheDir });
    expect(readFileSync(join(cacheDir, CLAIM_FILE), "utf8").trim()).toBe(String(process.pid));
    await daemon.close();
    expect(existsSync(join(cacheDir, CLAIM_FILE))).toBe(false);
  });
});

describe("jobs a dead daemon left", () => {
  it("are failed with the state left in their work dir; their processes are stopped, dir and record removed", async () => {
    const hh = await harness();
    const cacheDir = await mkdtemp(join(tmpdir(), "daemon-cache-"));
    const workDir = await mkdtemp(join(tmpdir(), "leftover-work-"));
    await writeFile(join(workDir, "terraform.tfstate"), '{"serial":7}');
    const daemonId = randomUUID();
    const id = build(hh);
    // The job as coderd sees it after the daemon that ran it was SIGKILLed: running, acknowledged.
    Object.assign(hh.fake.job(id), { status: "running", workerId: daemonId, acknowledged: true });
    const left = spawn("sleep", ["600"], { cwd: workDir, detached: true });
    // A recorded group id that was reused meanwhile by a process working elsewhere.
    const stranger = spawn("sleep", ["600"], { detached: true });
    onTestFinished(() => void stranger.kill("SIGKILL"));
    const leftExit = new Promise((resolve) => left.on("exit", (_code, signal) => resolve(signal)));
    await mkdir(join(cacheDir, "jobs"));
    const record = join(cacheDir, "jobs", `${id}.json`);
    await writeFile(
      record,
      JSON.stringify({
        jobId: id,
        type: "workspaceBuild",
        provisioner: "terraform",
        pid: 999_999,
        workDir,
        processGroups: [left.pid, stranger.pid],
      }),
    );
    const daemon = await hh.daemon({ provisioners: [new ScriptProvisioner()], cacheDir, daemonId });
    expect(await leftExit).toBe("SIGINT");
    const job = await hh.fake.waitForJobEnd(id);
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message).toMatchObject({ error: DAEMON_DIED, errorCode: "INTERNAL" });
    expect(message?.type?.$case === "workspaceBuild" && message.type.value.state.toString()).toBe(
      '{"serial":7}',
    );
    await daemon.shutdown();
    expect(existsSync(workDir)).toBe(false);
    expect(existsSync(record)).toBe(false);
    expect(stranger.exitCode).toBeNull();
    expect(hh.fake.violations).toEqual([]);
  });
});

describe("cancellation from coderd", () => {
  it("cancels the provisioner gracefully when an update says canceled; partial state is kept", async () => {
    const hh = await harness();
    const started = deferred<string>();
    const provisioner = new ScriptProvisioner({
      applyWaitsForCancel: true,
      onApplyStart: (id) => started.resolve(id),
    });
    await hh.daemon({ provisioners: [provisioner] });
    const id = build(hh, { state: "prior" });
    await started.promise;
    hh.fake.cancelJob(id);
    const job = await hh.fake.waitForJobEnd(id);
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message).toMatchObject({ error: "terraform apply: interrupted", errorCode: "CANCELED" });
    expect(message?.type?.$case === "workspaceBuild" && message.type.value.state.toString()).toBe(
      "partial-after:prior",
    );
    const apply = provisioner.calls.find((c) => c.method === "apply")?.request;
    expect(apply?.signal.aborted).toBe(true);
    expect(apply?.killSignal?.aborted).toBe(false);
  });

  it("force-cancels after the interval: `Cancel timed out`, and the provisioner is killed", async () => {
    const hh = await harness();
    const started = deferred<void>();
    const provisioner = new ScriptProvisioner({
      applyIgnoresCancel: true,
      onApplyStart: () => started.resolve(),
    });
    await hh.daemon({ provisioners: [provisioner], forceCancelIntervalMs: 300 });
    const id = build(hh);
    await started.promise;
    hh.fake.cancelJob(id);
    const job = await hh.fake.waitForJobEnd(id);
    expect(job.terminal?.message).toMatchObject({
      error: FAILURE.cancelTimedOut,
      errorCode: "CANCELED",
    });
    const apply = provisioner.calls.find((c) => c.method === "apply")?.request;
    expect(apply?.killSignal?.aborted).toBe(true);
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("fails the job locally and kills the provisioner when heartbeats fail past the deadline", async () => {
    const hh = await harness();
    const started = deferred<void>();
    const finished = deferred<{ status: string; errorCode?: string }>();
    const observer: DaemonObserver = { jobFinished: (_job, result) => finished.resolve(result) };
    const provisioner = new ScriptProvisioner({
      applyIgnoresCancel: true,
      onApplyStart: () => started.resolve(),
    });
    await hh.daemon({ provisioners: [provisioner], heartbeatDeadlineMs: 600, observer });
    build(hh);
    await started.promise;
    await hh.fake.stop();
    // The failure is delivered, and the job finished, once coderd is back.
    await hh.log.waitForLine((l) => l.msg === "lost contact with coderd; failing the job", "loss");
    await hh.fake.restart();
    const result = await finished.promise;
    expect(result).toMatchObject({ status: "failed", errorCode: "HEARTBEAT" });
    const apply = provisioner.calls.find((c) => c.method === "apply")?.request;
    expect(apply?.killSignal?.aborted).toBe(true);
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });
});
