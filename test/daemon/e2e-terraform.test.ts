// The whole job lifecycle with real terraform and the test `coder` provider: import → dry run
// → start → stop → delete through the daemon and the strict fake coderd, the faults (cancel
// mid-apply, force cancel, quota denied, corrupt and hostile archives, a template that fails its
// plan) and two daemons with different tags sharing one coderd.
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { FAILURE, STAGE } from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
import { type Log, LogSource } from "../../src/proto/provisionerd.js";
import type { FakeCoderd, FakeJob } from "../fake-coderd/fake-coderd.js";
import { CoderModel } from "../fake-coderd/model.js";
import { makeTar } from "../terraform/helpers/tar.js";
import { type Harness, type HarnessDaemonOptions, startHarness } from "./helpers/harness.js";
import {
  processesMatching,
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "./helpers/terraform.js";

const { START, STOP, DESTROY } = WorkspaceTransition;
const LONG = 120_000;

let scratch: TerraformScratch;
let h: Harness | undefined;
let model: CoderModel;

beforeAll(async () => {
  scratch = await terraformScratch();
});
afterAll(() => scratch.cleanup());
afterEach(async () => {
  await h?.teardown();
  h = undefined;
});

async function setup(options: Partial<HarnessDaemonOptions> = {}) {
  h = await startHarness();
  model = new CoderModel(h.fake);
  const daemon = await h.daemon({
    provisioners: [scratch.provisioner],
    heartbeatIntervalMs: 250,
    ...options,
  });
  return { fake: h.fake, daemon };
}

/** Imports the example template `name` as a new version and waits for the import job's end. */
async function importTemplate(
  name: string,
  options: Omit<Parameters<CoderModel["importVersion"]>[0], "archive"> = {},
) {
  if (!h) throw new Error("setup() first");
  const version = model.importVersion({ archive: templateTar(name), ...options });
  return { version, imported: await h.fake.waitForJobEnd(version.importJobId, LONG) };
}

/** The result of a completed workspace build; undefined when the job ended otherwise. */
function buildResult(job: FakeJob) {
  const message = job.terminal?.kind === "complete" ? job.terminal.message : undefined;
  return message?.type?.$case === "workspaceBuild" ? message.type.value : undefined;
}

function stages(logs: Log[]): string[] {
  const out: string[] = [];
  for (const log of logs) if (out.at(-1) !== log.stage) out.push(log.stage);
  return out;
}

function expectWellFormedLog(logs: Log[]) {
  expect(logs.map((l) => l.sequence)).toEqual(logs.map((_, i) => i + 1));
  expect(
    logs.filter((l) => l.source === LogSource.PROVISIONER_DAEMON).every((l) => l.output === ""),
  ).toBe(true);
  expect(logs.at(-1)?.stage).toBe(STAGE.cleaningUp);
}

describe("a workspace's life on the minimal template", () => {
  it("imports, dry-runs, starts, stops and deletes, handing state from build to build", async () => {
    const { fake } = await setup();
    const { version, imported } = await importTemplate("minimal");
    expect(imported.terminal?.kind, JSON.stringify(imported.terminal?.message)).toBe("complete");
    expect(imported.readme?.toString()).toContain("#");
    expect(stages(imported.logs)).toEqual([
      STAGE.settingUp,
      STAGE.addingReadme,
      STAGE.parsingParameters,
      STAGE.persistentResources,
      STAGE.ephemeralResources,
      STAGE.cleaningUp,
    ]);
    expectWellFormedLog(imported.logs);
    expect(
      version.startResources.map((r) => [r.type, r.name, r.agents.map((a) => a.name)]),
    ).toEqual([["terraform_data", "dev", ["main"]]]);
    expect(version.stopResources.flatMap((r) => r.agents)).toEqual([]);

    const dryRun = await fake.waitForJobEnd(model.dryRun(version.id), LONG);
    expect(dryRun.terminal?.kind).toBe("complete");
    const dryResources =
      dryRun.terminal?.kind === "complete" &&
      dryRun.terminal.message.type?.$case === "templateDryRun"
        ? dryRun.terminal.message.type.value.resources
        : [];
    expect(dryResources.map((r) => r.name)).toEqual(["dev"]);

    const started = model.build({ versionId: version.id, transition: START, name: "alice-dev" });
    const start = await fake.waitForJobEnd(started.jobId, LONG);
    expect(start.terminal?.kind, JSON.stringify(start.terminal?.message)).toBe("complete");
    expect(stages(start.logs)).toEqual([
      STAGE.settingUp,
      STAGE.planning,
      STAGE.starting,
      STAGE.cleaningUp,
    ]);
    expectWellFormedLog(start.logs);
    const startResult = buildResult(start);
    const startState = JSON.parse(Buffer.from(startResult?.state ?? []).toString()) as {
      resources: unknown[];
    };
    expect(startState.resources.length).toBeGreaterThan(0);
    const agent = startResult?.resources[0]?.agents[0];
    expect(agent?.name).toBe("main");
    expect(agent?.auth?.$case === "token" && agent.auth.value).toMatch(/^[0-9a-f-]{36}$/);

    const stopped = model.build({
      versionId: version.id,
      workspaceId: started.workspace.id,
      transition: STOP,
    });
    // coderd hands the start build's state to the stop build.
    const stopPayload = fake.job(stopped.jobId).payload.type;
    expect(
      stopPayload?.$case === "workspaceBuild" &&
        Buffer.from(stopPayload.value.state).equals(Buffer.from(startResult?.state ?? [])),
    ).toBe(true);
    const stop = await fake.waitForJobEnd(stopped.jobId, LONG);
    expect(stop.terminal?.kind, JSON.stringify(stop.terminal?.message)).toBe("complete");
    expect(stages(stop.logs)).toEqual([
      STAGE.settingUp,
      STAGE.planning,
      STAGE.stopping,
      STAGE.cleaningUp,
    ]);
    const stopResult = buildResult(stop);
    expect(stopResult?.resources.find((r) => r.name === "dev")).toBeUndefined();

    const deleted = model.build({
      versionId: version.id,
      workspaceId: started.workspace.id,
      transition: DESTROY,
    });
    const del = await fake.waitForJobEnd(deleted.jobId, LONG);
    expect(del.terminal?.kind, JSON.stringify(del.terminal?.message)).toBe("complete");
    expect(stages(del.logs)).toEqual([
      STAGE.settingUp,
      STAGE.planning,
      STAGE.destroying,
      STAGE.cleaningUp,
    ]);
    expect(started.workspace.deleted).toBe(true);
    const finalState = JSON.parse(started.workspace.state.toString()) as { resources: unknown[] };
    expect(finalState.resources).toEqual([]);

    expect(fake.callsOf("commitQuota")).toHaveLength(0);
    expect(fake.violations).toEqual([]);
    expect(scratch.workDirs()).toEqual([]);
  });
});

describe("apps, metadata, cost and quota", () => {
  it("commits the plan's cost, reports apps and metadata, and fails a build over budget", async () => {
    const { fake } = await setup();
    fake.quota = { budget: 40, consumed: 0 };
    model.gitAuthTokens = [{ id: "github", accessToken: "gho_test_token" }];
    const { version, imported } = await importTemplate("apps-and-metadata");
    expect(imported.terminal?.kind, JSON.stringify(imported.terminal?.message)).toBe("complete");
    expect(version.gitAuthProviders).toEqual(["github"]);

    const first = model.build({ versionId: version.id, transition: START });
    const build = await fake.waitForJobEnd(first.jobId, LONG);
    expect(build.terminal?.kind, JSON.stringify(build.terminal?.message)).toBe("complete");
    expect(build.logs.filter((l) => l.stage === STAGE.commitQuota).map((l) => l.output)).toEqual([
      "Build cost       —   29",
      "Budget           —   40",
      "Credits consumed —   29",
    ]);
    const result = buildResult(build);
    const vm = result?.resources.find((r) => r.name === "vm");
    expect(vm?.dailyCost).toBe(29);
    expect(vm?.metadata.map((m) => m.key)).toEqual(expect.arrayContaining(["region", "api_key"]));
    const apps = result?.resources
      .flatMap((r) => r.agents)
      .flatMap((a) => a.apps.map((app) => app.slug));
    expect(apps).toEqual(expect.arrayContaining(["code-server", "monitor", "preview", "docs"]));
    expect(result?.resources.find((r) => r.name === "home")?.hide).toBe(true);

    // A second workspace would bring consumption to 58 > 40.
    const second = model.build({ versionId: version.id, transition: START });
    const denied = await fake.waitForJobEnd(second.jobId, LONG);
    expect(denied.terminal?.message).toMatchObject({
      error: FAILURE.insufficientQuota,
      errorCode: "QUOTA",
    });
    expect(stages(denied.logs)).not.toContain(STAGE.starting);
    expect(fake.violations).toEqual([]);
  });
});

describe("parameters and variables", () => {
  it("asks for missing legacy parameters, then builds with rich, legacy and managed values", async () => {
    const { fake } = await setup();
    const { imported: missing } = await importTemplate("legacy-variables");
    expect(missing.terminal?.message).toMatchObject({
      error: "missing parameter: api_token",
      errorCode: "PARAMETERS",
    });

    const legacy = await importTemplate("legacy-variables", {
      parameterValues: [{ name: "api_token", sourceValue: "tok-123" }],
    });
    expect(legacy.imported.terminal?.kind).toBe("complete");
    const legacyBuild = await fake.waitForJobEnd(
      model.build({ versionId: legacy.version.id, transition: START }).jobId,
      LONG,
    );
    expect(legacyBuild.terminal?.kind, JSON.stringify(legacyBuild.terminal?.message)).toBe(
      "complete",
    );

    const { imported: refused } = await importTemplate("managed-variables");
    expect(refused.terminal?.message).toMatchObject({
      error: "update job: required template variables need values: registry_password",
    });
    const managed = await importTemplate("managed-variables", {
      userVariableValues: [{ name: "registry_password", value: "hunter2", sensitive: true }],
    });
    expect(managed.imported.terminal?.kind).toBe("complete");
    expect(managed.version.richParameters.map((p) => p.name)).toEqual(["Repository"]);

    const rich = await importTemplate("rich-parameters");
    expect(rich.imported.terminal?.kind).toBe("complete");
    expect(rich.version.richParameters.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        "Region",
        "CPU cores",
        "Disk size",
        "Dotfiles URL",
        "Enable Docker",
        "Project",
      ]),
    );
    const richBuild = model.build({
      versionId: rich.version.id,
      transition: START,
      richParameterValues: [
        { name: "Region", value: "us-east" },
        { name: "Project", value: "apollo" },
      ],
    });
    const built = await fake.waitForJobEnd(richBuild.jobId, LONG);
    expect(built.terminal?.kind, JSON.stringify(built.terminal?.message)).toBe("complete");
    expect(fake.violations).toEqual([]);
  });
});

