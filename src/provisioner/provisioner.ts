// The contract between the daemon (src/daemon) and a provisioner (src/terraform implements it).
// The daemon knows jobs, coderd and logs; the provisioner knows how to turn a template archive,
// a transition and values into infrastructure. Neither imports the other: both import this.
import type {
  ExternalAuthProviderResource,
  GitAuthProvider,
  LogLevel,
  Metadata,
  Module,
  ParameterSchema,
  ParameterValue,
  Preset,
  Resource,
  RichParameter,
  RichParameterValue,
  TemplateVariable,
  VariableValue,
} from "./model.js";

/** One line of provisioner output. */
export interface ProvisionerLog {
  level: LogLevel;
  output: string;
}

/**
 * Receives the provisioner's log lines in order. A returned promise means the sink is full:
 * the provisioner stops reading its child's output until it settles, so a slow coderd slows
 * Terraform down instead of growing memory without bound.
 */
export type LogSink = (log: ProvisionerLog) => void | Promise<void>;

/** Cancellation for one provisioner call. */
export interface CallControl {
  /** Graceful cancel: Terraform gets SIGINT, writes its state and stops. */
  signal: AbortSignal;
  /** Forced stop: whatever is left of Terraform and its providers is killed at once. */
  killSignal?: AbortSignal;
  /** Where log lines go. */
  onLog: LogSink;
  /**
   * Told how long a step inside the call took, for metrics. `init` is the provisioner's one-off
   * preparation of the work dir (Terraform: `terraform init`), timed on its own because it
   * dominates first plans and depends on the provider mirror and plugin cache.
   */
  onTiming?: (step: ProvisionerStep, seconds: number) => void;
  /**
   * Told the process group id of each process the call starts, so that if the daemon dies
   * mid-call, the next daemon can stop what it left running.
   */
  onProcessStarted?: (processGroup: number) => void;
}

/** Steps a provisioner times inside a call. */
export type ProvisionerStep = "init";

export interface OpenSessionOptions {
  /** The template as a tar archive (plain or gzip). */
  archive: Uint8Array;
  /** Job id, used to name the work dir and in error messages. */
  jobId: string;
  /** Daemon slot (0..concurrency-1): each slot has its own provider plugin cache. */
  slot: number;
  signal: AbortSignal;
}

/** The template variables a parse found; exactly one of the two lists is used by coderd. */
export interface ParseResult {
  /** Managed variables, when the template opts in (`feature_use_managed_variables`). */
  templateVariables: TemplateVariable[];
  /** Legacy parameter schemas otherwise. */
  parameterSchemas: ParameterSchema[];
  /** The template's workspace tags (`coder_workspace_tags`), when the provisioner reads them. */
  workspaceTags?: WorkspaceTag[];
}

/** One tag of a template's `coder_workspace_tags`. */
export interface WorkspaceTag {
  key: string;
  /** The value's expression as written in the template: coderd evaluates it for each build. */
  expression: string;
  /** The value with variables and parameters at their defaults; undefined when not evaluated. */
  defaultValue: string | undefined;
  /** Where it is declared. */
  file: string;
  line: number;
}

/** What a plan or apply runs against. */
export interface ProvisionConfig {
  /** Build metadata; becomes the CODER_WORKSPACE_* environment. */
  metadata: Metadata;
  /** Prior Terraform state (empty for a first build). */
  state: Uint8Array;
}

export interface PlanRequest extends CallControl {
  config: ProvisionConfig;
  parameterValues: ParameterValue[];
  richParameterValues: RichParameterValue[];
  variableValues: VariableValue[];
  gitAuthProviders: GitAuthProvider[];
  /**
   * Also report what a template import hands coderd besides resources: the modules, the archive
   * of downloaded module files and the plan as JSON.
   */
  importResults?: boolean;
}

/** What a plan would do to one resource; a replacement deletes and creates in one. */
export type PlannedAction = "create" | "update" | "replace" | "delete" | "no-op" | "read";

export interface PlannedChange {
  /** Terraform address, e.g. `module.m.aws_instance.dev[0]`. */
  address: string;
  /** Resource type and name, as in Resource. */
  type: string;
  name: string;
  action: PlannedAction;
}

