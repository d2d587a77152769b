// The coderd v2 adapter against the strict dRPC fake: acquisition over AcquireJobWithCancel
// (one open stream per free slot; draining ends every open stream with CancelAcquire, and a job
// coderd locks at that moment still runs), and a workspace's whole life (import, dry run,
// start, stop, delete) with real terraform, through the helper the v0.17 tests use.
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { CoderdCredential } from "../../src/coderd/handshake.js";
import type * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { deferred } from "../../src/daemon/abort.js";
import type { Daemon, DaemonOptions } from "../../src/daemon/index.js";
import { ScriptProvisioner } from "../daemon/helpers/script-provisioner.js";
import {
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "../daemon/helpers/terraform.js";
import type { FakeCoderdDrpc, FakeJob, FakeOptions } from "./fake-coderd-drpc.js";
import {
  buildJob,
  type CoderdSetup,
  ended,
  importJob,
  LIFECYCLE_TIMEOUT,
  LONG,
  lifecycle,
  startV2,
  V2_DAEMON_NAME,
  withBuildFields,
} from "./helpers/coderd-daemon.js";

describe("daemon over the coderd v2 adapter", () => {
  let scratch: TerraformScratch;
  let setup: CoderdSetup | undefined;
  let fake: FakeCoderdDrpc;

  beforeAll(async () => {
    scratch = await terraformScratch();
  });
  afterAll(() => scratch.cleanup());
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  async function start(
    credential?: CoderdCredential,
    fakeOptions: Partial<FakeOptions> = {},
    daemonOptions: Partial<DaemonOptions> = {},
  ): Promise<Daemon> {
    setup = await startV2(scratch, {
      ...(credential ? { credential } : {}),
      fake: fakeOptions,
      daemon: daemonOptions,
    });
    fake = setup.fake;
    return setup.daemon;
  }

  it("drains an idle daemon at once, ending its open acquire with CancelAcquire", async () => {
    const d = await start();
    await vi.waitFor(() => expect(fake.waiting).toBe(1), { timeout: 10_000, interval: 10 });
    const began = performance.now();
    await d.shutdown({ mode: "drain" });
    await d.done;
    const ms = performance.now() - began;
    expect(fake.cancelAcquires).toBe(1);
    expect(fake.waiting).toBe(0);
    expect(ms).toBeLessThan(1_000);
  });

  it("holds one acquire per idle slot and drains them all at once", async () => {
    const d = await start(undefined, {}, { concurrency: 3 });
    await vi.waitFor(() => expect(fake.waiting).toBe(3), { timeout: 10_000, interval: 10 });
    const began = performance.now();
    await d.shutdown({ mode: "drain" });
    await d.done;
    const ms = performance.now() - began;
    expect(fake.cancelAcquires).toBe(3);
    expect(fake.waiting).toBe(0);
    expect(d.state).toBe("stopped");
    expect(ms).toBeLessThan(1_000);
    expect(fake.violations).toEqual([]);
  });

  it("runs three jobs queued at once side by side, and acquires no more while they run", {
    timeout: LONG,
  }, async () => {
    const gate = deferred<void>();
    const applying = new Set<string>();
    const provisioner = new ScriptProvisioner({
      applyGate: gate.promise,
      onApplyStart: (jobId) => applying.add(jobId),
    });
    await start(undefined, {}, { concurrency: 3, provisioners: [provisioner] });
    await vi.waitFor(() => expect(fake.waiting).toBe(3), { timeout: 10_000, interval: 10 });
    const jobs = ["1", "2", "3"].map((n) =>
      fake.enqueue({
        provisioner: "terraform",
        userName: "admin",
        templateSourceArchive: templateTar("minimal"),
        type: {
          $case: "workspaceBuild",
          value: {
            workspaceBuildId: `0b5a5f5e-1111-4222-8333-94444555566${n}`,
            workspaceName: `ws${n}`,
            metadata: { coderUrl: "http://coder", workspaceName: `ws${n}`, workspaceOwner: "a" },
          },
        },
      }),
    );
    // Every apply is held at the gate, so all three are running at the same moment.
    await vi.waitFor(() => expect(applying.size).toBe(3), { timeout: 10_000, interval: 10 });
    expect([...applying].sort()).toEqual(jobs.map((j) => j.id).sort());
    // Every slot is busy: no acquire may be open, or coderd could lock a job with no slot for it.
    expect(fake.waiting).toBe(0);
    gate.resolve();
    for (const job of jobs) expect((await ended(job)).state).toBe("completed");
    await vi.waitFor(() => expect(fake.waiting).toBe(3), { timeout: 10_000, interval: 10 });
    expect(fake.violations).toEqual([]);
  });

  it("runs a job coderd locks for it while it drains", { timeout: LONG }, async () => {
    let raced: FakeJob | undefined;
    const d = await start(undefined, {
      onCancelAcquire: () => {
        raced = fake.enqueue(importJob(templateTar("minimal")));
      },
    });
    await vi.waitFor(() => expect(fake.waiting).toBe(1), { timeout: 10_000, interval: 10 });
    await d.shutdown({ mode: "drain" });
    await d.done;
    expect(fake.cancelAcquires).toBe(1);
    expect(raced?.owner).toBe(fake.daemons[0]?.owner);
    expect(raced?.state).toBe("completed");
    expect(raced?.failure).toBeUndefined();
    expect(fake.violations).toEqual([]);
  });

  it("imports, dry-runs, starts, stops and deletes, handing state from build to build", {
    timeout: LIFECYCLE_TIMEOUT,
  }, async () => {
    await start();
    const { imported, start: started } = await lifecycle(fake, {
      build: (job) => withBuildFields(job, { logLevel: "debug" }),
    });
    const updates = imported.updates as v2.UpdateJobRequest[];
    expect(updates.flatMap((u) => u.logs.map((l) => l.output)).join("\n")).toMatch(/Terraform/);
    const build = (started.terminal as v2.CompletedJob).type;
    if (build?.$case !== "workspaceBuild") throw new Error("not a workspace build result");
    expect(build.value.resources.flatMap((r) => r.agents).length).toBeGreaterThan(0);
    // Timings: every stage the build ran, and each resource the apply created, with real times.
    const timings = build.value.timings;
    const named = (stage: string, resource: string) =>
      timings.filter((t) => t.stage === stage && t.resource === resource);
    for (const stage of ["init", "plan", "graph", "apply"]) {
      expect(named(stage, `coder_stage_${stage}`).length, stage).toBeGreaterThan(0);
    }
    for (const resource of ["coder_agent.main", "terraform_data.dev[0]"]) {
      expect(named("apply", resource).map((t) => [t.action, t.state])).toEqual([["create", 1]]);
    }
    const micros = (t?: { seconds: number; nanos: number }) =>
      t === undefined ? 0 : t.seconds * 1e6 + t.nanos / 1e3;
    for (const timing of timings) {
      expect(micros(timing.start)).toBeGreaterThan(Date.parse("2020-01-01") * 1000);
      expect(micros(timing.end)).toBeGreaterThanOrEqual(micros(timing.start));
    }
    // log_level "debug": terraform's own log is in the build's log.
    const buildLogs = (started.updates as v2.UpdateJobRequest[]).flatMap((u) => u.logs);
    expect(buildLogs.map((l) => l.output)).toContainEqual(
      expect.stringMatching(/^Terraform version: /),
    );

    expect(fake.daemons.map((x) => [x.name, x.credential, x.apiVersion])).toEqual([
      [V2_DAEMON_NAME, "psk", "1.18"],
    ]);
  });

  it("stops with one line naming the PSK when coderd refuses it", async () => {
    const d = await start({ kind: "psk", psk: "not-the-psk" });
    await expect(d.done).rejects.toThrow(/401.*we sent a provisioner daemon PSK/);
  });

  it("stops with coderd's versions when coderd is older than the API it claims", async () => {
    const d = await start(undefined, { apiMinor: 17 });
    await expect(d.done).rejects.toThrow(
      /400.*server is at version 1\.17, behind requested minor version 1\.18/,
    );
  });

  it("authenticates with a provisioner key, taking its organization and tags", async () => {
    const key = "k".repeat(43);
    await start(
      { kind: "provisioner-key", key },
      {
        provisionerKeys: {
          [key]: { organization: "8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab", tags: { pool: "gpu" } },
        },
      },
    );
    await vi.waitFor(() => expect(fake.waiting).toBe(1), { timeout: 10_000, interval: 10 });
    expect(fake.daemons.map((x) => [x.credential, x.tags])).toEqual([
      ["provisioner-key", { pool: "gpu", scope: "organization" }],
    ]);
  });

  it("keeps reporting a job after its connection is cut mid-apply, under the same name", {
    timeout: LONG,
  }, async () => {
    await start();
    const job = fake.enqueue(buildJob(templateTar("slow-and-chatty"), { sleep_seconds: "3" }));
    const logged = () =>
      (job.updates as v2.UpdateJobRequest[]).flatMap((u) => u.logs.map((l) => l.output));
    await vi.waitFor(() => expect(logged().join("\n")).toMatch(/sleeping 3s/), {
      timeout: LONG,
      interval: 20,
    });
    const cutAt = job.updates.length;
    fake.connections[0]?.session.close();
    await ended(job);
    expect(job.failure).toBeUndefined();
    expect(job.state).toBe("completed");
    expect(fake.daemons.length).toBeGreaterThanOrEqual(2);
    expect(new Set(fake.daemons.map((x) => x.owner)).size).toBe(1);
    expect(job.updates.length).toBeGreaterThan(cutAt);
    expect(fake.violations).toEqual([]);
  });
});
