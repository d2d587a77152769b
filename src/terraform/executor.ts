// The terraform commands of one work dir: init, plan, show, graph, apply. Each takes the call's
// cancellation and log sink; output becomes log lines, secrets redacted. A failed command's error
// says why in terraform's words (its first error diagnostic), not just its exit status.
import type { Logger } from "pino";
import { isPromiseLike } from "../daemon/abort.js";
import { LogLevel } from "../provisioner/model.js";
import type { CallControl, ProvisionerLog } from "../provisioner/provisioner.js";
import type { TerraformBinary } from "./binary.js";
import { graphArgs } from "./binary.js";
import {
  type Diagnostic,
  errorReason,
  moduleSourceHint,
  parsePlainDiagnostics,
} from "./diagnostics.js";
import type { Environment } from "./environment.js";
import { convertStderrLine, readJsonLogLine } from "./log-lines.js";
import { type LineHandler, type RunCommandResult, runCommand } from "./process.js";
import type { Redactor } from "./redact.js";
import { type PlanJson, parsePlanJson, parseStateJson, type StateJson } from "./terraform-json.js";

/** A terraform command exited non-zero (or was killed). */
export class TerraformCommandError extends Error {
  override readonly name = "TerraformCommandError";
  readonly exitCode: number | undefined;

  constructor(message: string, exitCode: number | undefined) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The call was cancelled (before or while terraform ran). */
export class TerraformCanceledError extends Error {
  override readonly name = "TerraformCanceledError";
}

/** A provisioner call's control, plus the redaction of that call's secrets. */
export interface CommandControl extends CallControl {
  redact: Redactor;
}

export interface ExecutorOptions {
  binary: TerraformBinary;
  directory: string;
  /** Environment for init, show and graph. */
  basicEnv: Environment;
  gracePeriodMs: number;
  logger?: Logger;
}

export const planFileName = "terraform.tfplan";

/** Also gets each stdout line of a `-json` command, unredacted (for timings; never logged). */
export type JsonLineTap = (line: string) => void;

export class TerraformExecutor {
  constructor(private readonly options: ExecutorOptions) {}

  get directory(): string {
    return this.options.directory;
  }

  async init(control: CommandControl): Promise<void> {
    // Plain text output: stdout as DEBUG, stderr as ERROR (reference levels).
    const result = await this.run("init", ["init", "-no-color", "-input=false"], control, {
      env: this.options.basicEnv,
      onLine: this.textLines(control, LogLevel.DEBUG),
    });
    await this.check("terraform init", result, control);
  }

  async plan(
    control: CommandControl,
    input: { env: Environment; destroy: boolean; varFile?: string; onJsonLine?: JsonLineTap },
  ): Promise<string> {
    const planFile = `${this.options.directory}/${planFileName}`;
    const args = [
      "plan",
      "-no-color",
      "-input=false",
      "-json",
      "-refresh=true",
      `-out=${planFile}`,
    ];
    if (input.destroy) args.push("-destroy");
    // Input variables come in a file, never as `-var name=value`: argv is visible to every
    // user on the host, and the values may be secrets (see var-file.ts).
    if (input.varFile !== undefined) args.push(`-var-file=${input.varFile}`);
    const diagnostics: Diagnostic[] = [];
    const result = await this.run("plan", args, control, {
      env: input.env,
      onLine: this.jsonLines(control, diagnostics, input.onJsonLine),
    });
    await this.check("terraform plan", result, control, { diagnostics });
    return planFile;
  }

  async apply(
    control: CommandControl,
    input: { env: Environment; planFile: string; onJsonLine?: JsonLineTap },
  ): Promise<void> {
    const args = ["apply", "-no-color", "-auto-approve", "-input=false", "-json", input.planFile];
    const diagnostics: Diagnostic[] = [];
    const result = await this.run("apply", args, control, {
      env: input.env,
      onLine: this.jsonLines(control, diagnostics, input.onJsonLine),
    });
    await this.check("terraform apply", result, control, { diagnostics });
  }

  async showPlan(control: CommandControl, planFile: string): Promise<PlanJson> {
    return parsePlanJson(await this.showPlanText(control, planFile));
  }

  /** The plan as `terraform show -json` prints it, unparsed. */
  showPlanText(control: CommandControl, planFile: string): Promise<string> {
    return this.collect(
      "show terraform plan file",
      ["show", "-json", "-no-color", planFile],
      control,
    );
  }

  async showState(control: CommandControl): Promise<StateJson> {
    const stdout = await this.collect(
      "terraform show state",
      ["show", "-json", "-no-color"],
      control,
    );
    return parseStateJson(stdout);
  }

  async graph(control: CommandControl): Promise<string> {
    return this.collect("graph", graphArgs(this.options.binary.version), control);
  }

