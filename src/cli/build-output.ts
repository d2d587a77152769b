// The result of a local build, as printed with --json: everything the two jobs reported, with
// secrets (agent tokens, sensitive metadata and values) masked.
import type {
  Agent,
  App,
  CompletedJob_TemplateImport,
  Env,
  Log,
  ParameterValue,
  Resource,
  RichParameterValue,
  VariableValue,
} from "../provisioner/model.js";
import {
  AppOpenIn,
  appSharingLevelToJSON,
  logLevelToJSON,
  logSourceToJSON,
  nameOf,
  parameterDestination_SchemeToJSON,
} from "../provisioner/model.js";
import { REDACTED } from "./logger.js";
import { type PlanDetails, resourceActions } from "./plan-preview.js";
import { dailyCost } from "./result-table.js";
import type { TemplateSummary } from "./template-summary.js";

export interface JobSummary {
  status: "completed" | "failed" | "skipped";
  error?: string;
  errorCode?: string;
  durationMs: number;
}

/** Enum values by name ("owner", not 0), in the lower case of the other names in the result. */
const enumName = (json: string) => json.toLowerCase();

function appJson(app: App) {
  return {
    ...app,
    sharingLevel: enumName(appSharingLevelToJSON(app.sharingLevel)),
    openIn: enumName(nameOf(AppOpenIn, app.openIn)),
  };
}

/**
 * `coder_env` values are masked: they often carry credentials, and the conversion does not keep
 * Terraform's sensitivity, so a secret cannot be told from a plain value.
 */
function envJson(env: Env) {
  return { ...env, value: REDACTED };
}

function agentJson(agent: Agent) {
  const { auth, ...rest } = agent;
  return {
    ...rest,
    apps: agent.apps.map(appJson),
    extraEnvs: agent.extraEnvs.map(envJson),
    devcontainers: agent.devcontainers.map((devcontainer) => ({
      ...devcontainer,
      apps: devcontainer.apps.map(appJson),
      envs: devcontainer.envs.map(envJson),
    })),
    auth: auth?.$case === "instanceId" ? { instanceId: auth.value } : { token: REDACTED },
  };
}

function parameterJson(value: ParameterValue) {
  return {
    ...value,
    destinationScheme: enumName(parameterDestination_SchemeToJSON(value.destinationScheme)),
  };
}

export function resourceJson(resource: Resource) {
  return {
    ...resource,
    agents: resource.agents.map(agentJson),
    metadata: resource.metadata.map((item) =>
      item.sensitive ? { ...item, value: REDACTED } : item,
    ),
  };
}

export function logJson(job: "import" | "build", log: Log) {
  return {
    job,
    sequence: log.sequence,
    createdAt: new Date(log.createdAt).toISOString(),
    source: enumName(logSourceToJSON(log.source)),
    level: enumName(logLevelToJSON(log.level)),
    stage: log.stage,
    output: log.output,
  };
}

export interface BuildResultInput {
  template: { path: string; name: string; readme?: string };
  workspace: { name: string; owner: string; id: string; ownerId: string; transition: string };
  importJob: ImportJobSummary;
  buildJob: JobSummary & { resources?: Resource[] };
  /** Set by --plan-only: the dry run that took the build's place. */
  plan?: JobSummary & { resources?: Resource[]; details?: PlanDetails };
  stateFile?: string;
  stateWritten: boolean;
  values: {
    variables: VariableValue[];
    parameters: ParameterValue[];
    richParameters: RichParameterValue[];
  };
  logs: ReturnType<typeof logJson>[];
}

/** How the template import went, what it returned, and the workspace tags it reported. */
export type ImportJobSummary = JobSummary & {
  result?: CompletedJob_TemplateImport;
  workspaceTags?: Record<string, string>;
};

/** What the template summary shows of an import: its result and the tags it reported. */
export function importedSummary(importJob: ImportJobSummary): TemplateSummary {
  return {
    ...importJob.result,
    ...(importJob.workspaceTags ? { workspaceTags: importJob.workspaceTags } : {}),
  };
}

/** Presets, external auth providers and workspace tags, for the import results that carry them. */
function importExtras(summary: TemplateSummary) {
  return {
    ...(summary.presets ? { presets: summary.presets } : {}),
    ...(summary.externalAuthProviders
      ? { externalAuthProviders: summary.externalAuthProviders }
      : {}),
    ...(summary.workspaceTags ? { workspaceTags: summary.workspaceTags } : {}),
  };
}

export function buildResultJson(input: BuildResultInput) {
  const masked = <T extends { value: string; sensitive: boolean }>(value: T) =>
    value.sensitive ? { ...value, value: REDACTED } : value;
  const imported = input.importJob.result;
  const resources = input.buildJob.resources;
  const last = input.plan ?? input.buildJob;
  return {
    ok: input.importJob.status === "completed" && last.status === "completed",
    template: input.template,
    workspace: input.workspace,
    import: {
      status: input.importJob.status,
      ...(input.importJob.error !== undefined ? { error: input.importJob.error } : {}),
      ...(input.importJob.errorCode !== undefined ? { errorCode: input.importJob.errorCode } : {}),
      durationMs: input.importJob.durationMs,
      ...(imported
        ? {
            startResources: imported.startResources.map(resourceJson),
            stopResources: imported.stopResources.map(resourceJson),
            richParameters: imported.richParameters,
            gitAuthProviders: imported.gitAuthProviders,
            ...importExtras(importedSummary(input.importJob)),
          }
        : {}),
    },
    build: {
      status: input.buildJob.status,
      ...(input.buildJob.error !== undefined ? { error: input.buildJob.error } : {}),
      ...(input.buildJob.errorCode !== undefined ? { errorCode: input.buildJob.errorCode } : {}),
      durationMs: input.buildJob.durationMs,
      ...(resources
        ? { resources: resources.map(resourceJson), dailyCost: dailyCost(resources) }
        : {}),
      stateFile: input.stateFile ?? null,
      stateWritten: input.stateWritten,
    },
    ...(input.plan ? { plan: planJson(input.plan) } : {}),
    values: {
      variables: input.values.variables.map(masked),
      parameters: input.values.parameters.map((value) => parameterJson(masked(value))),
      richParameters: input.values.richParameters,
    },
    logs: input.logs,
  };
}

function planJson(plan: NonNullable<BuildResultInput["plan"]>) {
  const resources = plan.resources;
  const matched = resources && resourceActions(resources, plan.details?.changes ?? []);
  return {
    status: plan.status,
    ...(plan.error !== undefined ? { error: plan.error } : {}),
    ...(plan.errorCode !== undefined ? { errorCode: plan.errorCode } : {}),
    durationMs: plan.durationMs,
    ...(resources && matched
      ? {
          resources: resources.map((resource, index) => ({
            ...resourceJson(resource),
            action: matched.actions[index] ?? null,
          })),
          // Resources the plan deletes: no longer among the planned resources.
          deleted: matched.removed,
          dailyCost: dailyCost(resources),
          outputs: (plan.details?.outputs ?? []).map((output) =>
            output.sensitive ? { ...output, value: REDACTED } : output,
          ),
        }
      : {}),
  };
}
