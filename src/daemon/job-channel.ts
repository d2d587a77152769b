// Everything said to the coordinator about one running job, in one object: numbered log lines
// (batched, with back-pressure), README and parse results, heartbeats, quota, and the one
// terminal message. Every UpdateJob goes through one writer, so lines keep their order and a
// heartbeat never overtakes them. What the coordinator says back reaches the runner as two
// signals: `canceled` (coderd canceled the job) and `lost` (the job cannot go on).
//
// Calls are retried while they fail in transport. The job is lost after a deadline without an
// answer (v0.17 coderd fails a job it has not heard about for 30 s). The deadline counts from
// the first call that failed since coderd's last answer, or from the start of a call that gets
// no answer at all (a hung coderd), so time spent waiting for a busy coderd's answer before it
// went away is not charged to the outage. Losing the job stops heartbeats only: calls already
// retrying (the job's last log lines) go on, and the terminal message is still delivered once
// coderd answers again.
import type { Logger } from "pino";
import type { AcquiredJob, CommitQuotaResponse, UpdateJobResponse } from "../provisioner/model.js";
import { delay, untilAborted } from "./abort.js";
import type { JobCoordinator } from "./coordinator.js";
import { errorMessage, JobFailure, TransportError } from "./errors.js";
import { failedJob, type JobResult } from "./job-result.js";
import { FAILURE } from "./job-texts.js";
import { emptyUpdate, LogBatcher, type LogLineInput, type UpdatePayload } from "./log-batcher.js";
import type { DaemonObserver, ObservedJob } from "./observer.js";
import type { LogBatchOptions } from "./options.js";
import { type BackoffPolicy, JOB_RPC_BACKOFF, retryTransport } from "./retry.js";
import { SerialQueue } from "./serial.js";

export interface JobChannelOptions {
  job: AcquiredJob;
  coordinator: JobCoordinator;
  logger: Logger;
  heartbeatIntervalMs: number;
  heartbeatDeadlineMs: number;
  logBatch: LogBatchOptions;
  backoff?: BackoffPolicy;
  /** Told how many lines coderd acknowledged. */
  observer?: { observer: Pick<Required<DaemonObserver>, "logLinesSent">; job: ObservedJob };
}

export class JobChannel {
  private readonly options: JobChannelOptions;
  private readonly jobId: string;
  private readonly writer = new SerialQueue();
  private readonly logs: LogBatcher;
  private readonly canceledController = new AbortController();
  private readonly lostController = new AbortController();
  private readonly stopController = new AbortController();
  private readonly heartbeatController = new AbortController();
  private lastContactAt = Date.now();
  /** When the first call failed since coderd's last answer. */
  private failingSince: number | undefined;
  private lastError: unknown;
  private heartbeats: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private finished: Promise<boolean> | undefined;

  constructor(options: JobChannelOptions) {
    this.options = options;
    this.jobId = options.job.jobId;
    const watcher = options.observer;
    this.logs = new LogBatcher({
      ...options.logBatch,
      jobId: this.jobId,
      writer: this.writer,
      send: (request) =>
        this.call((signal) => options.coordinator.updateJob(request, signal)).then((response) =>
          this.answered(response),
        ),
      ...(watcher === undefined
        ? {}
        : { onSent: (count: number) => watcher.observer.logLinesSent(watcher.job, count) }),
      onFailure: (error) => {
        if (this.stopController.signal.aborted) return;
        this.refused(
          new JobFailure(`${FAILURE.sendLogs}${errorMessage(error)}`, {
            code: "INTERNAL",
            cause: error,
          }),
        );
      },
    });
  }

  /** Aborts (reason: the cancel's JobFailure) when coderd says the job is canceled. */
  get canceled(): AbortSignal {
    return this.canceledController.signal;
  }

  /** Aborts (reason: a JobFailure) when the job cannot go on: coderd is gone or refused. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Lines queued and not yet acknowledged; tests check memory stays bounded. */
  get bufferedLines(): number {
    return this.logs.bufferedLines;
  }

  /** Most lines held at once. */
  get highWaterLines(): number {
    return this.logs.highWaterLines;
  }

  /** Starts heartbeats (and with them the deadline watchdog). */
  start(): void {
    this.heartbeats ??= this.heartbeatLoop();
  }

  /**
   * Queues one line. Returns a promise when the buffer is full: the producer must wait for it
   * before writing more.
   */
  log(line: LogLineInput): undefined | Promise<void> {
    return this.logs.push(line);
  }

  /** Resolves when every line so far is acknowledged; rejects if that became impossible. */
  flush(): Promise<void> {
    return this.logs.flush();
  }

  /** Sends `payload` with `lines`, after every earlier line; resolves with coderd's answer. */
  update(payload: UpdatePayload, lines: LogLineInput[] = []): Promise<UpdateJobResponse> {
    return this.logs.sendUpdate(payload, lines);
  }

  commitQuota(dailyCost: number): Promise<CommitQuotaResponse> {
    return this.call((signal) =>
      this.options.coordinator.commitQuota({ jobId: this.jobId, dailyCost }, signal),
    );
  }

