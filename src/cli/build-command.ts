// `provisionerd build`: a template import, then a workspace build, with the daemon's own job
// runner and the terraform provisioner, coordinated in-process instead of by coderd.
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import {
  JobFailure,
  type JobResult,
  RESCUED_STATE_DIR,
  resultState,
  runJob,
} from "../daemon/index.js";
import type {
  AcquiredJob,
  CompletedJob_TemplateImport,
  Log,
  RichParameterValue,
  UpdateJobRequest,
} from "../provisioner/model.js";
import type { Provisioner, ProvisionSession } from "../provisioner/provisioner.js";
import { createTerraformProvisioner, type TerraformProvisioner } from "../terraform/index.js";
import { SecretMasker } from "../terraform/redact.js";
import type { BuildConfig, TransitionName } from "./build-config.js";
import {
  type BuildResultInput,
  buildResultJson,
  importedSummary,
  type JobSummary,
  logJson,
} from "./build-output.js";
import {
  type BuildRecord,
  buildRecordPath,
  fromRecordValues,
  newBuildRecord,
  readBuildRecord,
  toRecordValues,
  writeBuildRecord,
} from "./build-record.js";
import {
  type AskForValues,
  checkGivenValues,
  type DeclaredImportInputs,
  type GivenValues,
  type ImportValues,
  refuseToAsk,
  resolveImportValues,
  resolveRichValues,
} from "./build-values.js";
import type { CliIo } from "./cli-io.js";
import {
  checkJobDirectories,
  checkTerraformOption,
  providerMirrorOption,
} from "./common-options.js";
import { declaredRichParameters } from "./declared-rich-parameters.js";
import { Interrupts } from "./interrupts.js";
import { LocalCoordinator } from "./local-coordinator.js";
import {
  type TemplateJobInput,
  templateDryRunJob,
  templateImportJob,
  type WorkspaceBuildInput,
  workspaceBuildJob,
} from "./local-jobs.js";
import { createLogger, REDACTED } from "./logger.js";
import { previewProvisioner } from "./plan-preview.js";
import { ProgressPrinter } from "./progress-printer.js";
import { ask, canPrompt } from "./prompt.js";
import { renderResourceTable } from "./result-table.js";
import { checkWritable, type KeptState, keepState, readStateFile } from "./state-file.js";
import { loadTemplate } from "./template-archive.js";
import { renderTemplateSummary } from "./template-summary.js";
import { type Style, styleFor } from "./terminal-style.js";
import { UsageError } from "./usage-error.js";

const DONE_TEXT: Record<TransitionName, string> = {
  start: "Workspace started",
  stop: "Workspace stopped",
  delete: "Workspace deleted",
};

/** Exit code of a build the user interrupted (128 + SIGINT), as shells report it. */
const EXIT_INTERRUPTED = 130;

interface Run {
  config: BuildConfig;
  io: CliIo;
  style: Style;
  logger: Logger;
  /** One for both jobs: it finds and checks terraform once. */
  provisioner: TerraformProvisioner;
  printer: ProgressPrinter | undefined;
  interrupts: Interrupts;
  ask: AskForValues;
  logs: ReturnType<typeof logJson>[];
}

type Values = BuildResultInput["values"];

function templateName(config: BuildConfig): string {
  return path.basename(config.template.path).replace(/\.(tar|tar\.gz|tgz)$/i, "");
}

/** Runs one job to its terminal message and times it. */
async function runLocalJob(
  run: Run,
  job: AcquiredJob,
  kind: "import" | "build",
  title: string,
  resolve?: (request: UpdateJobRequest) => Promise<ImportValues>,
  provisioner: Provisioner = run.provisioner,
): Promise<{ result: JobResult; durationMs: number; workspaceTags?: Record<string, string> }> {
  const startedAt = performance.now();
  run.printer?.beginJob(title);
  let workspaceTags: Record<string, string> | undefined;
  const coordinator = new LocalCoordinator({
    onWorkspaceTags: (tags) => {
      workspaceTags = tags;
    },
    onLog: (log: Log) => {
      run.logs.push(logJson(kind, log));
      run.printer?.log(log);
    },
    ...(resolve ? { resolveImportValues: resolve } : {}),
    // A first interrupt reaches the runner as coderd's cancel would (in the coordinator's
    // answers), so the job ends "canceled", not "daemon shutting down".
    cancelSignal: run.interrupts.cancelSignal,
  });
  const result = await runJob(job, {
    coordinator,
    provisioner,
    slot: 0,
    logger: run.logger,
    killSignal: run.interrupts.killSignal,
  });
  return {
    result,
    durationMs: Math.round(performance.now() - startedAt),
    ...(workspaceTags ? { workspaceTags } : {}),
  };
}

