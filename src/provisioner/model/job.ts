// Jobs as the daemon sees them, whichever protocol brought them: what a job asks for, the log
// lines it writes, and the results and failures it reports.
import { nameOf, withDefaults } from "./construct.js";
import type {
  ParameterSchema,
  ParameterValue,
  RichParameter,
  RichParameterValue,
  TemplateVariable,
  VariableValue,
} from "./parameters.js";
import type { Resource } from "./resources.js";
import type { ExternalAuthProviderResource, Module, Preset } from "./template.js";

/** Severity of one log line. */
export const LogLevel = {
  TRACE: 0,
  DEBUG: 1,
  INFO: 2,
  WARN: 3,
  ERROR: 4,
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** The name of each LogLevel value, for people and for JSON output. */
export function logLevelToJSON(value: LogLevel): string {
  return nameOf(LogLevel, value);
}

/** Which way a workspace build goes. */
export const WorkspaceTransition = {
  START: 0,
  STOP: 1,
  DESTROY: 2,
} as const;
export type WorkspaceTransition = (typeof WorkspaceTransition)[keyof typeof WorkspaceTransition];

/** The name of each WorkspaceTransition value, for people and for JSON output. */
export function workspaceTransitionToJSON(value: WorkspaceTransition): string {
  return nameOf(WorkspaceTransition, value);
}

/**
 * A git auth provider a template asks for (`data "coder_git_auth"`), with the token coderd
 * obtained for the build's owner.
 */
export interface GitAuthProvider {
  /** Provider id as configured in coderd. */
  id: string;
  /** OAuth access token; a secret, never logged. */
  accessToken: string;
}

export const GitAuthProvider = {
  create(fields: Partial<GitAuthProvider> = {}): GitAuthProvider {
    return withDefaults({ id: "", accessToken: "" }, fields);
  },
};

/**
 * What a provisioner knows about the build it runs; each field becomes a `CODER_*` variable
 * of the terraform process.
 */
export interface Metadata {
  /** coderd's URL as agents reach it (`CODER_AGENT_URL`). */
  coderUrl: string;
  /** `CODER_WORKSPACE_TRANSITION` (lower case); DESTROY also makes the plan a destroy plan. */
  workspaceTransition: WorkspaceTransition;
  /** `CODER_WORKSPACE_NAME`. */
  workspaceName: string;
  /** `CODER_WORKSPACE_OWNER` (user name). */
  workspaceOwner: string;
  /** `CODER_WORKSPACE_ID`. */
  workspaceId: string;
  /** `CODER_WORKSPACE_OWNER_ID`. */
  workspaceOwnerId: string;
  /** `CODER_WORKSPACE_OWNER_EMAIL`. */
  workspaceOwnerEmail: string;
  /** `CODER_WORKSPACE_TEMPLATE_NAME`. */
  templateName: string;
  /** `CODER_WORKSPACE_TEMPLATE_VERSION`. */
  templateVersion: string;
  /** `CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN`; a secret, never logged. */
  workspaceOwnerOidcAccessToken: string;
  /** `CODER_WORKSPACE_OWNER_SESSION_TOKEN`; a secret, never logged. */
  workspaceOwnerSessionToken: string;
  /** `CODER_WORKSPACE_TEMPLATE_ID`. */
  templateId: string;
  /** `CODER_WORKSPACE_OWNER_NAME` (the owner's full name). */
  workspaceOwnerName: string;
  /** `CODER_WORKSPACE_OWNER_GROUPS` (a JSON array of names). */
  workspaceOwnerGroups: string[];
  /** `CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY`. */
  workspaceOwnerSshPublicKey: string;
  /** `CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY`; a secret, never logged. */
  workspaceOwnerSshPrivateKey: string;
  /** `CODER_WORKSPACE_BUILD_ID`. */
  workspaceBuildId: string;
  /** `CODER_WORKSPACE_OWNER_LOGIN_TYPE` (e.g. "password", "oidc", "github"). */
  workspaceOwnerLoginType: string;
  /** `CODER_WORKSPACE_OWNER_RBAC_ROLES` (a JSON array of `{"name", "org_id"}`). */
  workspaceOwnerRbacRoles: Role[];
  /** CREATE sets `CODER_WORKSPACE_IS_PREBUILD`, CLAIM `CODER_WORKSPACE_IS_PREBUILD_CLAIM`. */
  prebuiltWorkspaceBuildStage: PrebuiltWorkspaceBuildStage;
  /**
   * `CODER_RUNNING_WORKSPACE_AGENT_TOKEN_<sha256 hex of the agent id>`: a prebuilt workspace's
   * agents keep their tokens when it is claimed. Secrets, never logged.
   */
  runningAgentAuthTokens: RunningAgentAuthToken[];
  /** `CODER_TASK_ID`. */
  taskId: string;
  /** `CODER_TASK_PROMPT`. */
  taskPrompt: string;
  /** The template version's UUID (no environment variable: the provider does not read one). */
  templateVersionId: string;
  /**
   * Id of the template version's module archive in coderd's file store (no environment
   * variable); "" when the template import kept no modules.
   */
  templateVersionModulesFile: string;
  /**
   * That archive's bytes (a tar of `.terraform/modules`), fetched by the coordinator's adapter
   * before the job starts so that `terraform init` finds the modules without a network; empty
   * absent when there is none. Not part of any wire message: coderd sends only the id.
   */
  templateVersionModuleFiles?: Buffer;
}

export const Metadata = {
  create(fields: Partial<Metadata> = {}): Metadata {
    return withDefaults(
      {
        coderUrl: "",
        workspaceTransition: 0,
        workspaceName: "",
        workspaceOwner: "",
        workspaceId: "",
        workspaceOwnerId: "",
        workspaceOwnerEmail: "",
        templateName: "",
        templateVersion: "",
        workspaceOwnerOidcAccessToken: "",
        workspaceOwnerSessionToken: "",
        templateId: "",
        workspaceOwnerName: "",
        workspaceOwnerGroups: [],
        workspaceOwnerSshPublicKey: "",
        workspaceOwnerSshPrivateKey: "",
        workspaceBuildId: "",
        workspaceOwnerLoginType: "",
        workspaceOwnerRbacRoles: [],
        prebuiltWorkspaceBuildStage: 0,
        runningAgentAuthTokens: [],
        taskId: "",
        taskPrompt: "",
        templateVersionId: "",
        templateVersionModulesFile: "",
      },
      fields,
    );
  },
};

/** A role of the workspace owner. */
export interface Role {
  name: string;
  /** "" for a site-wide role. */
  orgId: string;
}

export const Role = {
  create(fields: Partial<Role> = {}): Role {
    return withDefaults({ name: "", orgId: "" }, fields);
  },
};

/** The token an agent of a running (prebuilt) workspace already has. */
export interface RunningAgentAuthToken {
  agentId: string;
  /** A secret, never logged. */
  token: string;
}

export const RunningAgentAuthToken = {
  create(fields: Partial<RunningAgentAuthToken> = {}): RunningAgentAuthToken {
    return withDefaults({ agentId: "", token: "" }, fields);
  },
};

/** Whether a build creates a prebuilt workspace or hands one to its user. */
export const PrebuiltWorkspaceBuildStage = {
  NONE: 0,
  CREATE: 1,
  CLAIM: 2,
} as const;
export type PrebuiltWorkspaceBuildStage =
  (typeof PrebuiltWorkspaceBuildStage)[keyof typeof PrebuiltWorkspaceBuildStage];

/** How a timed step ended (STARTED: it did not, e.g. the job was killed). */
export const TimingState = {
  STARTED: 0,
  COMPLETED: 1,
  FAILED: 2,
} as const;
export type TimingState = (typeof TimingState)[keyof typeof TimingState];

/**
 * How one step of a job went, for the build timeline coderd shows: a whole stage (resource
 * `coder_stage_<stage>`) or one resource's action within it, from terraform's `-json` output.
 */
export interface Timing {
  /** Unix microseconds. */
  startUs: number;
  /** Unix microseconds. */
  endUs: number;
  /** e.g. "create", "delete", "state refresh", "provision", "terraform" (a stage). */
  action: string;
  /** The resource's provider ("coder", "terraform"...); "coder" for a stage. */
  source: string;
  /** Resource address, e.g. `module.m.aws_instance.dev[0]`. */
  resource: string;
  /** "init", "plan", "graph" or "apply". */
  stage: string;
  state: TimingState;
}

export const Timing = {
  create(fields: Partial<Timing> = {}): Timing {
    return withDefaults(
      { startUs: 0, endUs: 0, action: "", source: "", resource: "", stage: "", state: 0 },
      fields,
    );
  },
};

/** Who a daemon is. Sent with every acquire so coderd can route jobs by provisioner type and tags. */
export interface DaemonIdentity {
  /** Stable daemon id; must equal the `coder-provisioner-daemon-id` call metadata. */
  id: string;
  /** Human-readable name (host name by default). */
  name: string;
  /** Daemon version (semver). */
  version: string;
  /** Provisioner types this daemon runs (e.g. "terraform"). */
  provisioners: string[];
  /**
   * Routing tags. A job with tags runs only on a daemon carrying all of them; an untagged job
   * runs only on an untagged daemon.
   */
  tags: { [key: string]: string };
}

export const DaemonIdentity = {
  create(fields: Partial<DaemonIdentity> = {}): DaemonIdentity {
    return withDefaults({ id: "", name: "", version: "", provisioners: [], tags: {} }, fields);
  },
};

/** Unary acquire. */
export interface AcquireJobRequest {
  /** Who asks. */
  daemon?: DaemonIdentity | undefined;
  /** How long coderd may hold the call open waiting for a job (a long poll); 0 answers at once. */
  waitMs: number;
}

export const AcquireJobRequest = {
  create(fields: Partial<AcquireJobRequest> = {}): AcquireJobRequest {
    return withDefaults({ daemon: undefined, waitMs: 0 }, fields);
  },
};

/**
 * A job locked for the daemon. On the unary acquire an empty `job_id` means "no job".
 * On the stream each pushed job uses one ready slot.
 *
 * Re-sends. A job is acknowledged by the daemon's first UpdateJob for it. coderd may hand out
 * again a job it locked for a daemon id that has not acknowledged it, and nothing else:
 * * on the unary acquire, as the answer to that daemon's next AcquireJob (the answer that
 *   carried it may have been lost);
 * * on the stream, once, on a new stream of that daemon (the stream it was pushed on may have
 *   broken with the job in it), spending a ready slot like any push. A job pushed on a stream
 *   that stays open is never pushed on it again: it arrives, or the stream breaks.
 * coderd never re-sends a job that has ended or that another daemon holds. A re-send may still
 * arrive after the daemon ran the job to its end (it was in flight meanwhile), so the daemon
 * runs a job id at most once: it drops any job id it has taken before, running or ended.
 */
export interface AcquiredJob {
  /** Job UUID; "" = no job. */
  jobId: string;
  /** Job creation time, Unix milliseconds. */
  createdAt: number;
  /** Provisioner type, e.g. "terraform". */
  provisioner: string;
  /** User name of whoever started the job. */
  userName: string;
  /** The template as a tar archive (plain or gzip). */
  templateSourceArchive: Buffer;
  /** What to do. */
  type?:
    | { $case: "workspaceBuild"; value: AcquiredJob_WorkspaceBuild }
    | { $case: "templateImport"; value: AcquiredJob_TemplateImport }
    | { $case: "templateDryRun"; value: AcquiredJob_TemplateDryRun }
    | undefined;
  /** The job's routing tags (informational; coderd already matched them). */
  tags: { [key: string]: string };
}

export const AcquiredJob = {
  create(fields: Partial<AcquiredJob> = {}): AcquiredJob {
    return withDefaults(
      {
        jobId: "",
        createdAt: 0,
        provisioner: "",
        userName: "",
        templateSourceArchive: Buffer.alloc(0),
        type: undefined,
        tags: {},
      },
      fields,
    );
  },
};

/** Workspace build job. */
export interface AcquiredJob_WorkspaceBuild {
  /** Build UUID. */
  workspaceBuildId: string;
  /** Workspace name. */
  workspaceName: string;
  /** Computed legacy parameter values. */
  parameterValues: ParameterValue[];
  /** Values of the template's `coder_parameter`s for this build. */
  richParameterValues: RichParameterValue[];
  /** Managed template variable values. */
  variableValues: VariableValue[];
  /** Build metadata, every field filled. */
  metadata?: Metadata | undefined;
  /** Terraform state of the previous build ("" for the first). */
  state: Buffer;
  /** Git auth tokens for the providers the template asks for. */
  gitAuthProviders: GitAuthProvider[];
  /** Rich parameter values of the previous build, for monotonic and immutability checks. */
  previousRichParameterValues: RichParameterValue[];
  /**
   * "" normally; any other value (coderd sends "debug") asks for terraform's own log
   * (`TF_LOG`) in the job's log, each line at terraform's level.
   */
  logLevel: string;
}

export const AcquiredJob_WorkspaceBuild = {
  create(fields: Partial<AcquiredJob_WorkspaceBuild> = {}): AcquiredJob_WorkspaceBuild {
    return withDefaults(
      {
        workspaceBuildId: "",
        workspaceName: "",
        parameterValues: [],
        richParameterValues: [],
        variableValues: [],
        metadata: undefined,
        state: Buffer.alloc(0),
        gitAuthProviders: [],
        previousRichParameterValues: [],
        logLevel: "",
      },
      fields,
    );
  },
};

/** Template import job. */
export interface AcquiredJob_TemplateImport {
  /** Only `coder_url` is set. */
  metadata?: Metadata | undefined;
  /** Values the user gave for managed variables (plus the active version's values). */
  userVariableValues: VariableValue[];
}

export const AcquiredJob_TemplateImport = {
  create(fields: Partial<AcquiredJob_TemplateImport> = {}): AcquiredJob_TemplateImport {
    return withDefaults({ metadata: undefined, userVariableValues: [] }, fields);
  },
};

/** Template dry run job. */
export interface AcquiredJob_TemplateDryRun {
  /** Computed legacy parameter values. */
  parameterValues: ParameterValue[];
  /** Rich parameter values from the dry-run request. */
  richParameterValues: RichParameterValue[];
  /** Managed template variable values. */
  variableValues: VariableValue[];
  /** `coder_url` and `workspace_name`; the daemon fills in the rest. */
  metadata?: Metadata | undefined;
}

export const AcquiredJob_TemplateDryRun = {
  create(fields: Partial<AcquiredJob_TemplateDryRun> = {}): AcquiredJob_TemplateDryRun {
    return withDefaults(
      { parameterValues: [], richParameterValues: [], variableValues: [], metadata: undefined },
      fields,
    );
  },
};

/** Who wrote a log line. */
export const LogSource = {
  /** PROVISIONER_DAEMON - Stage markers and messages of the daemon itself. */
  PROVISIONER_DAEMON: 0,
  /** PROVISIONER - Lines relayed from the provisioner (Terraform), plus the quota lines. */
  PROVISIONER: 1,
} as const;
export type LogSource = (typeof LogSource)[keyof typeof LogSource];

/** The name of each LogSource value, for people and for JSON output. */
export function logSourceToJSON(value: LogSource): string {
  return nameOf(LogSource, value);
}

/** One line of a job's log. */
export interface Log {
  /** Who wrote it. */
  source: LogSource;
  /** Severity. */
  level: LogLevel;
  /** When the daemon saw the line, Unix milliseconds. */
  createdAt: number;
  /** Stage the line belongs to (e.g. "Planning infrastructure"). */
  stage: string;
  /** The text; empty for stage markers. */
  output: string;
  /**
   * Position in the job's log, from 1, without gaps. A batch that is sent again carries the
   * same numbers, so coderd keeps each line once.
   */
  sequence: number;
}

export const Log = {
  create(fields: Partial<Log> = {}): Log {
    return withDefaults(
      { source: 0, level: 0, createdAt: 0, stage: "", output: "", sequence: 0 },
      fields,
    );
  },
};

/** Heartbeat, log batch and template-import data. */
export interface UpdateJobRequest {
  /** Job UUID. */
  jobId: string;
  /** Log lines to append, in sequence order. */
  logs: Log[];
  /** Template import only: legacy parameters found by parsing the template. */
  parameterSchemas: ParameterSchema[];
  /** Template import only: managed variables found by parsing the template. */
  templateVariables: TemplateVariable[];
  /** Template import only: echo of AcquiredJob.template_import.user_variable_values. */
  userVariableValues: VariableValue[];
  /** Template import only: contents of the template's README.md. */
  readme: Buffer;
  /**
   * Template import only: each `coder_workspace_tags` tag with its value's expression as written
   * (coderd evaluates it for every build with that build's values).
   */
  workspaceTags: Record<string, string>;
}

export const UpdateJobRequest = {
  create(fields: Partial<UpdateJobRequest> = {}): UpdateJobRequest {
    return withDefaults(
      {
        jobId: "",
        logs: [],
        parameterSchemas: [],
        templateVariables: [],
        userVariableValues: [],
        readme: Buffer.alloc(0),
        workspaceTags: {},
      },
      fields,
    );
  },
};

export interface UpdateJobResponse {
  /** The user asked to cancel the job. */
  canceled: boolean;
  /** Resolved legacy values; only when parameter schemas were sent. */
  parameterValues: ParameterValue[];
  /** Resolved managed variable values; only when template variables were sent. */
  variableValues: VariableValue[];
}

export const UpdateJobResponse = {
  create(fields: Partial<UpdateJobResponse> = {}): UpdateJobResponse {
    return withDefaults({ canceled: false, parameterValues: [], variableValues: [] }, fields);
  },
};

/** Ask coderd to charge a build's daily cost against its owner's quota. */
export interface CommitQuotaRequest {
  /** Job UUID. */
  jobId: string;
  /** Sum of the planned resources' daily cost. */
  dailyCost: number;
}

export const CommitQuotaRequest = {
  create(fields: Partial<CommitQuotaRequest> = {}): CommitQuotaRequest {
    return withDefaults({ jobId: "", dailyCost: 0 }, fields);
  },
};

export interface CommitQuotaResponse {
  /** The build may go ahead. */
  ok: boolean;
  /** Credits consumed including this build. */
  creditsConsumed: number;
  /** The owner's allowance; -1 = unlimited. */
  budget: number;
}

export const CommitQuotaResponse = {
  create(fields: Partial<CommitQuotaResponse> = {}): CommitQuotaResponse {
    return withDefaults({ ok: false, creditsConsumed: 0, budget: 0 }, fields);
  },
};

/** The job failed, was cancelled, or the daemon is shutting down. */
export interface FailedJob {
  /** Job UUID. */
  jobId: string;
  /** What went wrong, for people. */
  error: string;
  type?:
    | { $case: "workspaceBuild"; value: FailedJob_WorkspaceBuild }
    | { $case: "templateImport"; value: FailedJob_TemplateImport }
    | { $case: "templateDryRun"; value: FailedJob_TemplateDryRun }
    | undefined;
  /**
   * What went wrong, for programs: e.g. "CANCELED", "QUOTA", "PARAMETERS", "ARCHIVE",
   * "TERRAFORM", "SHUTDOWN", "HEARTBEAT", "INTERNAL" (our addition; the reference had none).
   */
  errorCode: string;
  /** The stages and resource actions the job ran until it failed. */
  timings: Timing[];
}

export const FailedJob = {
  create(fields: Partial<FailedJob> = {}): FailedJob {
    return withDefaults(
      { jobId: "", error: "", type: undefined, errorCode: "", timings: [] },
      fields,
    );
  },
};

export interface FailedJob_WorkspaceBuild {
  /** Terraform state left after the failed build (may be empty); coderd keeps it. */
  state: Buffer;
}

export const FailedJob_WorkspaceBuild = {
  create(fields: Partial<FailedJob_WorkspaceBuild> = {}): FailedJob_WorkspaceBuild {
    return withDefaults({ state: Buffer.alloc(0) }, fields);
  },
};

export type FailedJob_TemplateImport = Record<string, never>;

export const FailedJob_TemplateImport = {
  create(fields: Partial<FailedJob_TemplateImport> = {}): FailedJob_TemplateImport {
    return withDefaults({}, fields);
  },
};

export type FailedJob_TemplateDryRun = Record<string, never>;

export const FailedJob_TemplateDryRun = {
  create(fields: Partial<FailedJob_TemplateDryRun> = {}): FailedJob_TemplateDryRun {
    return withDefaults({}, fields);
  },
};

/** The job succeeded. */
export interface CompletedJob {
  /** Job UUID. */
  jobId: string;
  type?:
    | { $case: "workspaceBuild"; value: CompletedJob_WorkspaceBuild }
    | { $case: "templateImport"; value: CompletedJob_TemplateImport }
    | { $case: "templateDryRun"; value: CompletedJob_TemplateDryRun }
    | undefined;
  /** The stages and resource actions the job ran (init, plan, graph, apply). */
  timings: Timing[];
}

export const CompletedJob = {
  create(fields: Partial<CompletedJob> = {}): CompletedJob {
    return withDefaults({ jobId: "", type: undefined, timings: [] }, fields);
  },
};

export interface CompletedJob_WorkspaceBuild {
  /** New Terraform state. */
  state: Buffer;
  /** Resources converted from the new state. */
  resources: Resource[];
}

export const CompletedJob_WorkspaceBuild = {
  create(fields: Partial<CompletedJob_WorkspaceBuild> = {}): CompletedJob_WorkspaceBuild {
    return withDefaults({ state: Buffer.alloc(0), resources: [] }, fields);
  },
};

export interface CompletedJob_TemplateImport {
  /** Resources of the plan with transition START. */
  startResources: Resource[];
  /** Resources of the plan with transition STOP. */
  stopResources: Resource[];
  /** `coder_parameter`s found by the START plan. */
  richParameters: RichParameter[];
  /** Ids of the `coder_git_auth` providers the template uses. */
  gitAuthProviders: string[];
  /** The modules `terraform init` installed for the START plan. */
  startModules: Module[];
  /** The START plan as `terraform show -json` prints it. */
  plan: Buffer;
  /** A tar of the module files init downloaded; empty when every module is local. */
  moduleFiles: Buffer;
  /** `coder_workspace_preset`s of the START plan. */
  presets: Preset[];
  /** The external auth providers the template asks for, with their `optional` flag. */
  externalAuthProviders: ExternalAuthProviderResource[];
  /** The template has a `coder_external_agent`. */
  hasExternalAgents: boolean;
  /** The template has a `coder_ai_task`. */
  hasAiTasks: boolean;
}

export const CompletedJob_TemplateImport = {
  create(fields: Partial<CompletedJob_TemplateImport> = {}): CompletedJob_TemplateImport {
    return withDefaults(
      {
        startResources: [],
        stopResources: [],
        richParameters: [],
        gitAuthProviders: [],
        startModules: [],
        plan: Buffer.alloc(0),
        moduleFiles: Buffer.alloc(0),
        presets: [],
        externalAuthProviders: [],
        hasExternalAgents: false,
        hasAiTasks: false,
      },
      fields,
    );
  },
};

export interface CompletedJob_TemplateDryRun {
  /** Resources of the dry-run plan. */
  resources: Resource[];
}

export const CompletedJob_TemplateDryRun = {
  create(fields: Partial<CompletedJob_TemplateDryRun> = {}): CompletedJob_TemplateDryRun {
    return withDefaults({ resources: [] }, fields);
  },
};
