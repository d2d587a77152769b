// One job's line to its coordinator: retried calls, `canceled` watching on every answer,
// heartbeats while nothing else went out, and a deadline after which the job is given up
// because coderd has (v0.17 coderd fails a job it has not heard about for 30 s).
import type { Logger } from "pino";
import type {
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  FailedJob,
  UpdateJobRequest,
  UpdateJobResponse,
} from "../proto/provisionerd.js";
import { delay } from "./abort.js";
import type { JobCoordinator } from "./coordinator.js";
import { errorMessage, TransportError } from "./errors.js";
import { type BackoffPolicy, JOB_RPC_BACKOFF, retryTransport } from "./retry.js";

export interface JobLinkOptions {
  jobId: string;
  coordinator: JobCoordinator;
  logger: Logger;
  heartbeatIntervalMs: number;
  heartbeatDeadlineMs: number;
  backoff?: BackoffPolicy;
  /** coderd said the job is canceled (called on every such answer; make it idempotent). */
  onCanceled: () => void;
  /** The job cannot go on: heartbeats failed past the deadline, or coderd refused one. */
  onLost: (error: Error) => void;
}

/** An UpdateJob carrying only `logs` (none: a heartbeat). */
export function emptyUpdate(jobId: string, logs: UpdateJobRequest["logs"] = []): UpdateJobRequest {
  return {
    jobId,
    logs,
    parameterSchemas: [],
    templateVariables: [],
    userVariableValues: [],
    readme: Buffer.alloc(0),
  };
}

export class JobLink {
  private readonly options: JobLinkOptions;
  private readonly stopController = new AbortController();
  private lastContactAt = Date.now();
  private lastError: unknown;
  private heartbeatRunning = false;
  private watchdog: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(options: JobLinkOptions) {
    this.options = options;
  }

  /** Aborts when the link stops (job over, or lost). */
  get signal(): AbortSignal {
    return this.stopController.signal;
  }

  /** UpdateJob, retried until it gets an answer or the link stops. */
  update(request: UpdateJobRequest): Promise<UpdateJobResponse> {
    return this.call((signal) => this.options.coordinator.updateJob(request, signal)).then(
      (response) => {
        if (response.canceled) this.options.onCanceled();
        return response;
      },
    );
  }

  commitQuota(request: CommitQuotaRequest): Promise<CommitQuotaResponse> {
    return this.call((signal) => this.options.coordinator.commitQuota(request, signal));
  }

  /** Sends the terminal message, retried until it is delivered or `signal` aborts. */
  async finish(
    message: { kind: "complete"; request: CompletedJob } | { kind: "fail"; request: FailedJob },
    signal: AbortSignal,
  ): Promise<void> {
    const { coordinator } = this.options;
    await retryTransport(
      (attempt) => {
        if (attempt > 0) this.options.logger.debug({ attempt }, "retrying terminal message");
        return message.kind === "complete"
          ? coordinator.completeJob(message.request, signal)
          : coordinator.failJob(message.request, signal);
      },
      { signal, policy: this.options.backoff ?? JOB_RPC_BACKOFF },
    );
  }

  /** Starts heartbeats and the deadline watchdog. */
  start(): void {
    this.armWatchdog();
    if (!this.heartbeatRunning) {
      this.heartbeatRunning = true;
      void this.heartbeatLoop();
    }
  }

  /** Stops heartbeats, the watchdog and every pending retry. */
  stop(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.stopController.abort(new Error("job link stopped"));
  }

  private async call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.stopController.signal;
    const result = await retryTransport(
      async () => {
        try {
          return await fn(signal);
        } catch (error) {
          if (error instanceof TransportError) this.lastError = error;
          throw error;
        }
      },
      {
        signal,
        policy: this.options.backoff ?? JOB_RPC_BACKOFF,
        onRetry: (error, attempt, wait) =>
          this.options.logger.debug(
            { err: error.message, attempt, waitMs: wait },
            "coderd call failed; retrying",
          ),
      },
    );
    this.noteContact();
    return result;
  }

  private noteContact(): void {
    this.lastContactAt = Date.now();
    if (!this.stopController.signal.aborted) this.armWatchdog();
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      const reason =
        this.lastError === undefined
          ? `no answer from coderd for ${this.options.heartbeatDeadlineMs} ms`
          : errorMessage(this.lastError);
      this.loseLink(new Error(`send periodic update: ${reason}`));
    }, this.options.heartbeatDeadlineMs);
    this.watchdog.unref?.();
  }

  private loseLink(error: Error): void {
    if (this.lost) return;
    this.lost = true;
    this.stop();
    this.options.onLost(error);
  }

  /**
   * One heartbeat per interval, skipped while other updates keep arriving. Heartbeats go on
   * after a cancel (unlike the reference): otherwise coderd would declare a job that is still
   * stopping Terraform hung after 30 s.
   */
  private async heartbeatLoop(): Promise<void> {
    const { heartbeatIntervalMs: interval, coordinator, jobId } = this.options;
    const signal = this.stopController.signal;
    let lastAttemptAt = Date.now();
    while (!signal.aborted) {
      const due = Math.max(this.lastContactAt, lastAttemptAt) + interval;
      try {
        await delay(Math.max(0, due - Date.now()), signal);
      } catch {
        return;
      }
      if (Date.now() - this.lastContactAt < interval) continue;
      lastAttemptAt = Date.now();
      try {
        const response = await coordinator.updateJob(emptyUpdate(jobId), signal);
        this.noteContact();
        if (response.canceled) this.options.onCanceled();
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof TransportError) {
          this.lastError = error;
          this.options.logger.debug({ err: error.message }, "heartbeat failed; will retry");
          continue;
        }
        // coderd answered and refused (job not ours, already ended...): it gave up on the job.
        this.loseLink(new Error(`send periodic update: ${errorMessage(error)}`));
        return;
      }
    }
  }
}