function summary(result: JobResult, durationMs: number): JobSummary {
  if (result.kind === "complete") return { status: "completed", durationMs };
  return {
    status: "failed",
    error: result.failure.message,
    errorCode: result.failure.code,
    durationMs,
  };
}

/** The usage error (values the user did not give) that a failed job's failure stems from. */
function usageErrorOf(result: JobResult): UsageError | undefined {
  if (result.kind === "complete") return undefined;
  for (let error: unknown = result.failure; error instanceof Error; error = error.cause) {
    if (error instanceof UsageError) return error;
  }
  return undefined;
}

/** Asks on the terminal when there is one; every answer is kept out of the logs. */
function valueAsker(io: CliIo, signal: AbortSignal, secrets: SecretMasker): AskForValues {
  if (!canPrompt(io)) return refuseToAsk;
  return async (missing) => {
    io.stderr.write("The template needs values that were not given:\n");
    const answers = await ask(io, missing, signal);
    for (const answer of answers) secrets.add(answer);
    return answers;
  };
}

export async function runBuild(config: BuildConfig, io: CliIo): Promise<number> {
  const secrets = new SecretMasker();
  // Unknown until the template is parsed which values are sensitive: all are kept out of the
  // process log (those long enough to mask; the job log names short sensitive ones).
  for (const value of [...Object.values(config.var), ...Object.values(config.param)]) {
    secrets.add(value);
  }
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    output: io.stderr,
    secrets,
  });
  const style = styleFor(io.stdout, io.env);
  const interrupts = new Interrupts(
    (text) => io.stderr.write(`${style.yellow(text)}\n`),
    () => new JobFailure("job was canceled (forced by a second interrupt)", { code: "CANCELED" }),
  );
  const run: Run = {
    config,
    io,
    style,
    logger,
    provisioner: createTerraformProvisioner({
      terraformPath: config.terraformPath,
      workDirRoot: config.workDir,
      cacheDir: config.cacheDir,
      ...providerMirrorOption(config.providerMirror),
      logger,
    }),
    printer: config.json
      ? undefined
      : new ProgressPrinter({
          output: io.stdout,
          style,
          showDebug: config.logLevel === "debug" || config.logLevel === "trace",
        }),
    interrupts,
    ask: valueAsker(io, interrupts.cancelSignal, secrets),
    logs: [],
  };
  try {
    return await build(run);
  } finally {
    interrupts.dispose();
  }
}

type Given = GivenValues;

/**
 * Reads what the template declares (its variables and rich parameters, from its text: nothing
 * runs) and checks the given values against it, so every mistyped or missing value is named
 * before the import. A template that does not parse is left to the import to report.
 */
async function checkValuesUpFront(
  run: Run,
  archive: Buffer,
  given: Given,
  previous: BuildRecord | undefined,
): Promise<void> {
  const signal = run.interrupts.cancelSignal;
  let session: ProvisionSession;
  try {
    session = await run.provisioner.open({ archive, jobId: randomUUID(), slot: 0, signal });
  } catch {
    return;
  }
  try {
    let declared: DeclaredImportInputs;
    try {
      declared = await session.parse({ signal, onLog: () => {} });
    } catch {
      return;
    }
    const rich = await declaredRichParameters(session.directory);
    await checkGivenValues(declared, rich, given, previous?.richParameterValues, run.ask);
  } finally {
    await session.close();
  }
}

/** Step 1: parse the template, resolve its variables, plan start and stop. */
async function importTemplate(run: Run, template: TemplateJobInput, given: Given) {
  let values: ImportValues | undefined;
  const imported = await runLocalJob(
    run,
    templateImportJob(template, given.vars),
    "import",
    `Importing template ${template.templateName}`,
    async (request) => {
      values = await resolveImportValues(request, given, run.ask);
      return values;
    },
  );
  // Values the user did not give are a usage problem, not a failed import.
  const usageError = usageErrorOf(imported.result);
  if (usageError !== undefined) {
    run.printer?.endJob(false, "Template import stopped: the template needs values");
    throw usageError;
  }
  const job = imported.result.kind === "complete" ? imported.result.job : undefined;
  const result: CompletedJob_TemplateImport | undefined =
    job?.type?.$case === "templateImport" ? job.type.value : undefined;
  const jobSummary = summary(imported.result, imported.durationMs);
  run.printer?.endJob(
    result !== undefined,
    result ? "Template imported" : `Template import failed: ${jobSummary.error}`,
  );
  const summaryWithTags = imported.workspaceTags
    ? { ...jobSummary, workspaceTags: imported.workspaceTags }
    : jobSummary;
  return { result, summary: summaryWithTags, values };
}