  /** Runs a command whose stdout is data; stderr goes into the error message on failure. */
  private async collect(what: string, args: string[], control: CommandControl): Promise<string> {
    const result = await this.run(args[0] ?? what, args, control, {
      env: this.options.basicEnv,
      collectStdout: true,
      onLine: () => {},
    });
    await this.check(what, result, control, { stderr: result.stderrTail.trim() });
    return result.stdout;
  }

  private async run(
    name: string,
    args: string[],
    control: CommandControl,
    extra: { env: Environment; onLine: LineHandler; collectStdout?: boolean },
  ): Promise<RunCommandResult> {
    // Nothing new starts after a cancel (reference: ctx.Err() before each command).
    if (control.signal.aborted || control.killSignal?.aborted) {
      throw new TerraformCanceledError(`terraform ${name}: canceled before it started`);
    }
    const started = Date.now();
    this.options.logger?.debug(
      { args: args.map(control.redact), cwd: this.options.directory },
      `running terraform ${name}`,
    );
    const result = await runCommand({
      file: this.options.binary.path,
      args,
      cwd: this.options.directory,
      env: extra.env,
      signal: control.signal,
      killSignal: control.killSignal,
      gracePeriodMs: this.options.gracePeriodMs,
      onLine: extra.onLine,
      collectStdout: extra.collectStdout,
      onSpawn: control.onProcessStarted,
    });
    this.options.logger?.debug(
      {
        exitCode: result.exitCode,
        signal: result.signal,
        interrupted: result.interrupted,
        killed: result.killed,
        ms: Date.now() - started,
      },
      `terraform ${name} ended`,
    );
    return result;
  }

  /**
   * Throws unless the command succeeded. The error names terraform's first error diagnostic
   * (from `-json` output, else from the text on stderr); without one, `stderr` and the exit
   * status. A module that needs the network gets a line of its own saying why it cannot come
   * from the provider mirror. Everything is redacted here.
   */
  private async check(
    what: string,
    result: RunCommandResult,
    control: CommandControl,
    output: { diagnostics?: Diagnostic[]; stderr?: string } = {},
  ): Promise<void> {
    if (result.exitCode === 0 && !result.killed) return;
    if (control.signal.aborted || control.killSignal?.aborted || result.killed) {
      throw canceled(what, result);
    }
    const diagnostics = [
      ...(output.diagnostics ?? []),
      ...parsePlainDiagnostics(result.stderrTail),
    ];
    const hints = [...new Set(diagnostics.map(moduleSourceHint))].filter(
      (hint): hint is string => hint !== undefined,
    );
    await emit(
      control,
      hints.map((output) => ({ level: LogLevel.ERROR, output })),
    );
    const stderr = output.stderr ?? "";
    const reason =
      errorReason(diagnostics) ??
      (stderr === "" ? exitText(result) : `${stderr}: ${exitText(result)}`);
    const message = [`${what}: ${reason}`, ...hints].join(" ");
    throw new TerraformCommandError(control.redact(message), result.exitCode);
  }

  /**
   * stdout lines of `-json` commands, their errors kept in `diagnostics`; stderr as ERROR, but
   * for terraform's own log lines (with `TF_LOG=JSON`), at their level.
   */
  private jsonLines(
    control: CommandControl,
    diagnostics: Diagnostic[],
    tap?: JsonLineTap,
  ): LineHandler {
    return (stream, line) => {
      if (stream === "stderr") return emit(control, convertStderrLine(line));
      tap?.(line);
      const converted = readJsonLogLine(line);
      // Errors only: they make the command's error; warnings can be many and are in the log.
      if (converted.diagnostic?.severity === "error") diagnostics.push(converted.diagnostic);
      return emit(control, converted.logs);
    };
  }

  /** Plain text commands: stdout at `stdoutLevel`, stderr as ERROR; blank lines dropped. */
  private textLines(control: CommandControl, stdoutLevel: LogLevel): LineHandler {
    return (stream, line) => {
      if (line.trim() === "") return;
      return emit(control, [
        { level: stream === "stdout" ? stdoutLevel : LogLevel.ERROR, output: line },
      ]);
    };
  }
}

/** Sends lines in order; resolves after the last one if the sink asked to wait. */
function emit(control: CommandControl, logs: ProvisionerLog[]): void | Promise<void> {
  let pending: Promise<void> | undefined;
  for (const log of logs) {
    const line = { level: log.level, output: control.redact(log.output) };
    pending =
      pending === undefined
        ? toPromise(control.onLog(line))
        : pending.then(() => control.onLog(line));
  }
  return pending;
}

function toPromise(value: void | Promise<void>): Promise<void> | undefined {
  return isPromiseLike<void>(value) ? value : undefined;
}

function exitText(result: RunCommandResult): string {
  if (result.exitCode !== undefined) return `exit status ${result.exitCode}`;
  return `killed by ${result.signal ?? "a signal"}`;
}

function canceled(what: string, result: RunCommandResult): TerraformCanceledError {
  const how = result.killed ? "killed after the cancel grace period" : "interrupted";
  return new TerraformCanceledError(`${what}: canceled (${how}, ${exitText(result)})`);
}