describe("failures", () => {
  it("fails a template whose plan fails, with terraform's reason", async () => {
    await setup();
    const { imported: job } = await importTemplate("broken");
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message?.error).toMatch(/^template import provision for start: /);
    // Where and why, in the job's error and in its log lines, not just an exit status.
    const reason =
      'main.tf:13: Use lower-case letters, digits and dashes (value "Not Valid" does not match "^[a-z][a-z0-9-]*$")';
    expect(message?.error).toBe(
      `template import provision for start: plan terraform: terraform plan: ${reason}`,
    );
    expect(job.logs.map((l) => l.output)).toEqual(
      expect.arrayContaining([`Error: ${reason}`, '  13: data "coder_parameter" "project" {']),
    );
    expect(message?.errorCode).not.toBe("INTERNAL");
    expect(job.logs.some((l) => l.source === LogSource.PROVISIONER && l.level >= 4)).toBe(true);
    expect(scratch.workDirs()).toEqual([]);
  });

  it("fails corrupt and hostile archives with code ARCHIVE, naming the problem", async () => {
    const { fake } = await setup();
    const corrupt = fake.enqueueJob({
      kind: "template_import",
      payload: { $case: "templateImport", value: { userVariableValues: [] } },
      archive: Buffer.from(
        "this is not a tar archive, only text long enough to fill a header block. ".repeat(10),
      ),
    });
    const hostile = fake.enqueueJob({
      kind: "template_import",
      payload: { $case: "templateImport", value: { userVariableValues: [] } },
      archive: makeTar([
        { name: "main.tf", data: "" },
        { name: "../../escape.tf", data: "x" },
      ]),
    });
    const [c, e] = await Promise.all([
      fake.waitForJobEnd(corrupt, LONG),
      fake.waitForJobEnd(hostile, LONG),
    ]);
    expect(c.terminal?.message).toMatchObject({ errorCode: "ARCHIVE" });
    expect(c.terminal?.kind === "fail" && c.terminal.message.error).toContain(
      "template source archive",
    );
    expect(e.terminal?.message).toMatchObject({ errorCode: "ARCHIVE" });
    expect(e.terminal?.kind === "fail" && e.terminal.message.error).toContain("escape.tf");
    expect(fake.violations).toEqual([]);
    expect(scratch.workDirs()).toEqual([]);
  });
});

