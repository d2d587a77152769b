// Any protocol's messages -> the domain model, by field name. Every protocol we speak names its
// fields like the model does, so one mapping serves them all; a message may lack fields (they get
// the model's defaults) or carry more (they are dropped). Enum values are checked: a value the
// model has no member for (a newer peer, or ts-proto's UNRECOGNIZED) rejects with an
// UnrecognizedValueError naming the field, instead of reaching the core as a number it cannot
// handle.
import {
  AcquiredJob,
  AcquiredJob_TemplateDryRun,
  AcquiredJob_TemplateImport,
  AcquiredJob_WorkspaceBuild,
  Agent,
  Agent_Metadata,
  App,
  AppOpenIn,
  AppSharingLevel,
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  CompletedJob_TemplateDryRun,
  CompletedJob_TemplateImport,
  CompletedJob_WorkspaceBuild,
  Devcontainer,
  DisplayApps,
  Env,
  ExpirationPolicy,
  ExternalAuthProviderResource,
  FailedJob,
  FailedJob_WorkspaceBuild,
  GitAuthProvider,
  Healthcheck,
  Log,
  LogLevel,
  LogSource,
  MemoryResourceMonitor,
  Metadata,
  Module,
  memberOf,
  ParameterDestination,
  ParameterDestination_Scheme,
  ParameterFormType,
  ParameterSchema,
  ParameterSchema_TypeSystem,
  ParameterSource,
  ParameterSource_Scheme,
  ParameterValue,
  Prebuild,
  Preset,
  PresetParameter,
  Resource,
  Resource_Metadata,
  RichParameter,
  RichParameterOption,
  RichParameterValue,
  Schedule,
  Scheduling,
  Script,
  TemplateVariable,
  UpdateJobRequest,
  UpdateJobResponse,
  VariableValue,
  VolumeResourceMonitor,
  WorkspaceTransition,
} from "../../provisioner/model.js";

/**
 * A message of some protocol that names its fields like domain type T: any field may be absent,
 * enums are plain numbers, and message fields are such messages in turn.
 */
export type Wire<T> = T extends Uint8Array
  ? Uint8Array
  : T extends string | boolean
    ? T
    : T extends number
      ? number
      : T extends readonly (infer E)[]
        ? readonly Wire<E>[]
        : T extends object
          ? { readonly [K in keyof T]?: Wire<T[K]> | undefined }
          : T;

type Scalar = string | number | boolean;

/**
 * The fields of `defaults` that hold a scalar, bytes, a list of strings or a string map, copied
 * from `wire` where it has them with the same kind of value; message fields and enums are left
 * to the caller, which maps them explicitly.
 */
function scalars<T extends object>(defaults: T, wire: object): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  const source = wire as Record<string, unknown>;
  for (const [key, initial] of Object.entries(defaults)) {
    const value = source[key];
    if (value === undefined || value === null) continue;
    if (typeof initial === typeof value && isScalar(initial)) out[key] = value;
    else if (Buffer.isBuffer(initial) && value instanceof Uint8Array) out[key] = bytes(value);
    else if (Array.isArray(initial) && Array.isArray(value) && value.every(isString))
      out[key] = [...value];
    else if (isStringMap(initial) && isStringMap(value)) out[key] = { ...value };
  }
  return out as T;
}

function isScalar(value: unknown): value is Scalar {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}
function isString(value: unknown): value is string {
  return typeof value === "string";
}
function isStringMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    Object.values(value).every(isString)
  );
}
function bytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
}

function list<W, T>(
  values: readonly W[] | undefined,
  field: string,
  map: (value: W, field: string) => T,
): T[] {
  return (values ?? []).map((value, i) => map(value, `${field}[${i}]`));
}

// ---- parameters ----

export function parameterValue(w: Wire<ParameterValue>, field: string): ParameterValue {
  return {
    ...scalars(ParameterValue.create(), w),
    destinationScheme: memberOf(
      ParameterDestination_Scheme,
      w.destinationScheme ?? 0,
      `${field}.destinationScheme`,
    ),
  };
}

export function richParameterValue(w: Wire<RichParameterValue>): RichParameterValue {
  return scalars(RichParameterValue.create(), w);
}

export function variableValue(w: Wire<VariableValue>): VariableValue {
  return scalars(VariableValue.create(), w);
}

export function templateVariable(w: Wire<TemplateVariable>): TemplateVariable {
  return scalars(TemplateVariable.create(), w);
}

export function parameterSchema(w: Wire<ParameterSchema>, field: string): ParameterSchema {
  const source = w.defaultSource;
  const destination = w.defaultDestination;
  return {
    ...scalars(ParameterSchema.create(), w),
    defaultSource:
      source === undefined
        ? undefined
        : ParameterSource.create({
            ...scalars(ParameterSource.create(), source),
            scheme: memberOf(
              ParameterSource_Scheme,
              source.scheme ?? 0,
              `${field}.defaultSource.scheme`,
            ),
          }),
    defaultDestination:
      destination === undefined
        ? undefined
        : ParameterDestination.create({
            scheme: memberOf(
              ParameterDestination_Scheme,
              destination.scheme ?? 0,
              `${field}.defaultDestination.scheme`,
            ),
          }),
    validationTypeSystem: memberOf(
      ParameterSchema_TypeSystem,
      w.validationTypeSystem ?? 0,
      `${field}.validationTypeSystem`,
    ),
  };
}

