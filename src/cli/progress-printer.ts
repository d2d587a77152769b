// Live progress of a local build: one header per stage with the time since the job started,
// then that stage's Terraform lines indented under it. Readable in a terminal (with colour) and
// in a CI log (plain text, same layout).
import { type Log, LogLevel, LogSource } from "../provisioner/model.js";
import { formatDuration } from "./durations.js";
import type { Style } from "./terminal-style.js";

export interface ProgressOutput {
  write(text: string): unknown;
}

export interface ProgressPrinterOptions {
  output: ProgressOutput;
  style: Style;
  /** Also print DEBUG and TRACE lines (with --log-level debug). */
  showDebug: boolean;
  now?: () => number;
}

// Lines sit under the stage name: "  [  1.2s] " is 11 columns wide.
const INDENT = " ".repeat(11);

export class ProgressPrinter {
  readonly #output: ProgressOutput;
  readonly #style: Style;
  readonly #showDebug: boolean;
  readonly #now: () => number;
  #jobStartedAt = 0;
  #lastSequence = 0;
  #stage: string | undefined;

  constructor(options: ProgressPrinterOptions) {
    this.#output = options.output;
    this.#style = options.style;
    this.#showDebug = options.showDebug;
    this.#now = options.now ?? Date.now;
  }

  beginJob(title: string): void {
    this.#jobStartedAt = this.#now();
    this.#lastSequence = 0;
    this.#stage = undefined;
    this.#output.write(`${this.#style.bold(title)}\n`);
  }

  /** Lines arrive in sequence order; a batch delivered twice is printed once. */
  log(line: Log): void {
    if (line.sequence !== 0) {
      if (line.sequence <= this.#lastSequence) return;
      this.#lastSequence = line.sequence;
    }
    const quiet = line.level === LogLevel.DEBUG || line.level === LogLevel.TRACE;
    if (quiet && !this.#showDebug) return;
    const isMarker = line.source === LogSource.PROVISIONER_DAEMON && line.output === "";
    if (isMarker || (line.stage !== "" && line.stage !== this.#stage)) {
      this.#header(line.stage, line.createdAt);
    }
    if (!isMarker && line.output.trim() !== "") {
      this.#output.write(`${INDENT}${this.#colour(line.level, line.output)}\n`);
    }
  }

  endJob(ok: boolean, summary: string): void {
    const elapsed = formatDuration(this.#now() - this.#jobStartedAt);
    const mark = ok ? this.#style.green("✔") : this.#style.red("✖");
    this.#output.write(`${mark} ${summary} ${this.#style.dim(`(${elapsed})`)}\n`);
  }

  #header(stage: string, createdAt: number): void {
    this.#stage = stage;
    const at = createdAt > 0 ? createdAt : this.#now();
    const elapsed = `${((at - this.#jobStartedAt) / 1000).toFixed(1)}s`.padStart(6);
    this.#output.write(`  ${this.#style.dim(`[${elapsed}]`)} ${this.#style.cyan(stage)}\n`);
  }

  #colour(level: LogLevel, text: string): string {
    if (level === LogLevel.ERROR) return this.#style.red(text);
    if (level === LogLevel.WARN) return this.#style.yellow(text);
    if (level === LogLevel.DEBUG || level === LogLevel.TRACE) return this.#style.dim(text);
    return text;
  }
}
