// What a job-type handler gets from the runner: the session, the log stream, the link to
// coderd, cancellation, and timing. Handlers hold no state of their own.
import type { Logger } from "pino";
import { type AcquiredJob, LogLevel, LogSource, type Timing } from "../../provisioner/model.js";
import type { CallControl, ProvisionSession } from "../../provisioner/provisioner.js";
import { ProvisionError } from "../../provisioner/provisioner.js";
import { errorMessage, type JobErrorCode, JobFailure } from "../errors.js";
import type { JobLink } from "../job-link.js";
import type { LogBatcher } from "../log-batcher.js";
import type { JobStage } from "../observer.js";

export interface JobContext {
  readonly job: AcquiredJob;
  readonly session: ProvisionSession;
  readonly logs: LogBatcher;
  readonly link: JobLink;
  readonly logger: Logger;
  /** A daemon stage marker: source PROVISIONER_DAEMON, empty output. */
  marker(stage: string, level?: LogLevel): void;
  /** A line written by the daemon on the provisioner's behalf (the quota lines). */
  line(stage: string, level: LogLevel, output: string): void;
  /** Signals and a log sink for one provisioner call whose lines belong to `stage`. */
  control(stage: string): CallControl;
  /** Throws the cancel failure if the job was canceled; called between steps. */
  checkCanceled(): void;
  /** Waits until queued lines are delivered (never throws: a lost link is handled elsewhere). */
  flush(): Promise<void>;
  timed<T>(stage: JobStage, fn: () => Promise<T>): Promise<T>;
  /**
   * One step of the job: checks for a cancel first, times `fn` as `timing`, and turns its
   * failure into the job's (`asJobFailure` with `prefix` and `code`).
   */
  step<T>(timing: JobStage, prefix: string, code: JobErrorCode, fn: () => Promise<T>): Promise<T>;
  /** The stage and resource timings the job's provisioner calls reported so far. */
  timings(): Timing[];
}

/**
 * Turns a provisioner failure into the job failure coderd sees, keeping its category and any
 * state it left; `prefix` adds the reference's context (e.g. "run parse: ").
 */
export function asJobFailure(
  error: unknown,
  prefix = "",
  fallbackCode: JobFailure["code"] = "INTERNAL",
): JobFailure {
  if (error instanceof JobFailure) {
    return prefix === ""
      ? error
      : new JobFailure(`${prefix}${error.message}`, {
          code: error.code,
          state: error.state,
          cause: error,
        });
  }
  if (error instanceof ProvisionError) {
    return new JobFailure(`${prefix}${error.message}`, {
      code: error.code,
      state: error.state,
      cause: error,
    });
  }
  return new JobFailure(`${prefix}${errorMessage(error)}`, { code: fallbackCode, cause: error });
}

export function daemonLine(stage: string, level: LogLevel = LogLevel.INFO, output = "") {
  return { source: LogSource.PROVISIONER_DAEMON, level, stage, output };
}