/**
 * Cancels a build while its apply sleeps, and waits for the job's end. The sleep's length is
 * random so that the orphan check finds only this test's `sleep` process.
 */
async function cancelSleepingBuild(fake: FakeCoderd) {
  const sleep = 300 + Math.floor(Math.random() * 600);
  const { version, imported } = await importTemplate("slow-and-chatty");
  expect(imported.terminal?.kind).toBe("complete");
  const { jobId } = model.build({
    versionId: version.id,
    transition: START,
    parameterValues: [
      { name: "sleep_seconds", sourceValue: String(sleep) },
      { name: "lines", sourceValue: "50" },
    ],
  });
  await fake.waitForLogs(
    jobId,
    (logs) => logs.some((l) => l.output.includes(`sleeping ${sleep}s`)),
    LONG,
  );
  fake.cancelJob(jobId);
  return { job: await fake.waitForJobEnd(jobId, LONG), sleep };
}

describe("cancellation with real terraform", () => {
  it("cancel mid-apply ends the job with partial state and leaves no process behind", async () => {
    const { fake } = await setup();
    const { job, sleep } = await cancelSleepingBuild(fake);
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message?.errorCode).toBe("CANCELED");
    expect(message?.type?.$case).toBe("workspaceBuild");
    const state =
      message?.type?.$case === "workspaceBuild" ? message.type.value.state : Buffer.alloc(0);
    expect(JSON.parse(Buffer.from(state).toString())).toHaveProperty("version");
    expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
    expect(scratch.workDirs()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  it("force-cancels when the graceful cancel takes longer than the interval", async () => {
    const { fake } = await setup({ forceCancelIntervalMs: 1 });
    const { job, sleep } = await cancelSleepingBuild(fake);
    expect(job.terminal?.message).toMatchObject({
      error: FAILURE.cancelTimedOut,
      errorCode: "CANCELED",
    });
    expect(processesMatching(`sleep ${sleep}`)).toEqual([]);
    expect(scratch.workDirs()).toEqual([]);
  });
});

describe("two tagged daemons on one coderd", () => {
  it("each takes only the jobs whose tags it carries", async () => {
    const { fake, daemon: poolA } = await setup({ tags: { pool: "a" } });
    // Its own provisioner, as a second daemon process has: two daemons' slot 0 sharing one
    // plugin cache would race in terraform init (terraform's cache is not concurrency safe).
    const poolBTerraform = await terraformScratch();
    onTestFinished(() => poolBTerraform.cleanup());
    const poolB = await h?.daemon({
      provisioners: [poolBTerraform.provisioner],
      tags: { pool: "b" },
    });
    const a = model.importVersion({ archive: templateTar("minimal"), tags: { pool: "a" } });
    const b = model.importVersion({ archive: templateTar("minimal"), tags: { pool: "b" } });
    const [ja, jb] = await Promise.all([
      fake.waitForJobEnd(a.importJobId, LONG),
      fake.waitForJobEnd(b.importJobId, LONG),
    ]);
    expect(
      [ja.terminal?.kind, jb.terminal?.kind],
      JSON.stringify([ja.terminal?.message, jb.terminal?.message]),
    ).toEqual(["complete", "complete"]);
    expect(ja.workerId).toBe(poolA.daemonId);
    expect(jb.workerId).toBe(poolB?.daemonId);
    expect(fake.violations).toEqual([]);
  });
});

describe("coderd restarts mid-job", () => {
  it("the job still completes and every log line arrives exactly once", async () => {
    const { fake } = await setup({ heartbeatDeadlineMs: 20_000 });
    const { version, imported } = await importTemplate("slow-and-chatty");
    expect(imported.terminal?.kind).toBe("complete");
    const lines = 3000;
    const { jobId } = model.build({
      versionId: version.id,
      transition: START,
      parameterValues: [
        { name: "sleep_seconds", sourceValue: "1" },
        { name: "lines", sourceValue: String(lines) },
      ],
    });
    await fake.waitForLogs(
      jobId,
      (logs) => logs.some((l) => l.output.includes("chatty line 1 of")),
      LONG,
    );
    await fake.stop();
    await vi.waitFor(() => expect(h?.log.text()).toContain("lost connection to coderd"), {
      timeout: 10_000,
      interval: 20,
    });
    await fake.restart();
    const job = await fake.waitForJobEnd(jobId, LONG);
    expect(job.terminal?.kind, JSON.stringify(job.terminal?.message)).toBe("complete");
    expectWellFormedLog(job.logs);
    const chatty = job.logs
      .map((l) => /chatty line (\d+) of/.exec(l.output)?.[1])
      .filter((n) => n !== undefined);
    expect(chatty.map(Number)).toEqual(Array.from({ length: lines }, (_, i) => i + 1));
    expect(fake.violations).toEqual([]);
  });
});
