// One job's work dir and the parse/plan/apply calls on it; state goes in before a plan or
// apply and comes back out with the result.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { deferred } from "../daemon/abort.js";
import { FAILURE_PREFIX } from "../daemon/job-texts.js";
import { SerialQueue } from "../daemon/serial.js";
import { parseTemplate, TerraformInputError, toTerraformInputs } from "../parameters/index.js";
import { LogLevel, type Metadata, WorkspaceTransition } from "../provisioner/model.js";
import {
  type ApplyRequest,
  type ApplyResult,
  type CallControl,
  type ParseResult,
  type PlanRequest,
  type PlanResult,
  type ProvisionConfig,
  ProvisionError,
  type ProvisionErrorCode,
  type ProvisionSession,
  type WorkspaceTag,
} from "../provisioner/provisioner.js";
import { ArchiveError, defaultArchiveLimits, unpackArchive } from "./archive.js";
import type { TerraformBinary } from "./binary.js";
import { ConversionError } from "./convert/attributes.js";
import { convertResources } from "./convert/resources.js";
import {
  basicEnvironment,
  type Environment,
  metadataSecrets,
  provisionEnvironment,
  terraformVariableLogs,
} from "./environment.js";
import {
  type CommandControl,
  TerraformCanceledError,
  TerraformCommandError,
  TerraformExecutor,
} from "./executor.js";
import type { InitCache } from "./init-cache.js";
import {
  appliedState,
  type DependencyGraph,
  type OutputSource,
  planDependencyGraph,
} from "./job-outputs.js";
import {
  MAX_MODULE_ARCHIVE_BYTES,
  type ModulesManifest,
  ModulesManifestError,
  moduleArchive,
  readModulesManifest,
} from "./modules.js";
import { planPreview } from "./plan-preview.js";
import { CommandStartError } from "./process.js";
import {
  type Redactor,
  SecretMasker,
  type SensitiveValue,
  unmaskedSecretNotice,
} from "./redact.js";
import { parsePlanJson, planModules, TerraformJsonError } from "./terraform-json.js";
import { TimingRecorder } from "./timings.js";
import { type VariableTypes, varFileName, varFileText } from "./var-file.js";
import {
  applyPlanFileName,
  checkWrittenFiles,
  removeWorkDir,
  stateFileName,
  WorkDirError,
  writeWorkFile,
} from "./workdir.js";
import { readWorkspaceTags } from "./workspace-tags.js";

export const reusedInitLine =
  "Reusing terraform init of an earlier job: same template, lock file, provider mirror and terraform";

export interface SessionContext {
  directory: string;
  jobId: string;
  binary: TerraformBinary;
  /** Inherited environment with CODER_* removed. */
  inherited: Environment;
  /** TF_IN_AUTOMATION, TF_CLI_CONFIG_FILE, TF_PLUGIN_CACHE_DIR... */
  controlled: Environment;
  gracePeriodMs: number;
  /** The slot's saved init results and this template's key among them; absent: always init. */
  initReuse?: { cache: InitCache; key: string };
  /**
   * Opens a sibling session on the same archive and slot; absent when calls may not run side by
   * side. The sibling waits for this session's init and then reuses it.
   */
  fork?: (initSettled: Promise<void>) => Promise<ProvisionSession>;
  /** Settles once the session this one was forked from has initialized (or given up). */
  initSettled?: Promise<void>;
  /** Where the dependency graph and the applied state come from (default: derived). */
  outputSource?: OutputSource;
  logger?: Logger;
}

export class TerraformSession implements ProvisionSession {
  readonly directory: string;
  private readonly executor: TerraformExecutor;
  private initialized = false;
  /** The job's module files are in `.terraform/modules` (once per work dir, like init). */
  private modulesUnpacked = false;
  /**
   * Secrets seen by this session's plans. Apply gets no values (the plan file has them), yet
   * terraform may print them while applying (a local-exec echo), so they stay redacted there.
   */
  private readonly secrets = new SecretMasker();
  /** Secrets too short to mask whose names this job's log has told already. */
  private readonly toldUnmasked = new Set<string>();
  private closed: Promise<void> | undefined;
  /** The template's variables, parsed once: the work dir's configuration does not change. */
  private parsed: ParseResult | undefined;
  private workspaceTags: WorkspaceTag[] | undefined;
  /** Calls on one work dir never overlap: they share terraform.tfstate and .terraform/. */
  private readonly queue = new SerialQueue();
  /** Resolved when this session's init settled or its first call ended: a fork's go-ahead. */
  private readonly initGate = deferred<void>();
  /** The last plan's dependency graph: the apply's state has the same configuration. */
  private planGraph: DependencyGraph | undefined;

