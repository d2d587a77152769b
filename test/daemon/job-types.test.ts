// The three job types end to end through gRPC against the strict fake coderd, with a scripted
// provisioner: stage names, log texts and order, results, quota, failures with partial state.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FAILURE, STAGE } from "../../src/daemon/index.js";
import {
  LogLevel,
  ParameterDestination_Scheme,
  ParameterSource_Scheme,
  WorkspaceTransition,
} from "../../src/proto/provisioner.js";
import { LogSource } from "../../src/proto/provisionerd.js";
import type { EnqueueOptions } from "../fake-coderd/fake-coderd.js";
import { buildPayload, dryRunPayload, importPayload } from "../fake-coderd/payloads.js";
import { type Harness, startHarness } from "./helpers/harness.js";
import { resource, ScriptProvisioner } from "./helpers/script-provisioner.js";

const ARCHIVE = Buffer.from("not a real tar; the script provisioner ignores it");

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.teardown();
});

/** Starts a daemon with `provisioner`, hands it one job and waits for that job's end. */
async function runJob(
  provisioner: ScriptProvisioner,
  job: Omit<EnqueueOptions, "archive"> & Partial<Pick<EnqueueOptions, "archive">>,
) {
  await h.daemon({ provisioners: [provisioner] });
  return h.fake.waitForJobEnd(h.fake.enqueueJob({ archive: ARCHIVE, ...job }));
}

function stages(logs: { stage: string; output: string; source: LogSource }[]): string[] {
  const out: string[] = [];
  for (const log of logs) if (out.at(-1) !== log.stage) out.push(log.stage);
  return out;
}