export function richParameter(w: Wire<RichParameter>): RichParameter {
  return {
    ...scalars(RichParameter.create(), w),
    options: (w.options ?? []).map((o) => scalars(RichParameterOption.create(), o)),
    formType: memberOf(ParameterFormType, w.formType ?? 0, "richParameter.formType"),
  };
}

// ---- resources ----

export function resource(w: Wire<Resource>, field: string): Resource {
  return {
    ...scalars(Resource.create(), w),
    agents: list(w.agents, `${field}.agents`, agent),
    metadata: (w.metadata ?? []).map((m) => scalars(Resource_Metadata.create(), m)),
  };
}

export function agent(w: Wire<Agent>, field: string): Agent {
  const auth = w.auth;
  const monitoring = w.resourcesMonitoring;
  return {
    ...scalars(Agent.create(), w),
    apps: list(w.apps, `${field}.apps`, app),
    metadata: (w.metadata ?? []).map((m) => scalars(Agent_Metadata.create(), m)),
    displayApps:
      w.displayApps === undefined ? undefined : scalars(DisplayApps.create(), w.displayApps),
    scripts: (w.scripts ?? []).map(script),
    extraEnvs: (w.extraEnvs ?? []).map((e) => scalars(Env.create(), e)),
    resourcesMonitoring:
      monitoring === undefined
        ? undefined
        : {
            memory:
              monitoring.memory === undefined
                ? undefined
                : scalars(MemoryResourceMonitor.create(), monitoring.memory),
            volumes: (monitoring.volumes ?? []).map((v) =>
              scalars(VolumeResourceMonitor.create(), v),
            ),
          },
    devcontainers: list(w.devcontainers, `${field}.devcontainers`, (d, at) => ({
      ...scalars(Devcontainer.create(), d),
      apps: list(d.apps, `${at}.apps`, app),
      scripts: (d.scripts ?? []).map(script),
      envs: (d.envs ?? []).map((e) => scalars(Env.create(), e)),
    })),
    auth:
      auth?.$case === "token" || auth?.$case === "instanceId"
        ? { $case: auth.$case, value: auth.value ?? "" }
        : undefined,
  };
}

export function app(w: Wire<App>, field: string): App {
  return {
    ...scalars(App.create(), w),
    healthcheck:
      w.healthcheck === undefined ? undefined : scalars(Healthcheck.create(), w.healthcheck),
    sharingLevel: memberOf(AppSharingLevel, w.sharingLevel ?? 0, `${field}.sharingLevel`),
    openIn: memberOf(AppOpenIn, w.openIn ?? 0, `${field}.openIn`),
  };
}

function script(w: Wire<Script>): Script {
  return scalars(Script.create(), w);
}

// ---- jobs ----

export function metadata(w: Wire<Metadata> | undefined, field: string): Metadata | undefined {
  if (w === undefined) return undefined;
  return {
    ...scalars(Metadata.create(), w),
    workspaceTransition: memberOf(
      WorkspaceTransition,
      w.workspaceTransition ?? 0,
      `${field}.workspaceTransition`,
    ),
  };
}

export function acquiredJob(w: Wire<AcquiredJob>): AcquiredJob {
  const job = scalars(AcquiredJob.create(), w);
  const type = w.type;
  switch (type?.$case) {
    case "workspaceBuild": {
      const v = type.value ?? {};
      const at = "job.workspaceBuild";
      job.type = {
        $case: "workspaceBuild",
        value: {
          ...scalars(AcquiredJob_WorkspaceBuild.create(), v),
          parameterValues: list(v.parameterValues, `${at}.parameterValues`, parameterValue),
          richParameterValues: (v.richParameterValues ?? []).map(richParameterValue),
          variableValues: (v.variableValues ?? []).map(variableValue),
          metadata: metadata(v.metadata, `${at}.metadata`),
          gitAuthProviders: (v.gitAuthProviders ?? []).map((p) =>
            scalars(GitAuthProvider.create(), p),
          ),
          previousRichParameterValues: (v.previousRichParameterValues ?? []).map(
            richParameterValue,
          ),
        },
      };
      break;
    }
    case "templateImport": {
      const v = type.value ?? {};
      job.type = {
        $case: "templateImport",
        value: AcquiredJob_TemplateImport.create({
          metadata: metadata(v.metadata, "job.templateImport.metadata"),
          userVariableValues: (v.userVariableValues ?? []).map(variableValue),
        }),
      };
      break;
    }
    case "templateDryRun": {
      const v = type.value ?? {};
      const at = "job.templateDryRun";
      job.type = {
        $case: "templateDryRun",
        value: AcquiredJob_TemplateDryRun.create({
          parameterValues: list(v.parameterValues, `${at}.parameterValues`, parameterValue),
          richParameterValues: (v.richParameterValues ?? []).map(richParameterValue),
          variableValues: (v.variableValues ?? []).map(variableValue),
          metadata: metadata(v.metadata, `${at}.metadata`),
        }),
      };
      break;
    }
  }
  return job;
}

