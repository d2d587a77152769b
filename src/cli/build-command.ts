// `provisionerd build`: a template import, then a workspace build, with the daemon's own job
// runner and the terraform provisioner, coordinated in-process instead of by coderd.
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import { JobFailure, runJob } from "../daemon/index.js";
import {
  type Metadata,
  type RichParameterValue,
  WorkspaceTransition,
} from "../proto/provisioner.js";
import {
  AcquiredJob,
  type CompletedJob_TemplateImport,
  type Log,
  type UpdateJobRequest,
} from "../proto/provisionerd.js";
import { createTerraformProvisioner } from "../terraform/index.js";
import type { BuildConfig, TransitionName } from "./build-config.js";
import { buildResultJson, type JobSummary, logJson } from "./build-output.js";
import {
  type BuildRecord,
  fromRecordValues,
  newBuildRecord,
  readBuildRecord,
  toRecordValues,
  writeBuildRecord,
} from "./build-record.js";
import {
  type AskForValues,
  type ImportValues,
  refuseToAsk,
  resolveImportValues,
  resolveRichValues,
} from "./build-values.js";
import { Interrupts } from "./interrupts.js";
import { type JobOutcome, LocalCoordinator } from "./local-coordinator.js";
import { createLogger, SecretValues } from "./logger.js";
import type { CliIo } from "./program.js";
import { ProgressPrinter } from "./progress-printer.js";
import { ask, canPrompt } from "./prompt.js";
import { renderResourceTable } from "./result-table.js";
import { readStateFile, writeStateFile } from "./state-file.js";
import { loadTemplate } from "./template-archive.js";
import { type Style, styleFor } from "./terminal-style.js";
import { UsageError } from "./usage-error.js";

const TRANSITION: Record<TransitionName, WorkspaceTransition> = {
  start: WorkspaceTransition.START,
  stop: WorkspaceTransition.STOP,
  delete: WorkspaceTransition.DESTROY,
};

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
  secrets: SecretValues;
  printer: ProgressPrinter | undefined;
  interrupts: Interrupts;
  ask: AskForValues;
  logs: ReturnType<typeof logJson>[];
}

function templateName(config: BuildConfig): string {
  return path.basename(config.template.path).replace(/\.(tar|tar\.gz|tgz)$/i, "");
}

async function ensureDirectories(config: BuildConfig): Promise<void> {
  for (const [flag, dir] of [
    ["--work-dir", config.workDir],
    ["--cache-dir", config.cacheDir],
  ] as const) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new UsageError(`${flag}: cannot create "${dir}": ${(error as Error).message}`);
    }
  }
}

/** Runs one job to its terminal message and times it. */
async function runLocalJob(
  run: Run,
  job: AcquiredJob,
  kind: "import" | "build",
  title: string,
  resolve?: (request: UpdateJobRequest) => Promise<ImportValues>,
): Promise<{ outcome: JobOutcome; durationMs: number }> {
  const startedAt = performance.now();
  run.printer?.beginJob(title);
  const coordinator = new LocalCoordinator({
    onLog: (log: Log) => {
      run.logs.push(logJson(kind, log));
      run.printer?.log(log);
    },
    ...(resolve ? { resolveImportValues: resolve } : {}),
    cancelSignal: run.interrupts.cancelSignal,
  });
  const provisioner = createTerraformProvisioner({
    terraformPath: run.config.terraformPath,
    workDirRoot: run.config.workDir,
    cacheDir: run.config.cacheDir,
    ...(run.config.providerMirror
      ? {
          providerMirror:
            run.config.providerMirror.kind === "filesystem"
              ? run.config.providerMirror.path
              : run.config.providerMirror.url,
        }
      : {}),
    logger: run.logger,
  });
  await runJob(job, {
    coordinator,
    provisioner,
    slot: 0,
    logger: run.logger,
    // A first interrupt reaches the runner as coderd's cancel would (through the coordinator's
    // answers), so the job ends "canceled", not "daemon shutting down".
    killSignal: run.interrupts.killSignal,
  });
  // The runner has delivered its terminal message by the time it returns.
  const outcome = await coordinator.outcome;
  return { outcome, durationMs: Math.round(performance.now() - startedAt) };
}