describe("template import", () => {
  it("sends the README, resolves legacy parameters through coderd and plans start and stop", async () => {
    const provisioner = new ScriptProvisioner({
      readme: "# hello",
      parse: {
        templateVariables: [],
        parameterSchemas: [
          {
            name: "region",
            description: "",
            defaultSource: { scheme: ParameterSource_Scheme.DATA, value: "eu" },
            allowOverrideSource: true,
            defaultDestination: { scheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE },
            allowOverrideDestination: false,
            redisplayValue: true,
            validationTypeSystem: 0,
            validationValueType: "string",
            validationError: "",
            validationCondition: "",
            validationContains: [],
          },
        ],
      },
      resources: [resource("dev", 3)],
    });
    const job = await runJob(provisioner, {
      kind: "template_import",
      payload: importPayload(),
    });

    expect(h.fake.violations).toEqual([]);
    expect(job.terminal?.kind).toBe("complete");
    expect(job.readme?.toString()).toBe("# hello");
    expect(stages(job.logs)).toEqual([
      STAGE.settingUp,
      STAGE.addingReadme,
      STAGE.parsingParameters,
      STAGE.parseParameters,
      STAGE.persistentResources,
      STAGE.ephemeralResources,
      STAGE.cleaningUp,
    ]);
    // Markers are the daemon's, with empty output; plan lines are the provisioner's.
    const markers = job.logs.filter((l) => l.source === LogSource.PROVISIONER_DAEMON);
    expect(markers.every((l) => l.output === "")).toBe(true);
    expect(job.logs.map((l) => l.sequence)).toEqual(job.logs.map((_, i) => i + 1));
    const plans = provisioner.calls.filter((c) => c.method === "plan");
    expect(plans.map((c) => c.transition)).toEqual([
      WorkspaceTransition.START,
      WorkspaceTransition.STOP,
    ]);
    const planRequest = plans[0]?.request as { parameterValues: { name: string; value: string }[] };
    expect(planRequest.parameterValues.map((v) => [v.name, v.value])).toEqual([["region", "eu"]]);
    const result = job.terminal?.kind === "complete" ? job.terminal.message.type : undefined;
    expect(result?.$case).toBe("templateImport");
    if (result?.$case === "templateImport") {
      expect(result.value.startResources.map((r) => r.name)).toEqual(["dev"]);
      expect(result.value.stopResources.map((r) => r.name)).toEqual(["dev"]);
    }
  });

  it("fails with `missing parameter: <name>` when coderd has no value for a schema", async () => {
    const provisioner = new ScriptProvisioner({
      parse: {
        templateVariables: [],
        parameterSchemas: [
          {
            name: "instance_type",
            description: "",
            allowOverrideSource: true,
            defaultDestination: { scheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE },
            allowOverrideDestination: false,
            redisplayValue: true,
            validationTypeSystem: 0,
            validationValueType: "",
            validationError: "",
            validationCondition: "",
            validationContains: [],
          },
        ],
      },
    });
    const job = await runJob(provisioner, {
      kind: "template_import",
      payload: importPayload(),
    });
    expect(job.terminal?.kind).toBe("fail");
    expect(job.terminal?.message).toMatchObject({
      error: "missing parameter: instance_type",
      errorCode: "PARAMETERS",
    });
    expect(stages(job.logs)).toContain(STAGE.noReadme);
    expect(stages(job.logs).at(-1)).toBe(STAGE.cleaningUp);
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
    expect(h.fake.violations).toEqual([]);
  });

  it("passes coderd's refusal of required template variables through as `update job: …`", async () => {
    const provisioner = new ScriptProvisioner({
      parse: {
        parameterSchemas: [],
        templateVariables: [
          {
            name: "token",
            description: "",
            type: "string",
            defaultValue: "",
            required: true,
            sensitive: true,
          },
        ],
      },
    });
    const job = await runJob(provisioner, {
      kind: "template_import",
      payload: importPayload(),
    });
    expect(job.terminal?.message).toMatchObject({
      error: "update job: required template variables need values: token",
      errorCode: "PARAMETERS",
    });
    expect(h.fake.violations).toEqual([]);
  });

  it("fails rich parameters used with legacy parameter values as the reference does", async () => {
    const provisioner = new ScriptProvisioner({
      rich: [
        {
          name: "size",
          description: "",
          type: "string",
          mutable: true,
          defaultValue: "s",
          icon: "",
          options: [],
          validationRegex: "",
          validationError: "",
          validationMin: 0,
          validationMax: 0,
          validationMonotonic: "",
          validationMinSet: false,
          validationMaxSet: false,
          required: false,
          displayName: "",
          order: 0,
          ephemeral: false,
          formType: 0,
        },
      ],
    });
    const job = await runJob(provisioner, {
      kind: "template_dry_run",
      payload: dryRunPayload({
        parameterValues: [
          {
            name: "x",
            value: "1",
            destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
            sensitive: false,
          },
        ],
      }),
    });
    expect(job.terminal?.message).toMatchObject({
      error: `run dry-run provision job: ${FAILURE.richWithLegacy}`,
      errorCode: "PARAMETERS",
    });
  });
});