/** What the workspace's job (build or plan-only dry run) is given: the same for both. */
function workspaceInput(
  run: Run,
  template: TemplateJobInput,
  record: BuildRecord,
  previous: BuildRecord | undefined,
  imported: CompletedJob_TemplateImport,
  values: Values,
  state: Buffer,
): WorkspaceBuildInput {
  const { config } = run;
  return {
    ...template,
    transition: config.transition,
    workspaceName: config.workspaceName,
    workspaceId: record.workspaceId,
    ownerId: record.ownerId,
    state,
    parameterValues: values.parameters,
    variableValues: values.variables,
    richParameterValues: values.richParameters,
    previousRichParameterValues: previous?.richParameterValues ?? [],
    gitAuthProviders: imported.gitAuthProviders,
  };
}

/** Step 3 of --plan-only: a dry run of the start, from the workspace's state; nothing kept. */
async function previewWorkspace(run: Run, input: WorkspaceBuildInput) {
  const { config } = run;
  const preview = previewProvisioner(run.provisioner, await readStateFile(config.stateFile));
  const planned = await runLocalJob(
    run,
    templateDryRunJob({ ...input, state: Buffer.alloc(0) }),
    "build",
    `Planning workspace ${config.workspaceName} (start, plan only)`,
    undefined,
    preview.provisioner,
  );
  const { result } = planned;
  const jobSummary = summary(result, planned.durationMs);
  const resources =
    result.kind === "complete" && result.job.type?.$case === "templateDryRun"
      ? result.job.type.value.resources
      : undefined;
  run.printer?.endJob(
    resources !== undefined,
    resources ? "Plan ready: nothing was applied" : `Plan failed: ${jobSummary.error}`,
  );
  const details = preview.details();
  return {
    ...jobSummary,
    ...(resources ? { resources } : {}),
    ...(resources && details ? { details } : {}),
  };
}

/** Step 3: the workspace build; its state (partial on failure) goes to the state file. */
async function buildWorkspace(run: Run, input: WorkspaceBuildInput) {
  const { config } = run;
  const built = await runLocalJob(
    run,
    workspaceBuildJob(input),
    "build",
    `Building workspace ${config.workspaceName} (${config.transition})`,
  );
  const { result } = built;
  const jobSummary = summary(result, built.durationMs);
  const completed = result.kind === "complete";
  const done =
    result.kind === "complete" && result.job.type?.$case === "workspaceBuild"
      ? result.job.type.value
      : undefined;
  run.printer?.endJob(
    completed,
    completed ? DONE_TEXT[config.transition] : `Workspace build failed: ${jobSummary.error}`,
  );
  const newState = Buffer.from(resultState(result) ?? Buffer.alloc(0));
  // A failed build's partial state is kept too: it records what exists. A failure without
  // state (before terraform applied anything) leaves the previous state as it was.
  const kept =
    completed || newState.length > 0
      ? await keepState(config.stateFile, newState, [
          path.join(config.cacheDir, RESCUED_STATE_DIR),
          os.tmpdir(),
        ])
      : undefined;
  const resources = done?.resources;
  return {
    summary: { ...jobSummary, ...(resources ? { resources } : {}) },
    kept,
    completed,
  };
}