/** A root module output after the plan. A sensitive output's value is never carried. */
export interface PlannedOutput {
  name: string;
  sensitive: boolean;
  /** The value (JSON-shaped) when known and not sensitive; absent otherwise. */
  value?: unknown;
  /** False when the value is only known after apply. */
  known: boolean;
}

export interface PlanResult {
  /** Resources the plan would leave in place (converted from the plan). */
  resources: Resource[];
  /** Managed resources the plan changes or keeps, when the provisioner reports them (previews). */
  changes?: PlannedChange[];
  /** The root module's outputs, when the provisioner reports them (previews). */
  outputs?: PlannedOutput[];
  /** `coder_parameter` data sources the plan read. */
  parameters: RichParameter[];
  /** Ids of the `coder_git_auth` data sources the plan read. */
  gitAuthProviders: string[];
  /** The saved plan, to hand to apply. */
  plan: Uint8Array;
  /** With `importResults`: the modules `terraform init` installed (root module left out). */
  modules?: Module[];
  /** With `importResults`: a tar of the downloaded module files (empty when none). */
  moduleFiles?: Uint8Array;
  /** With `importResults`: the plan as `terraform show -json` prints it. */
  planJson?: Uint8Array;
  /** `coder_workspace_preset`s the plan read, when the provisioner reports them. */
  presets?: Preset[];
  /** External auth providers with their `optional` flag, when the provisioner reports them. */
  externalAuthProviders?: ExternalAuthProviderResource[];
  /** The plan has a `coder_external_agent`. */
  hasExternalAgents?: boolean;
  /** The plan has a `coder_ai_task`. */
  hasAiTasks?: boolean;
}

export interface ApplyRequest extends CallControl {
  config: ProvisionConfig;
  /** The saved plan from `plan()`. */
  plan: Uint8Array;
}

export interface ApplyResult {
  /** The new Terraform state. */
  state: Uint8Array;
  /** Resources converted from the new state. */
  resources: Resource[];
}

/** A category for failures, carried to coderd as FailedJob.error_code. */
export type ProvisionErrorCode =
  | "ARCHIVE"
  | "PARSE"
  | "CANCELED"
  | "TERRAFORM"
  | "CONVERSION"
  | "PARAMETERS"
  | "INTERNAL";

/**
 * A provisioner failure. `state` is set when Terraform left state behind (a failed or cancelled
 * apply): the daemon must hand it to coderd so nothing that was created is forgotten.
 */
export class ProvisionError extends Error {
  override readonly name = "ProvisionError";
  readonly code: ProvisionErrorCode;
  readonly state: Uint8Array | undefined;

  constructor(
    message: string,
    options: { code: ProvisionErrorCode; state?: Uint8Array; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.state = options.state;
  }
}

/** One job's view of a provisioner: a work dir with the template unpacked in it. */
export interface ProvisionSession {
  /** Absolute path of the unpacked template. */
  readonly directory: string;
  /** Contents of the template's README.md, if it has one. */
  readme(): Promise<Uint8Array | undefined>;
  parse(control: CallControl): Promise<ParseResult>;
  plan(request: PlanRequest): Promise<PlanResult>;
  apply(request: ApplyRequest): Promise<ApplyResult>;
  /**
   * A second session on its own copy of the template, whose calls may run at the same time as
   * this one's (a template import's STOP plan beside its START plan); undefined when the
   * provisioner would rather run them one after the other (too few cores). The caller closes it.
   */
  fork?(): Promise<ProvisionSession | undefined>;
  /** Removes the work dir (with retries). Idempotent; never throws. */
  close(): Promise<void>;
}

export interface Provisioner {
  /** Provisioner type this implements, e.g. "terraform". */
  readonly type: string;
  /**
   * Unpacks the archive into a fresh work dir. Rejects with ProvisionError code ARCHIVE naming
   * the offending entry when the archive is corrupt or hostile.
   */
  open(options: OpenSessionOptions): Promise<ProvisionSession>;
  /**
   * The state a session left in `directory`, the work dir of a daemon that died mid-job (its
   * processes are stopped by then), so that the job's failure can carry it. Optional.
   */
  stateLeftIn?(directory: string): Promise<Uint8Array | undefined>;
}
