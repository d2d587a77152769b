// What a job-type handler gets from the runner: the session, its job's log and updates, quota,
// cancellation, and timed steps. Handlers hold no state of their own.
import type { Logger } from "pino";
import {
  type AcquiredJob,
  type CommitQuotaResponse,
  LogLevel,
  LogSource,
  type Timing,
  type UpdateJobResponse,
} from "../../provisioner/model.js";
import type { CallControl, ProvisionSession } from "../../provisioner/provisioner.js";
import { ProvisionError } from "../../provisioner/provisioner.js";
import { errorMessage, type JobErrorCode, JobFailure } from "../errors.js";
import type { LogLineInput, UpdatePayload } from "../log-batcher.js";
import type { JobStage } from "../observer.js";

export interface JobContext {
  readonly job: AcquiredJob;
  readonly session: ProvisionSession;
  readonly logger: Logger;
  /** A daemon stage marker: source PROVISIONER_DAEMON, empty output. */
  marker(stage: string, level?: LogLevel): void;
  /** A line written by the daemon on the provisioner's behalf (the quota lines). */
  line(stage: string, level: LogLevel, output: string): void;
  /** Signals and a log sink for one provisioner call whose lines belong to `stage`. */
  control(stage: string): CallControl;
  /** Throws the cancel failure if the job was canceled; called between steps. */
  checkCanceled(): void;
  /** Waits until queued lines are delivered (never throws: a lost job is handled elsewhere). */
  flush(): Promise<void>;
  /**
   * One step of the job: checks for a cancel first, times `fn` as `timing`, and turns its
   * failure into the job's (`asJobFailure` with `prefix` and `code`).
   */
  step<T>(timing: JobStage, prefix: string, code: JobErrorCode, fn: () => Promise<T>): Promise<T>;
  /** The stage and resource timings the job's provisioner calls reported so far. */
  timings(): Timing[];
  /** An UpdateJob carrying `payload` and `lines`, after every earlier line; coderd's answer. */
  update(payload: UpdatePayload, lines?: LogLineInput[]): Promise<UpdateJobResponse>;
  commitQuota(dailyCost: number): Promise<CommitQuotaResponse>;
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