async function build(run: Run): Promise<number> {
  const { config } = run;
  await checkJobDirectories(config);
  await checkTerraformOption(run.provisioner);
  await checkWritable([config.stateFile, buildRecordPath(config.stateFile)]);
  const previous = await readBuildRecord(config.stateFile);
  const state = await readStateFile(config.stateFile);
  const record: BuildRecord = previous ?? newBuildRecord();
  const given: Given = {
    flags: { "--var": config.var, "--param": config.param, "--rich-param": config.richParam },
    vars: { ...fromRecordValues(record.variableValues), ...config.var },
    params: { ...fromRecordValues(record.parameterValues), ...config.param },
    richParams: { ...config.richParam },
  };
  const template: TemplateJobInput = {
    archive: await loadTemplate(config.template, run.provisioner.archiveLimits),
    templateName: templateName(config),
    owner: config.owner,
    // As typed: `new URL` adds a "/" path that would end up in CODER_AGENT_URL.
    coderUrl: config.coderUrl.pathname === "/" ? config.coderUrl.origin : config.coderUrl.href,
  };
  const base = {
    template: { path: config.template.path, name: template.templateName },
    workspace: {
      name: config.workspaceName,
      owner: config.owner,
      id: record.workspaceId,
      ownerId: record.ownerId,
      transition: config.transition,
    },
    stateFile: config.stateFile,
  };

  await checkValuesUpFront(run, template.archive, given, previous);
  const imported = await importTemplate(run, template, given);
  const values: Values = {
    variables: imported.values?.variableValues ?? [],
    parameters: imported.values?.parameterValues ?? [],
    richParameters: [] as RichParameterValue[],
  };
  if (imported.result === undefined) {
    return finish(run, {
      ...base,
      importJob: imported.summary,
      buildJob: { status: "skipped", durationMs: 0 },
      stateWritten: false,
      values,
    });
  }

  // Step 2: rich parameters the import found, from --rich-param and the previous build.
  values.richParameters = await resolveRichValues(
    imported.result.richParameters,
    given.richParams,
    previous?.richParameterValues,
    run.ask,
  );

  const importedResult = imported.result;
  const input = (state: Buffer) =>
    workspaceInput(run, template, record, previous, importedResult, values, state);
  if (config.planOnly) {
    return finish(run, {
      ...base,
      importJob: { ...imported.summary, result: imported.result },
      buildJob: { status: "skipped", durationMs: 0 },
      plan: await previewWorkspace(run, input(Buffer.alloc(0))),
      stateWritten: false,
      values,
    });
  }

  const built = await buildWorkspace(run, input(state));
  // Written whether the build completed or not: a later stop or delete of whatever a failed or
  // interrupted build created must address the same workspace.
  const keep = (list: ReadonlyArray<{ name: string; sensitive: boolean }>) =>
    new Set(list.filter((v) => !v.sensitive).map((v) => v.name));
  const recordFile = await keepBuildRecord(run, built.kept?.file ?? config.stateFile, {
    ...record,
    lastTransition: config.transition,
    // Only what the template declares and may be shown again is remembered.
    richParameterValues: values.richParameters,
    variableValues: toRecordValues(given.vars, keep(values.variables)),
    parameterValues: toRecordValues(given.params, keep(values.parameters)),
  });
  return finish(
    run,
    {
      ...base,
      stateFile: built.kept?.file ?? config.stateFile,
      importJob: { ...imported.summary, result: imported.result },
      buildJob: built.summary,
      stateWritten: built.kept !== undefined,
      values,
    },
    built.kept,
    recordFile,
  );
}

/** Writes the build record beside the state; a failure is a warning (the state is kept). */
async function keepBuildRecord(
  run: Run,
  stateFile: string,
  record: Parameters<typeof writeBuildRecord>[1],
): Promise<string | undefined> {
  try {
    await writeBuildRecord(stateFile, record);
    return buildRecordPath(stateFile);
  } catch (error) {
    run.io.stderr.write(
      `${run.style.yellow(`warning: --state-file: the build record was not written: ${(error as Error).message}; a later build of this state gets new workspace ids`)}\n`,
    );
    return undefined;
  }
}

function finish(
  run: Run,
  input: Omit<BuildResultInput, "logs">,
  kept?: KeptState,
  recordFile?: string,
): number {
  const { io, style, config } = run;
  const last = input.plan ?? input.buildJob;
  const ok = input.importJob.status === "completed" && last.status === "completed";
  if (config.json) {
    io.stdout.write(`${JSON.stringify(buildResultJson({ ...input, logs: run.logs }), null, 2)}\n`);
  } else if (ok) {
    io.stdout.write("\n");
    const plan = input.plan?.details ? { details: input.plan.details, mask: REDACTED } : undefined;
    for (const line of renderResourceTable(last.resources ?? [], style, plan)) {
      io.stdout.write(`${line}\n`);
    }
    const summary = renderTemplateSummary(importedSummary(input.importJob), style);
    if (summary.length > 0) io.stdout.write(`\n${summary.join("\n")}\n`);
    if (kept !== undefined && !kept.rescued && !input.plan) {
      io.stdout.write(style.dim(`State written to ${kept.file}\n`));
    }
  } else {
    const failed = input.importJob.status !== "completed" ? input.importJob : last;
    io.stderr.write(`${style.red(`provisionerd build: ${failed.error ?? "failed"}`)}\n`);
    if (kept !== undefined && !kept.rescued) {
      io.stderr.write(`The state left by the failed build was written to ${kept.file}\n`);
    }
  }
  if (kept?.rescued) {
    const record =
      recordFile === undefined ? "" : ` (and "${recordFile}" to "${buildRecordPath(kept.wanted)}")`;
    io.stderr.write(
      `${style.red(`provisionerd build: --state-file: ${kept.reason}; the state was saved to "${kept.file}" instead: move it to "${kept.wanted}"${record} before the next build`)}\n`,
    );
    return run.interrupts.interrupted ? EXIT_INTERRUPTED : 1;
  }
  if (ok) return 0;
  return run.interrupts.interrupted ? EXIT_INTERRUPTED : 1;
}