  /**
   * The job's end, once: its lines first (coderd takes none after it), then the terminal
   * message, each retried until coderd takes it or `giveUp` aborts. Resolves whether coderd
   * took the terminal message.
   */
  finish(result: JobResult, giveUp?: AbortSignal): Promise<boolean> {
    this.finished ??= this.deliver(result, giveUp);
    return this.finished;
  }

  private async deliver(result: JobResult, giveUp: AbortSignal | undefined): Promise<boolean> {
    const { coordinator, logger } = this.options;
    await untilAborted(
      this.logs.flush().catch(() => {}),
      giveUp,
    );
    this.logs.stop();
    await this.stop(giveUp);
    if (result.kind === "fail") {
      logger.info({ err: result.failure.message, code: result.failure.code }, "job failed");
    } else {
      logger.info("job completed");
    }
    const signal = giveUp ?? new AbortController().signal;
    try {
      await retryTransport(
        (attempt) => {
          if (attempt > 0) logger.debug({ attempt }, "retrying terminal message");
          return result.kind === "complete"
            ? coordinator.completeJob(result.job, signal)
            : coordinator.failJob(
                failedJob(this.options.job, result.failure, result.timings),
                signal,
              );
        },
        { signal, policy: this.options.backoff ?? JOB_RPC_BACKOFF },
      );
      return true;
    } catch (error) {
      logger.error(
        { err: errorMessage(error) },
        `send ${result.kind === "complete" ? "CompleteJob" : "FailJob"}`,
      );
      return false;
    }
  }

  /**
   * Stops heartbeats, the watchdog and every pending retry. A heartbeat already sent is waited
   * for (until `signal` aborts), so that it cannot reach coderd after the job's end.
   */
  private async stop(signal?: AbortSignal): Promise<void> {
    this.stopHeartbeats();
    await untilAborted(this.heartbeats ?? Promise.resolve(), signal);
    this.stopController.abort(new Error("job channel stopped"));
  }

  private answered(response: UpdateJobResponse): UpdateJobResponse {
    if (response.canceled && !this.canceled.aborted) {
      this.canceledController.abort(new JobFailure(FAILURE.canceled, { code: "CANCELED" }));
    }
    return response;
  }

  private lose(failure: JobFailure): void {
    if (this.lost.aborted) return;
    this.stopHeartbeats();
    this.lostController.abort(failure);
  }

  private stopHeartbeats(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.heartbeatController.abort(new Error("heartbeats stopped"));
  }

  private async call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = this.stopController.signal;
    return retryTransport(() => this.attempt(() => fn(signal)), {
      signal,
      policy: this.options.backoff ?? JOB_RPC_BACKOFF,
      onRetry: (error, attempt, wait) =>
        this.options.logger.debug(
          { err: error.message, attempt, waitMs: wait },
          "coderd call failed; retrying",
        ),
    });
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

  /** Loses the job after the deadline if `stillUnanswered()` then; only while it beats. */
  private deadlineTimer(stillUnanswered: () => boolean): NodeJS.Timeout | undefined {
    if (this.heartbeats === undefined || this.heartbeatController.signal.aborted) return undefined;
    const timer = setTimeout(() => {
      if (!stillUnanswered()) return;
      const reason =
        this.lastError === undefined
          ? `no answer from coderd for ${this.options.heartbeatDeadlineMs} ms`
          : errorMessage(this.lastError);
      this.loseContact(new Error(`${FAILURE.heartbeat}${reason}`));
    }, this.options.heartbeatDeadlineMs);
    timer.unref?.();
    return timer;
  }

  /**
   * coderd answered an update about the job with a refusal (not ours any more, already ended):
   * it gave up on the job. Log lines and heartbeats say so with the same line, since which of
   * them reaches coderd first after a reconnect is chance.
   */
  private refused(failure: JobFailure): void {
    if (this.lost.aborted) return;
    this.options.logger.error({ err: failure.message }, "coderd refused the job; failing it");
    this.lose(failure);
  }

  private loseContact(error: Error): void {
    if (this.lost.aborted) return;
    this.options.logger.error({ err: error.message }, "lost contact with coderd; failing the job");
    this.lose(new JobFailure(error.message, { code: "HEARTBEAT", cause: error }));
  }

  /**
   * One heartbeat per interval, skipped while other updates keep arriving. Heartbeats go on
   * after a cancel (unlike the reference): otherwise coderd would declare a job that is still
   * stopping Terraform hung after 30 s.
   */
  private async heartbeatLoop(): Promise<void> {
    const { heartbeatIntervalMs: interval, coordinator } = this.options;
    // A heartbeat in flight is not cancelled when heartbeats stop, only when the channel stops.
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
      // In the writer's turn: after the lines before it, and only if nothing answered meanwhile.
      await this.writer.run(async () => {
        if (beating.aborted || Date.now() - this.lastContactAt < interval) return;
        lastAttemptAt = Date.now();
        try {
          this.answered(
            await this.attempt(() => coordinator.updateJob(emptyUpdate(this.jobId), signal)),
          );
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof TransportError) {
            this.options.logger.debug({ err: error.message }, "heartbeat failed; will retry");
            return;
          }
          const message = `${FAILURE.heartbeat}${errorMessage(error)}`;
          this.refused(new JobFailure(message, { code: "HEARTBEAT", cause: error }));
        }
      });
    }
  }
}