  constructor(private readonly context: SessionContext) {
    this.directory = context.directory;
    this.executor = new TerraformExecutor({
      binary: context.binary,
      directory: context.directory,
      basicEnv: basicEnvironment(context.inherited, context.controlled),
      gracePeriodMs: context.gracePeriodMs,
      logger: context.logger,
    });
  }

  private get outputSource(): OutputSource {
    return this.context.outputSource ?? "derived";
  }

  async readme(): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(this.directory, "README.md")));
    } catch {
      return undefined;
    }
  }

  parse(control: CallControl): Promise<ParseResult> {
    return this.exclusive(async () => {
      try {
        const parsed = await this.parseOnce(control.signal);
        // Only an import reads the workspace tags: a build of a template with a tag coderd
        // cannot evaluate must not fail for it.
        this.workspaceTags ??= await readWorkspaceTags(
          this.directory,
          variableDefaults(parsed),
          control.signal,
        );
        return { ...parsed, workspaceTags: this.workspaceTags };
      } catch (error) {
        if (control.signal.aborted)
          throw provisionError(FAILURE_PREFIX.terraformParse, error, "CANCELED");
        throw provisionError(FAILURE_PREFIX.terraformParse, error, "PARSE");
      }
    });
  }

  plan(request: PlanRequest): Promise<PlanResult> {
    const planned = this.exclusive(() => this.runPlan(request));
    // A fork must not wait for a plan that never reached init (a failure before it).
    planned.then(
      () => this.initGate.resolve(),
      () => this.initGate.resolve(),
    );
    return planned;
  }

  apply(request: ApplyRequest): Promise<ApplyResult> {
    return this.exclusive(() => this.runApply(request));
  }

  async fork(): Promise<ProvisionSession | undefined> {
    return this.context.fork?.(this.initGate.promise);
  }

  close(): Promise<void> {
    this.closed ??= this.queue.run(async () => {
      const error = await removeWorkDir(this.directory);
      if (error !== undefined) {
        this.context.logger?.warn(
          { err: error, directory: this.directory },
          "work dir removal failed",
        );
      }
    });
    return this.closed;
  }

  private async runPlan(request: PlanRequest): Promise<PlanResult> {
    let inputs: ReturnType<typeof toTerraformInputs>;
    try {
      inputs = toTerraformInputs(request);
    } catch (error) {
      if (error instanceof TerraformInputError)
        throw provisionError(FAILURE_PREFIX.terraformPlan, error, "PARAMETERS");
      throw error;
    }
    const redact = this.secrets.redact;
    const control = this.commandControl(request, redact);
    const timings = new TimingRecorder();
    try {
      await this.addSecrets(control, [
        ...inputs.secrets,
        ...metadataSecrets(request.config.metadata),
        ...request.gitAuthProviders.map((provider) => ({
          label: `git auth provider ${JSON.stringify(provider.id)}`,
          value: provider.accessToken,
        })),
      ]);
      if (!(await this.prepare(control, request.config, timings))) {
        return { resources: [], parameters: [], gitAuthProviders: [], plan: new Uint8Array() };
      }
      const env = provisionEnvironment(this.context.inherited, this.context.controlled, {
        metadata: request.config.metadata,
        parameterEnv: inputs.env,
        gitAuthProviders: request.gitAuthProviders,
        terraformLog: Boolean(request.config.logLevel),
      });
      const varFile = await this.writeVarFile(inputs.vars, request.signal);
      let planFile: string;
      try {
        planFile = await timings.stage("plan", () =>
          this.executor.plan(control, {
            env,
            destroy: isDestroy(request.config.metadata),
            ...(varFile === undefined ? {} : { varFile }),
            onJsonLine: (line) => timings.line("plan", line),
          }),
        );
      } finally {
        // The plan file has the values now; the secrets need not sit on disk any longer.
        if (varFile !== undefined) await rm(varFile, { force: true });
      }
      const { plan, planText, converted } = await timings.graph(async () => {
        const planText = await this.executor.showPlanText(control, planFile);
        const plan = parsePlanJson(planText);
        const graph = await planDependencyGraph(
          this.outputSource,
          plan,
          this.directory,
          () => this.executor.graph(control),
          this.context.logger,
        );
        this.planGraph = graph;
        return { plan, planText, converted: convertResources(planModules(plan), graph) };
      });
      return {
        resources: converted.resources,
        parameters: converted.parameters,
        gitAuthProviders: converted.gitAuthProviders,
        presets: converted.presets,
        externalAuthProviders: converted.externalAuthProviders,
        hasExternalAgents: converted.hasExternalAgents,
        hasAiTasks: converted.hasAiTasks,
        ...planPreview(plan),
        plan: new Uint8Array(await readFile(planFile)),
        ...(request.importResults ? await this.importResults(control, planText) : {}),
      };
    } catch (error) {
      throw provisionError(FAILURE_PREFIX.terraformPlan, error, undefined, redact);
    } finally {
      control.onTimings?.(timings.timings());
    }
  }

  private async runApply(request: ApplyRequest): Promise<ApplyResult> {
    const redact = this.secrets.redact;
    const control = this.commandControl(request, redact);
    const timings = new TimingRecorder();
    try {
      // Apply may run in a session that planned nothing (a daemon's plan and apply split).
      await this.addSecrets(control, metadataSecrets(request.config.metadata));
      if (!(await this.prepare(control, request.config, timings))) {
        return { state: new Uint8Array(), resources: [] };
      }
      const planFile = await writeWorkFile(this.directory, applyPlanFileName, request.plan);
      // Reference quirk kept on purpose: apply gets no parameter variables. The saved plan
      // already fixes every value, so passing them again could only disagree with it.
      const env = provisionEnvironment(this.context.inherited, this.context.controlled, {
        metadata: request.config.metadata,
        parameterEnv: {},
        gitAuthProviders: [],
        terraformLog: Boolean(request.config.logLevel),
      });
      await timings.stage("apply", () =>
        this.executor.apply(control, {
          env,
          planFile,
          onJsonLine: (line) => timings.line("apply", line),
        }),
      );
      return await timings.graph(async () => {
        const state = await this.readState();
        const applied = await appliedState(
          this.outputSource,
          state,
          this.planGraph,
          {
            showState: () => this.executor.showState(control),
            graph: () => this.executor.graph(control),
          },
          this.context.logger,
        );
        const converted = convertResources(applied.modules, applied.graph);
        return { state, resources: converted.resources };
      });
    } catch (error) {
      // Whatever terraform managed to write is returned, so nothing created is forgotten.
      const state = await this.readState().catch(() => new Uint8Array());
      throw provisionError(FAILURE_PREFIX.terraformApply, error, undefined, redact, state);
    } finally {
      control.onTimings?.(timings.timings());
    }
  }

  /**
   * The modules init installed, their downloaded files and the plan JSON. A manifest that cannot
   * be read costs the modules, not the import: they only inform coderd.
   */
  private async importResults(
    control: CommandControl,
    planText: string,
  ): Promise<Pick<PlanResult, "modules" | "moduleFiles" | "planJson">> {
    const planJson = Buffer.from(planText);
    let manifest: ModulesManifest | undefined;
    try {
      manifest = await readModulesManifest(this.directory);
    } catch (error) {
      if (!(error instanceof ModulesManifestError)) throw error;
      await control.onLog({
        level: LogLevel.WARN,
        output: `Modules not reported: ${error.message}`,
      });
    }
    if (manifest === undefined) return { modules: [], moduleFiles: new Uint8Array(), planJson };
    const archive = await moduleArchive(this.directory, manifest);
    if (archive.skipped.length > 0) {
      await control.onLog({
        level: LogLevel.WARN,
        output: `Module files not archived (over the ${MAX_MODULE_ARCHIVE_BYTES / (1024 * 1024)} MiB limit): ${archive.skipped.join(", ")}`,
      });
    }
    return {
      modules: manifest.modules.map(({ source, version, key }) => ({ source, version, key })),
      moduleFiles: archive.bytes,
      planJson,
    };
  }

  /** Registers a plan's secrets; one warning per job names each that is too short to mask. */
  private async addSecrets(control: CommandControl, secrets: SensitiveValue[]): Promise<void> {
    for (const { label, value } of secrets) {
      if (value === "" || this.secrets.add(value) || this.toldUnmasked.has(label)) continue;
      this.toldUnmasked.add(label);
      // In the job's log: whoever gave the value reads it there (coderd's build log, `build`).
      await control.onLog({ level: LogLevel.WARN, output: unmaskedSecretNotice(label) });
    }
  }

  private async parseOnce(signal: AbortSignal): Promise<ParseResult> {
    this.parsed ??= await parseTemplate(this.directory, { signal });
    return this.parsed;
  }

  /** Each declared variable's type text ("" without a `type`), from the parse. */
  private async variableTypes(signal: AbortSignal): Promise<VariableTypes> {
    let parsed: ParseResult;
    try {
      parsed = await this.parseOnce(signal);
    } catch (error) {
      if (signal.aborted) throw provisionError(FAILURE_PREFIX.terraformPlan, error, "CANCELED");
      throw provisionError(FAILURE_PREFIX.terraformPlan, error, "PARSE");
    }
    const types = new Map<string, string>();
    for (const s of parsed.parameterSchemas) types.set(s.name, s.validationValueType);
    for (const v of parsed.templateVariables) types.set(v.name, v.type);
    return types;
  }

  /**
   * Writes the plan's input variables into a 0600 file in the (private) work dir, so that no
   * value appears in terraform's argv. Undefined when there are none. Never logged.
   */
  private async writeVarFile(vars: string[], signal: AbortSignal): Promise<string | undefined> {
    if (vars.length === 0) return undefined;
    const text = await varFileText(vars, await this.variableTypes(signal));
    // A fresh file, so that the mode applies even if an earlier one was left behind.
    return writeWorkFile(this.directory, varFileName, text);
  }

  private commandControl(control: CallControl, redact: Redactor): CommandControl {
    return {
      signal: control.signal,
      killSignal: control.killSignal,
      onLog: control.onLog,
      ...(control.onTiming === undefined ? {} : { onTiming: control.onTiming }),
      ...(control.onTimings === undefined ? {} : { onTimings: control.onTimings }),
      ...(control.onProcessStarted === undefined
        ? {}
        : { onProcessStarted: control.onProcessStarted }),
      redact,
    };
  }

  /**
   * Readies the work dir for plan's or apply's own terraform command. False when a destroy
   * finds no state: there is nothing to destroy, so terraform need not even be initialized.
   */
  private async prepare(
    control: CommandControl,
    config: ProvisionConfig,
    timings: TimingRecorder,
  ): Promise<boolean> {
    await this.reportEnvironment(control);
    const hasState = await this.writeState(config.state);
    if (isDestroy(config.metadata) && !hasState) {
      await control.onLog({
        level: LogLevel.INFO,
        output: "The terraform state does not exist, there is nothing to do",
      });
      return false;
    }
    // Terraform writes its plan, state and lock file by name: none may lead out through a link.
    await checkWrittenFiles(this.directory);
    await this.unpackModuleFiles(config.metadata, control.signal);
    await this.ensureInitialized(control, timings);
    return true;
  }

  /**
   * Lays out the modules the template import installed, before init: init then finds each one
   * where its manifest says and downloads none of them (the runner may have no network).
   */
  private async unpackModuleFiles(metadata: Metadata, signal: AbortSignal): Promise<void> {
    const archive = metadata.templateVersionModuleFiles;
    if (this.modulesUnpacked || this.initialized || !archive?.length) return;
    try {
      const unpacked = await unpackArchive(
        archive,
        this.directory,
        defaultArchiveLimits,
        signal,
        "modules",
      );
      this.modulesUnpacked = true;
      this.context.logger?.debug(
        { jobId: this.context.jobId, ...unpacked },
        "template version module files unpacked",
      );
    } catch (error) {
      throw provisionError(
        `unpack template version module files (file ${metadata.templateVersionModulesFile})`,
        error,
        signal.aborted ? "CANCELED" : undefined,
      );
    }
  }

  private async ensureInitialized(control: CommandControl, timings: TimingRecorder): Promise<void> {
    // Once per work dir: init is idempotent, and a second plan (template import's stop plan) or
    // the apply after a plan finds providers installed already.
    if (this.initialized) return;
    try {
      await timings.stage("init", () => this.initialize(control));
    } finally {
      this.initGate.resolve();
    }
  }

  private async initialize(control: CommandControl): Promise<void> {
    // Two inits at once would share the slot's plugin cache, which terraform does not lock:
    // a fork waits for its origin's, then normally finds it saved.
    await this.context.initSettled;
    const reuse = this.context.initReuse;
    const found =
      reuse === undefined ? "foreign" : await reuse.cache.restore(this.directory, reuse.key);
    if (found === "restored") {
      await control.onLog({ level: LogLevel.DEBUG, output: reusedInitLine });
      this.initialized = true;
      return;
    }
    const started = performance.now();
    await this.executor.init(control);
    this.initialized = true;
    control.onTiming?.("init", (performance.now() - started) / 1000);
    if (reuse !== undefined && found === "missing") {
      // Saved before plan runs any template code, so the entry is exactly what init wrote.
      await reuse.cache.save(this.directory, reuse.key).catch((error: unknown) => {
        this.context.logger?.warn({ err: error }, "saving the terraform init for reuse failed");
      });
    }
  }

  private async reportEnvironment(control: CommandControl): Promise<void> {
    for (const log of terraformVariableLogs(this.context.inherited, this.context.controlled)) {
      await control.onLog(log);
    }
  }

  /** Writes the prior state (or removes a stale one). Returns whether there is state. */
  private async writeState(state: Uint8Array): Promise<boolean> {
    const path = join(this.directory, stateFileName);
    if (state.byteLength === 0) {
      await rm(path, { force: true });
      return false;
    }
    await writeWorkFile(this.directory, stateFileName, state);
    return true;
  }

  private async readState(): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(this.directory, stateFileName)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Uint8Array();
      throw error;
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed !== undefined) {
      return Promise.reject(
        new ProvisionError(`session of job ${this.context.jobId} is closed`, { code: "INTERNAL" }),
      );
    }
    return this.queue.run(task);
  }
}