export function updateJobResponse(w: Wire<UpdateJobResponse>): UpdateJobResponse {
  return UpdateJobResponse.create({
    canceled: w.canceled ?? false,
    parameterValues: list(w.parameterValues, "response.parameterValues", parameterValue),
    variableValues: (w.variableValues ?? []).map(variableValue),
  });
}

export function commitQuotaResponse(w: Wire<CommitQuotaResponse>): CommitQuotaResponse {
  return scalars(CommitQuotaResponse.create(), w);
}

// ---- what the daemon sends, read back (fakes and round-trip checks) ----

export function log(w: Wire<Log>, field: string): Log {
  return {
    ...scalars(Log.create(), w),
    source: memberOf(LogSource, w.source ?? 0, `${field}.source`),
    level: memberOf(LogLevel, w.level ?? 0, `${field}.level`),
  };
}

export function updateJobRequest(w: Wire<UpdateJobRequest>): UpdateJobRequest {
  return {
    ...scalars(UpdateJobRequest.create(), w),
    logs: list(w.logs, "request.logs", log),
    parameterSchemas: list(w.parameterSchemas, "request.parameterSchemas", parameterSchema),
    templateVariables: (w.templateVariables ?? []).map(templateVariable),
    userVariableValues: (w.userVariableValues ?? []).map(variableValue),
  };
}

export function commitQuotaRequest(w: Wire<CommitQuotaRequest>): CommitQuotaRequest {
  return scalars(CommitQuotaRequest.create(), w);
}

export function failedJob(w: Wire<FailedJob>): FailedJob {
  const failed = scalars(FailedJob.create(), w);
  const type = w.type;
  switch (type?.$case) {
    case "workspaceBuild":
      failed.type = {
        $case: "workspaceBuild",
        value: scalars(FailedJob_WorkspaceBuild.create(), type.value ?? {}),
      };
      break;
    case "templateImport":
    case "templateDryRun":
      failed.type = { $case: type.$case, value: {} };
      break;
  }
  return failed;
}

export function completedJob(w: Wire<CompletedJob>): CompletedJob {
  const completed = scalars(CompletedJob.create(), w);
  const type = w.type;
  switch (type?.$case) {
    case "workspaceBuild": {
      const v = type.value ?? {};
      completed.type = {
        $case: "workspaceBuild",
        value: {
          ...scalars(CompletedJob_WorkspaceBuild.create(), v),
          resources: list(v.resources, "job.workspaceBuild.resources", resource),
        },
      };
      break;
    }
    case "templateImport": {
      const v = type.value ?? {};
      completed.type = {
        $case: "templateImport",
        value: {
          ...scalars(CompletedJob_TemplateImport.create(), v),
          startResources: list(v.startResources, "job.templateImport.startResources", resource),
          stopResources: list(v.stopResources, "job.templateImport.stopResources", resource),
          richParameters: (v.richParameters ?? []).map(richParameter),
          startModules: (v.startModules ?? []).map((m) => scalars(Module.create(), m)),
          presets: (v.presets ?? []).map(preset),
          externalAuthProviders: (v.externalAuthProviders ?? []).map((p) =>
            scalars(ExternalAuthProviderResource.create(), p),
          ),
        },
      };
      break;
    }
    case "templateDryRun": {
      const v = type.value ?? {};
      completed.type = {
        $case: "templateDryRun",
        value: CompletedJob_TemplateDryRun.create({
          resources: list(v.resources, "job.templateDryRun.resources", resource),
        }),
      };
      break;
    }
  }
  return completed;
}

function preset(w: Wire<Preset>): Preset {
  const prebuild = w.prebuild;
  const scheduling = prebuild?.scheduling;
  return {
    ...scalars(Preset.create(), w),
    parameters: (w.parameters ?? []).map((p) => scalars(PresetParameter.create(), p)),
    prebuild:
      prebuild === undefined
        ? undefined
        : {
            ...scalars(Prebuild.create(), prebuild),
            expirationPolicy:
              prebuild.expirationPolicy === undefined
                ? undefined
                : scalars(ExpirationPolicy.create(), prebuild.expirationPolicy),
            scheduling:
              scheduling === undefined
                ? undefined
                : {
                    ...scalars(Scheduling.create(), scheduling),
                    schedule: (scheduling.schedule ?? []).map((x) => scalars(Schedule.create(), x)),
                  },
          },
  };
}
