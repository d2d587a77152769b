// Errors the CLI reports as a single line and a distinct exit code, instead of a stack trace.

/** Exit code for bad command-line input (flags, env values, arguments), as in sysexits' EX_USAGE spirit. */
export const EXIT_USAGE = 2;

/** Bad input from the person running the command: each line names the flag or input at fault. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly lines: string[];
  /** Machine-readable details, printed in the JSON error of `--json`. */
  readonly details: Record<string, unknown> | undefined;

  constructor(lines: string | string[], details?: Record<string, unknown>) {
    const all = Array.isArray(lines) ? lines : [lines];
    super(all.join("\n"));
    this.lines = all;
    this.details = details;
  }
}

/** A failure the command already explained to the user; main only sets the exit code. */
export class ReportedError extends Error {
  override readonly name = "ReportedError";
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}
