// The job channel's log stream: numbered lines, batched by time, count and size, sent through
// the channel's one writer in order, retried without loss or duplication, with back-pressure
// instead of an unbounded queue.
//
// Fixes two reference quirks: the reference used a pure 50 ms debounce,
// so a provisioner that never paused held its logs back until the next explicit flush, and its
// 100-line early flush never fired. Here a line waits at most `maxDelayMs`, a full batch goes
// at once, and a stage change sends the previous stage's lines straight away.
import {
  type Log,
  type LogLevel,
  type LogSource,
  UpdateJobRequest,
  type UpdateJobResponse,
} from "../provisioner/model.js";
import { type Deferred, deferred } from "./abort.js";
import type { LogBatchOptions } from "./options.js";
import type { SerialQueue } from "./serial.js";

export interface LogLineInput {
  source: LogSource;
  level: LogLevel;
  stage: string;
  output: string;
}

/** Sends one UpdateJob (retrying transport errors itself); rejects when it cannot. */
export type UpdateSender = (request: UpdateJobRequest) => Promise<UpdateJobResponse>;

/** Extra fields for an update that carries more than logs (README, parse results). */
export type UpdatePayload = Partial<Omit<UpdateJobRequest, "jobId" | "logs">>;

/** An UpdateJob carrying only `logs` (none: a heartbeat). */
export function emptyUpdate(jobId: string, logs: UpdateJobRequest["logs"] = []): UpdateJobRequest {
  return UpdateJobRequest.create({ jobId, logs });
}

export interface LogBatcherOptions extends LogBatchOptions {
  jobId: string;
  /** The job's one writer of UpdateJob: every send of the batcher runs in its turn. */
  writer: SerialQueue;
  send: UpdateSender;
  /** Lines coderd acknowledged. */
  onSent?: (count: number) => void;
  /** A plain log batch could not be delivered; the batcher stops (the job cannot go on). */
  onFailure?: (error: unknown) => void;
}

/** gRPC's default message limit is 4 MiB; one line never gets near it. */
export const MAX_LINE_BYTES = 256 << 10;
/** Rough per-line protobuf overhead (tags, lengths, enums, numbers). */
const LINE_OVERHEAD = 32;

function truncateLine(output: string): string {
  if (output.length <= MAX_LINE_BYTES / 4) return output;
  const bytes = Buffer.byteLength(output);
  if (bytes <= MAX_LINE_BYTES) return output;
  const kept = Buffer.from(output).subarray(0, MAX_LINE_BYTES).toString("utf8");
  return `${kept}… [line truncated: ${bytes} bytes]`;
}

function lineBytes(log: Log): number {
  return Buffer.byteLength(log.output) + log.stage.length + LINE_OVERHEAD;
}

interface FlushWaiter {
  through: number;
  done: Deferred<void>;
}

export class LogBatcher {
  private readonly options: LogBatcherOptions;
  private readonly writer: SerialQueue;
  /** Lines not yet acknowledged, in sequence order (the head may be in flight). */
  private readonly queue: Log[] = [];
  private readonly sizes: number[] = [];
  private queuedBytes = 0;
  private nextSequence = 1;
  private ackedThrough = 0;
  private lastStage: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private drainScheduled = false;
  private failure: unknown;
  private stopped = false;
  private spaceWaiters: Deferred<void>[] = [];
  private flushWaiters: FlushWaiter[] = [];
  /** Most lines held at once; tests and benchmarks check memory stays bounded. */
  highWaterLines = 0;

  constructor(options: LogBatcherOptions) {
    this.options = options;
    this.writer = options.writer;
  }

  /** Sequence number of the last line pushed (0 before the first). */
  private get lastSequence(): number {
    return this.nextSequence - 1;
  }

  get bufferedLines(): number {
    return this.queue.length;
  }

  /**
   * Queues one line. Returns a promise when the buffer is full: the caller (the provisioner's
   * log sink) must wait for it before producing more.
   */
  push(line: LogLineInput): undefined | Promise<void> {
    if (this.stopped || this.failure !== undefined) return undefined;
    const log = this.append(line);
    const stageChanged = this.lastStage !== undefined && log.stage !== this.lastStage;
    this.lastStage = log.stage;
    if (stageChanged || log.sequence === 1 || this.unsentIsFullBatch()) {
      this.kick();
    } else if (this.timer === undefined && !this.drainScheduled) {
      this.timer = setTimeout(() => this.kick(), this.options.maxDelayMs);
    }
    if (
      this.queue.length >= this.options.bufferLines ||
      this.queuedBytes >= this.options.bufferBytes
    ) {
      const waiter = deferred<void>();
      this.spaceWaiters.push(waiter);
      return waiter.promise;
    }
    return undefined;
  }

