// One job's line to its coordinator: retried calls, `canceled` watching on every answer,
// heartbeats while nothing else went out, and a deadline after which the job is given up
// because coderd has (v0.17 coderd fails a job it has not heard about for 30 s).
//
// The deadline counts from the first call that failed since coderd's last answer, or from the
// start of a call that gets no answer at all (a hung coderd), so time spent waiting for a busy
// coderd's answer before it went away is not charged to the outage.
// Giving up stops heartbeats only: calls already retrying (the job's last log lines) go on, and
// the runner still delivers the job's end once coderd answers again.
import type { Logger } from "pino";
import type {
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  FailedJob,
  UpdateJobRequest,
  UpdateJobResponse,
} from "../provisioner/model.js";
import { delay, untilAborted } from "./abort.js";
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
  /** The job cannot go on: coderd answered nothing for the deadline, or refused a heartbeat. */
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
    workspaceTags: {},
  };
}

export class JobLink {
  private readonly options: JobLinkOptions;
  private readonly stopController = new AbortController();
  private readonly heartbeatController = new AbortController();
  private lastContactAt = Date.now();
  /** When the first call failed since coderd's last answer. */
  private failingSince: number | undefined;
  private lastError: unknown;
  private heartbeatRunning = false;
  private heartbeats: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lost = false;

  constructor(options: JobLinkOptions) {
    this.options = options;
  }

  /** Aborts when the link stops (the job is over). */
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

  /** Starts heartbeats (and with them the deadline watchdog). */
  start(): void {
    if (!this.heartbeatRunning) {
      this.heartbeatRunning = true;
      this.heartbeats = this.heartbeatLoop();
    }
  }

  /**
   * Stops heartbeats, the watchdog and every pending retry. A heartbeat already sent is waited
   * for (until `signal` aborts), so that it cannot reach coderd after the job's end.
   */
  async stop(signal?: AbortSignal): Promise<void> {
    this.stopHeartbeats();
    await untilAborted(this.heartbeats ?? Promise.resolve(), signal);
    this.stopController.abort(new Error("job link stopped"));
  }

  private stopHeartbeats(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.heartbeatController.abort(new Error("heartbeats stopped"));
  }

  private async call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.stopController.signal;
    const result = await retryTransport(() => this.attempt(() => fn(signal)), {
      signal,
      policy: this.options.backoff ?? JOB_RPC_BACKOFF,
      onRetry: (error, attempt, wait) =>
        this.options.logger.debug(
          { err: error.message, attempt, waitMs: wait },
          "coderd call failed; retrying",
        ),
    });
    return result;
  }

  /** One call: watched for the deadline, its outcome noted as contact or failure. */
  private async attempt<T>(fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    const hung = this.deadlineTimer(() => this.lastContactAt < started);
    try {
      const result = await fn();
      this.noteContact();
      return result;
    } catch (error) {
      if (error instanceof TransportError) this.noteFailure(error);
      else this.noteContact();
      throw error;
    } finally {
      if (hung !== undefined) clearTimeout(hung);
    }
  }

  private noteContact(): void {
    this.lastContactAt = Date.now();
    this.failingSince = undefined;
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private noteFailure(error: TransportError): void {
    this.lastError = error;
    if (this.failingSince !== undefined) return;
    const since = Date.now();
    this.failingSince = since;
    this.watchdog = this.deadlineTimer(() => this.lastContactAt < since);
  }

  /** Gives the link up after the deadline if `stillUnanswered()` then; only while it beats. */
  private deadlineTimer(stillUnanswered: () => boolean): NodeJS.Timeout | undefined {
    if (!this.heartbeatRunning || this.heartbeatController.signal.aborted) return undefined;
    const timer = setTimeout(() => {
      if (!stillUnanswered()) return;
      const reason =
        this.lastError === undefined
          ? `no answer from coderd for ${this.options.heartbeatDeadlineMs} ms`
          : errorMessage(this.lastError);
      this.loseLink(new Error(`send periodic update: ${reason}`));
    }, this.options.heartbeatDeadlineMs);
    timer.unref?.();
    return timer;
  }

  private loseLink(error: Error): void {
    if (this.lost) return;
    this.lost = true;
    this.stopHeartbeats();
    this.options.onLost(error);
  }

  /**
   * One heartbeat per interval, skipped while other updates keep arriving. Heartbeats go on
   * after a cancel (unlike the reference): otherwise coderd would declare a job that is still
   * stopping Terraform hung after 30 s.
   */
  private async heartbeatLoop(): Promise<void> {
    const { heartbeatIntervalMs: interval, coordinator, jobId } = this.options;
    // A heartbeat in flight is not cancelled when heartbeats stop, only when the link stops.
    const signal = this.stopController.signal;
    const beating = AbortSignal.any([signal, this.heartbeatController.signal]);
    let lastAttemptAt = Date.now();
    while (!beating.aborted) {
      const due = Math.max(this.lastContactAt, lastAttemptAt) + interval;
      try {
        await delay(Math.max(0, due - Date.now()), beating);
      } catch {
        return;
      }
      if (Date.now() - this.lastContactAt < interval) continue;
      lastAttemptAt = Date.now();
      try {
        const response = await this.attempt(() =>
          coordinator.updateJob(emptyUpdate(jobId), signal),
        );
        if (response.canceled) this.options.onCanceled();
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof TransportError) {
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