describe("template dry run", () => {
  it("fills missing metadata with the reference's defaults", async () => {
    const provisioner = new ScriptProvisioner();
    const job = await runJob(provisioner, {
      kind: "template_dry_run",
      payload: dryRunPayload(),
      userName: "",
    });
    expect(job.terminal?.kind).toBe("complete");
    const plan = provisioner.calls.find((c) => c.method === "plan")?.request;
    const meta = plan?.config.metadata;
    expect(meta?.workspaceName).toBe("dryrun");
    expect(meta?.workspaceOwner).toBe("dryrunner");
    expect(meta?.workspaceTransition).toBe(WorkspaceTransition.START);
    expect(meta?.workspaceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(meta?.workspaceOwnerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(stages(job.logs)).toEqual([
      STAGE.settingUp,
      STAGE.persistentResources,
      STAGE.cleaningUp,
    ]);
  });
});

describe("workspace build", () => {
  it("plans, commits quota with the three cost lines, applies and returns the new state", async () => {
    h.fake.quota = { budget: 100, consumed: 10 };
    const provisioner = new ScriptProvisioner({
      resources: [resource("vm", 4), resource("disk", 1)],
    });
    const job = await runJob(provisioner, {
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START, state: Buffer.from("old") }),
    });
    expect(h.fake.violations).toEqual([]);
    expect(job.terminal?.kind).toBe("complete");
    expect(stages(job.logs)).toEqual([
      STAGE.settingUp,
      STAGE.planning,
      STAGE.commitQuota,
      STAGE.starting,
      STAGE.cleaningUp,
    ]);
    const quotaLines = job.logs.filter((l) => l.stage === STAGE.commitQuota).map((l) => l.output);
    expect(quotaLines).toEqual([
      "Build cost       —   5",
      "Budget           —   100",
      "Credits consumed —   15",
    ]);
    expect(job.quota?.dailyCost).toBe(5);
    const result = job.terminal?.kind === "complete" ? job.terminal.message.type : undefined;
    expect(result?.$case === "workspaceBuild" && result.value.state.toString()).toBe(
      "state:START:old",
    );
  });

  it("fails with `insufficient quota` when the budget is exceeded, before applying", async () => {
    h.fake.quota = { budget: 3, consumed: 0 };
    const provisioner = new ScriptProvisioner({ resources: [resource("vm", 4)] });
    const job = await runJob(provisioner, {
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
    });
    expect(job.terminal?.message).toMatchObject({
      error: FAILURE.insufficientQuota,
      errorCode: "QUOTA",
    });
    const quota = job.logs.filter((l) => l.stage === STAGE.commitQuota);
    expect(quota.at(-1)).toMatchObject({
      level: LogLevel.WARN,
      output: "This build would exceed your quota. Failing.",
    });
    expect(provisioner.calls.some((c) => c.method === "apply")).toBe(false);
  });

  it("does not commit quota for a delete build", async () => {
    const provisioner = new ScriptProvisioner({ resources: [resource("vm", 4)] });
    const job = await runJob(provisioner, {
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.DESTROY, state: Buffer.from("s1") }),
    });
    expect(job.terminal?.kind).toBe("complete");
    expect(h.fake.callsOf("commitQuota")).toHaveLength(0);
    expect(stages(job.logs)).toEqual([
      STAGE.settingUp,
      STAGE.planning,
      STAGE.destroying,
      STAGE.cleaningUp,
    ]);
  });

  it("hands a failed apply's partial state back in FailJob", async () => {
    const provisioner = new ScriptProvisioner({ applyFails: "terraform apply: exit status 1" });
    const job = await runJob(provisioner, {
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.STOP, state: Buffer.from("s1") }),
    });
    const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
    expect(message?.error).toBe("terraform apply: exit status 1");
    expect(message?.errorCode).toBe("TERRAFORM");
    expect(message?.type?.$case === "workspaceBuild" && message.type.value.state.toString()).toBe(
      "partial-after:s1",
    );
    expect(await provisioner.leftoverWorkDirs()).toEqual([]);
  });

  it("fails a corrupt archive with code ARCHIVE and the provisioner's text", async () => {
    const provisioner = new ScriptProvisioner();
    const job = await runJob(provisioner, {
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("CORRUPT"),
    });
    expect(job.terminal?.message).toMatchObject({
      error: "read template source archive: unexpected end of data",
      errorCode: "ARCHIVE",
    });
    expect(h.fake.violations).toEqual([]);
  });

  it("fails a job for a provisioner the daemon does not have, and one without a type", async () => {
    await h.daemon({ provisioners: [new ScriptProvisioner(), new ScriptProvisioner({}, "echo")] });
    const id = h.fake.enqueueJob({
      kind: "workspace_build",
      provisioner: "echo",
      payload: undefined,
      archive: ARCHIVE,
    });
    const job = await h.fake.waitForJobEnd(id);
    expect(job.terminal?.kind === "fail" ? job.terminal.message.error : "").toMatch(
      /^unknown job type "<nil>"; ensure your provisioner daemon is up-to-date$/,
    );
  });
});