  /** Resolves when every line pushed so far is acknowledged; rejects if that became impossible. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const through = this.lastSequence;
    if (this.ackedThrough >= through) return Promise.resolve();
    const waiter: FlushWaiter = { through, done: deferred<void>() };
    this.flushWaiters.push(waiter);
    this.kick();
    return waiter.done.promise;
  }

  /**
   * Sends `payload` together with `lines` (or, without lines, with whatever is queued), after
   * every earlier line. Returns coderd's answer. A refusal is returned to the caller and does not
   * stop the batcher: the lines of that request stay queued and go again (same numbers).
   */
  sendUpdate(payload: UpdatePayload, lines: LogLineInput[] = []): Promise<UpdateJobResponse> {
    return this.writer.run(async () => {
      // Appended only now, so no plain batch sent before this turn can carry them.
      for (const line of lines) this.lastStage = this.append(line).stage;
      const through = this.lastSequence;
      this.clearTimer();
      for (;;) {
        if (this.failure !== undefined) throw this.failure;
        const batch = this.takeBatch();
        const carries = batch.length === 0 || (batch.at(-1)?.sequence ?? 0) >= through;
        const request: UpdateJobRequest = {
          ...emptyUpdate(this.options.jobId, batch),
          ...(carries ? payload : {}),
          jobId: this.options.jobId,
          logs: batch,
        };
        if (!carries) {
          await this.sendBatch(request);
          continue;
        }
        const response = await this.options.send(request);
        this.acknowledge(batch.length);
        if (this.queue.length > 0) this.kick();
        return response;
      }
    });
  }

  /** Stops timers and releases waiters; later pushes are dropped. For the end of the job. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.releaseSpace(true);
  }

  private append(line: LogLineInput): Log {
    const log: Log = {
      source: line.source,
      level: line.level,
      createdAt: Date.now(),
      stage: line.stage,
      output: truncateLine(line.output),
      sequence: this.nextSequence++,
    };
    const size = lineBytes(log);
    this.queue.push(log);
    this.sizes.push(size);
    this.queuedBytes += size;
    if (this.queue.length > this.highWaterLines) this.highWaterLines = this.queue.length;
    return log;
  }

  private unsentIsFullBatch(): boolean {
    return this.queue.length >= this.options.maxLines || this.queuedBytes >= this.options.maxBytes;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private kick(): void {
    this.clearTimer();
    if (this.drainScheduled || this.failure !== undefined) return;
    this.drainScheduled = true;
    this.writer
      .run(async () => {
        this.drainScheduled = false;
        while (this.queue.length > 0 && this.failure === undefined) {
          await this.sendBatch(emptyUpdate(this.options.jobId, this.takeBatch()));
        }
      })
      .catch((error: unknown) => this.fail(error));
  }

  /** The head of the queue, up to the batch limits, at least one line if any. */
  private takeBatch(): Log[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && count < this.options.maxLines) {
      const size = this.sizes[count] ?? 0;
      if (count > 0 && bytes + size > this.options.maxBytes) break;
      bytes += size;
      count++;
    }
    return this.queue.slice(0, count);
  }

  private async sendBatch(request: UpdateJobRequest): Promise<void> {
    await this.options.send(request);
    this.acknowledge(request.logs.length);
  }

  private acknowledge(count: number): void {
    if (count === 0) return;
    this.queue.splice(0, count);
    for (const size of this.sizes.splice(0, count)) this.queuedBytes -= size;
    this.ackedThrough += count;
    this.options.onSent?.(count);
    this.releaseSpace(false);
    this.flushWaiters = this.flushWaiters.filter((waiter) => {
      if (waiter.through > this.ackedThrough) return true;
      waiter.done.resolve();
      return false;
    });
  }

  private releaseSpace(all: boolean): void {
    const lowLines = this.options.bufferLines / 2;
    const lowBytes = this.options.bufferBytes / 2;
    if (all || (this.queue.length <= lowLines && this.queuedBytes <= lowBytes)) {
      for (const waiter of this.spaceWaiters) waiter.resolve();
      this.spaceWaiters = [];
    }
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.clearTimer();
    for (const waiter of this.flushWaiters) waiter.done.reject(error);
    this.flushWaiters = [];
    this.releaseSpace(true);
    this.options.onFailure?.(error);
  }
}