function summary(outcome: JobOutcome, durationMs: number): JobSummary {
  if (outcome.kind === "completed") return { status: "completed", durationMs };
  return {
    status: "failed",
    error: outcome.job.error,
    ...(outcome.job.errorCode !== "" ? { errorCode: outcome.job.errorCode } : {}),
    durationMs,
  };
}

function promptAsker(io: CliIo, signal: AbortSignal): AskForValues {
  return async (missing) => {
    io.stderr.write("The template needs values that were not given:\n");
    return ask(io, missing, signal);
  };
}

export async function runBuild(config: BuildConfig, io: CliIo): Promise<number> {
  const secrets = new SecretValues();
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
    secrets,
    printer: config.json
      ? undefined
      : new ProgressPrinter({
          output: io.stdout,
          style,
          showDebug: config.logLevel === "debug" || config.logLevel === "trace",
        }),
    interrupts,
    ask: canPrompt(io) ? promptAsker(io, interrupts.cancelSignal) : refuseToAsk,
    logs: [],
  };
  try {
    return await build(run);
  } finally {
    interrupts.dispose();
  }
}

async function build(run: Run): Promise<number> {
  const { config, io, style } = run;
  await ensureDirectories(config);
  const archive = await loadTemplate(config.template);
  const state = await readStateFile(config.stateFile);
  const previous = await readBuildRecord(config.stateFile);
  const record: BuildRecord = previous ?? newBuildRecord();
  const given = {
    vars: { ...fromRecordValues(record.variableValues), ...config.var },
    params: { ...fromRecordValues(record.parameterValues), ...config.param },
  };
  for (const value of [...Object.values(config.var), ...Object.values(config.param)]) {
    // Unknown until the template is parsed whether they are sensitive: keep them all out of logs.
    run.secrets.add(value);
  }
  const name = templateName(config);

  // 1. Template import: parse, resolve variables, plan start and stop.
  let importValues: ImportValues | undefined;
  let valuesError: unknown;
  const importJob = AcquiredJob.create({
    jobId: randomUUID(),
    createdAt: Date.now(),
    provisioner: "terraform",
    userName: config.owner,
    templateSourceArchive: archive,
    type: {
      $case: "templateImport",
      value: {
        metadata: { coderUrl: config.coderUrl.href, templateName: name, templateVersion: "local" },
        userVariableValues: Object.entries(given.vars).map(([varName, value]) => ({
          name: varName,
          value,
          sensitive: true,
        })),
      },
    },
  });
  const imported = await runLocalJob(
    run,
    importJob,
    "import",
    `Importing template ${name}`,
    async (request) => {
      try {
        importValues = await resolveImportValues(request, given, run.ask);
        return importValues;
      } catch (error) {
        valuesError = error;
        throw error;
      }
    },
  );
  // Values the user did not give are a usage problem, not a failed import.
  if (valuesError instanceof UsageError) {
    run.printer?.endJob(false, "Template import stopped: the template needs values");
    throw valuesError;
  }
  const importSummary = summary(imported.outcome, imported.durationMs);
  const importResult: CompletedJob_TemplateImport | undefined =
    imported.outcome.kind === "completed" && imported.outcome.job.type?.$case === "templateImport"
      ? imported.outcome.job.type.value
      : undefined;
  run.printer?.endJob(
    importResult !== undefined,
    importResult ? "Template imported" : `Template import failed: ${importSummary.error}`,
  );
  for (const label of importValues?.unknown ?? []) {
    io.stderr.write(
      `${style.yellow(`warning: ${label}: the template does not declare it; ignored`)}\n`,
    );
  }
  const values = {
    variables: importValues?.variableValues ?? [],
    parameters: importValues?.parameterValues ?? [],
    richParameters: [] as RichParameterValue[],
  };
  const base = {
    template: { path: config.template.path, name },
    workspace: {
      name: config.workspaceName,
      owner: config.owner,
      id: record.workspaceId,
      ownerId: record.ownerId,
      transition: config.transition,
    },
    stateFile: config.stateFile,
  };
  if (importResult === undefined) {
    return finish(run, {
      ...base,
      importJob: importSummary,
      buildJob: { status: "skipped", durationMs: 0 },
      stateWritten: false,
      values,
    });
  }

  // 2. Rich parameters the import found, from --rich-param and the previous build.
  values.richParameters = await resolveRichValues(
    importResult.richParameters,
    config.richParam,
    previous?.richParameterValues,
    run.ask,
  );

  // 3. The workspace build.
  const metadata: Metadata = {
    coderUrl: config.coderUrl.href,
    workspaceTransition: TRANSITION[config.transition],
    workspaceName: config.workspaceName,
    workspaceOwner: config.owner,
    workspaceId: record.workspaceId,
    workspaceOwnerId: record.ownerId,
    workspaceOwnerEmail: `${config.owner}@localhost`,
    templateName: name,
    templateVersion: "local",
  };
  const buildJob = AcquiredJob.create({
    jobId: randomUUID(),
    createdAt: Date.now(),
    provisioner: "terraform",
    userName: config.owner,
    templateSourceArchive: archive,
    type: {
      $case: "workspaceBuild",
      value: {
        workspaceBuildId: randomUUID(),
        workspaceName: config.workspaceName,
        parameterValues: values.parameters,
        richParameterValues: values.richParameters,
        variableValues: values.variables,
        metadata,
        state,
        // No git auth provider exists locally: the template gets empty tokens.
        gitAuthProviders: importResult.gitAuthProviders.map((id) => ({ id, accessToken: "" })),
        previousRichParameterValues: previous?.richParameterValues ?? [],
      },
    },
  });
  const built = await runLocalJob(
    run,
    buildJob,
    "build",
    `Building workspace ${config.workspaceName} (${config.transition})`,
  );
  const buildSummary = summary(built.outcome, built.durationMs);
  const outcome = built.outcome;
  const buildType = outcome.job.type;
  const newState = buildType?.$case === "workspaceBuild" ? buildType.value.state : Buffer.alloc(0);
  const resources =
    outcome.kind === "completed" && outcome.job.type?.$case === "workspaceBuild"
      ? outcome.job.type.value.resources
      : undefined;
  run.printer?.endJob(
    outcome.kind === "completed",
    outcome.kind === "completed"
      ? DONE_TEXT[config.transition]
      : `Workspace build failed: ${buildSummary.error}`,
  );

  // A failed build's partial state is kept too: it records what exists.
  let stateWritten = false;
  if (config.stateFile !== undefined && (outcome.kind === "completed" || newState.length > 0)) {
    await writeStateFile(config.stateFile, newState);
    stateWritten = true;
    if (outcome.kind === "completed") {
      // Only what the template declares and may be shown again is remembered.
      const keep = (list: ReadonlyArray<{ name: string; sensitive: boolean }>) =>
        new Set(list.filter((v) => !v.sensitive).map((v) => v.name));
      await writeBuildRecord(config.stateFile, {
        ...record,
        lastTransition: config.transition,
        richParameterValues: values.richParameters,
        variableValues: toRecordValues(given.vars, keep(values.variables)),
        parameterValues: toRecordValues(given.params, keep(values.parameters)),
      });
    }
  }
  return finish(run, {
    ...base,
    importJob: { ...importSummary, result: importResult },
    buildJob: { ...buildSummary, ...(resources ? { resources } : {}) },
    stateWritten,
    values,
  });
}

function finish(run: Run, input: Omit<Parameters<typeof buildResultJson>[0], "logs">): number {
  const { io, style, config } = run;
  const ok = input.importJob.status === "completed" && input.buildJob.status === "completed";
  if (config.json) {
    io.stdout.write(`${JSON.stringify(buildResultJson({ ...input, logs: run.logs }), null, 2)}\n`);
  } else if (ok) {
    io.stdout.write("\n");
    for (const line of renderResourceTable(input.buildJob.resources ?? [], style)) {
      io.stdout.write(`${line}\n`);
    }
    if (config.stateFile) io.stdout.write(style.dim(`State written to ${config.stateFile}\n`));
  } else {
    const failed = input.importJob.status !== "completed" ? input.importJob : input.buildJob;
    io.stderr.write(`${style.red(`provisionerd build: ${failed.error ?? "failed"}`)}\n`);
    if (input.stateWritten) {
      io.stderr.write(`The state left by the failed build was written to ${config.stateFile}\n`);
    }
  }
  if (ok) return 0;
  return run.interrupts.interrupted ? EXIT_INTERRUPTED : 1;
}