/** Each declared variable's default as text, "" without one, surrounding quotes trimmed. */
function variableDefaults(parsed: ParseResult): Map<string, string> {
  const defaults = new Map<string, string>();
  for (const v of parsed.templateVariables) defaults.set(v.name, v.defaultValue);
  for (const s of parsed.parameterSchemas) defaults.set(s.name, s.defaultSource?.value ?? "");
  for (const [name, value] of defaults) defaults.set(name, value.replace(/^"+|"+$/g, ""));
  return defaults;
}

function isDestroy(metadata: Metadata): boolean {
  return metadata.workspaceTransition === WorkspaceTransition.DESTROY;
}

/** Any failure -> ProvisionError with a code, the reference's message prefix, secrets redacted. */
function provisionError(
  prefix: string,
  error: unknown,
  forced?: ProvisionErrorCode,
  redact: Redactor = (text) => text,
  state?: Uint8Array,
): ProvisionError {
  if (error instanceof ProvisionError) return error;
  const message = redact(`${prefix}: ${(error as Error)?.message ?? String(error)}`);
  return new ProvisionError(message, { code: forced ?? errorCode(error), state, cause: error });
}

function errorCode(error: unknown): ProvisionErrorCode {
  if (error instanceof TerraformCanceledError) return "CANCELED";
  if (error instanceof TerraformCommandError || error instanceof CommandStartError) {
    return "TERRAFORM";
  }
  if (error instanceof ConversionError || error instanceof TerraformJsonError) return "CONVERSION";
  if (error instanceof TerraformInputError) return "PARAMETERS";
  if (error instanceof WorkDirError || error instanceof ArchiveError) return "ARCHIVE";
  return "INTERNAL";
}
