// The daemon: an explicit lifecycle (starting → running → draining → stopped, every change
// logged, as Temporal's worker does), an acquire loop bounded by free slots, and shutdown in
// three strengths: drain (finish running jobs), cancel (cancel them gracefully), close (fail
// them now and kill Terraform). close() is idempotent and runs every cleanup step even when
// one fails (BullMQ's close).
import { performance } from "node:perf_hooks";
import { type Logger, pino } from "pino";
import type { AcquiredJob, DaemonIdentity } from "../provisioner/model.js";
import type { Provisioner } from "../provisioner/provisioner.js";
import { deferred } from "./abort.js";
import { holdForJobs } from "./acquire-hold.js";
import { pollForJobs } from "./acquire-poll.js";
import { streamJobs } from "./acquire-stream.js";
import type { AcquireDeps } from "./acquire-types.js";
import { type CacheDirClaim, claimCacheDir } from "./cache-dir-claim.js";
import type { CoordinatorClient, CoordinatorContext, CoordinatorFactory } from "./coordinator.js";
import { defaultCacheDir, loadOrCreateDaemonId } from "./daemon-id.js";
import {
  DaemonOptionsError,
  DaemonStateError,
  errorMessage,
  JobFailure,
  UnimplementedError,
} from "./errors.js";
import { JobRecords } from "./job-records.js";
import { failedJob, type JobResult, jobStatus } from "./job-result.js";
import { runJob } from "./job-runner.js";
import { FAILURE } from "./job-texts.js";
import { collectLeftovers, reportLeftover } from "./leftovers.js";
import { type DaemonObserver, type DaemonState, safeObserver } from "./observer.js";
import { type DaemonConfig, type DaemonOptions, parseDaemonOptions } from "./options.js";
import { RecentIds } from "./recent-ids.js";
import { CONNECT_BACKOFF, jobRetryCapMs, retryTransport } from "./retry.js";
import { SlotPool } from "./slots.js";

export type ShutdownMode = "drain" | "cancel";

export interface Daemon {
  readonly state: DaemonState;
  /** The last exchange with coderd got an answer. */
  readonly connected: boolean;
  /** Known once start() resolved. */
  readonly daemonId: string | undefined;
  /** Ids of the jobs running now. */
  readonly runningJobs: string[];
  /**
   * Settles when the daemon is stopped: resolves after a drain, cancel, close or `maxJobs`;
   * rejects with the fatal error otherwise (e.g. AuthenticationRefusedError).
   */
  readonly done: Promise<void>;
  /** Resolves the daemon id, connects and starts taking jobs. */
  start(): Promise<void>;
  /**
   * Stops taking jobs. `drain` lets running jobs finish; `cancel` cancels them gracefully
   * (Terraform gets SIGINT). Resolves when stopped. Calling again may escalate drain → cancel.
   */
  shutdown(options?: { mode: ShutdownMode }): Promise<void>;
  /** Force: fails running jobs, kills Terraform, disconnects. Idempotent. */
  close(): Promise<void>;
}

/**
 * A daemon that reaches its coordinator through `options.connect`, a protocol adapter. The
 * package entry (index.ts) fills it in with our gRPC protocol when only a URL and a PSK are given.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const config = parseDaemonOptions(options);
  const connect = config.connect;
  if (connect === undefined)
    throw new DaemonOptionsError("invalid daemon options: connect: no protocol adapter given");
  return new ProvisionerDaemon(config, connect);
}

class ProvisionerDaemon implements Daemon {
  private readonly config: DaemonConfig;
  private readonly logger: Logger;
  private readonly observer: Required<DaemonObserver>;
  private readonly provisioners: Map<string, Provisioner>;
  private readonly slots: SlotPool;
  private readonly acquireController = new AbortController();
  private readonly cancelJobs = new AbortController();
  private readonly killJobs = new AbortController();
  private readonly giveUp = new AbortController();
  private readonly runs = new Map<string, Promise<JobResult>>();
  /**
   * Every job id this daemon took, running or ended: coderd may hand a job out again (its
   * acknowledgement was still on the way), and a job must never run twice. A re-send comes
   * within moments of the first hand-out, so the last 10,000 ids are plenty.
   */
  private readonly taken = new RecentIds(10_000);
  private readonly stopped = deferred<void>();
  private currentState: DaemonState = "starting";
  private loggedState: DaemonState = "starting";
  private isConnected = false;
  private id: string | undefined;
  private client: CoordinatorClient | undefined;
  private identity: DaemonIdentity | undefined;
  private acquireLoop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private fatalError: Error | undefined;
  private startCalled = false;
  /** This process's hold on the cache dir; released when the daemon stops. */
  private cacheDirClaim: CacheDirClaim | undefined;
  /** Records of running jobs, for the daemon that starts here after this one died. */
  private records: JobRecords | undefined;
  /** Failures of jobs a dead predecessor left, being delivered. */
  private readonly leftoverReports: Promise<void>[] = [];
  private jobsTaken = 0;

  constructor(
    config: DaemonConfig,
    private readonly connect: CoordinatorFactory,
  ) {
    this.config = config;
    this.logger = (config.logger ?? pino({ name: "provisionerd" })).child({ component: "daemon" });
    this.observer = safeObserver(config.observer, this.logger);
    this.provisioners = new Map(config.provisioners.map((p) => [p.type, p]));
    this.slots = new SlotPool(config.concurrency);
    // `done` may legitimately never be awaited (e.g. tests that only call close()).
    this.stopped.promise.catch(() => {});
  }

  get state(): DaemonState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get daemonId(): string | undefined {
    return this.id;
  }

  get runningJobs(): string[] {
    return [...this.runs.keys()];
  }

  get done(): Promise<void> {
    return this.stopped.promise;
  }

  async start(): Promise<void> {
    if (this.startCalled) throw new DaemonStateError("start() was already called");
    this.startCalled = true;
    try {
      const cacheDir =
        this.config.cacheDir ??
        (this.config.daemonId === undefined ? defaultCacheDir() : undefined);
      if (cacheDir !== undefined) {
        this.cacheDirClaim = await claimCacheDir(cacheDir);
        this.records = new JobRecords(cacheDir, this.logger);
      }
      this.id = this.config.daemonId ?? (await loadOrCreateDaemonId(cacheDir ?? defaultCacheDir()));
      const context: CoordinatorContext = {
        daemonId: this.id,
        logger: this.logger,
        rpcTimeoutMs: this.config.rpcTimeoutMs,
        // Running jobs share this connection: once coderd is back it must be found within a
        // small part of their heartbeat deadline, whatever the acquire loop's own backoff.
        reconnectMaxMs: Math.min(
          this.config.reconnect.maxMs,
          jobRetryCapMs(this.config.heartbeatDeadlineMs),
        ),
        onContact: (answered) => this.setConnected(answered),
        onFatal: (error) => this.fail(error),
      };
      this.client = this.connect(context);
    } catch (error) {
      this.fatalError = error instanceof Error ? error : new Error(String(error));
      await this.finish();
      throw error;
    }
    await this.takeOverLeftovers(this.client);
    this.identity = {
      id: this.id,
      name: this.config.name,
      version: this.config.version,
      provisioners: [...this.provisioners.keys()],
      tags: this.config.tags,
    };
    if (this.stopping !== undefined) return; // shut down while starting
    this.logger.info(
      {
        daemonId: this.id,
        name: this.config.name,
        tags: this.config.tags,
        provisioners: this.identity.provisioners,
        concurrency: this.config.concurrency,
        acquire: this.config.acquireMode,
      },
      "provisioner daemon starting",
    );
    this.setState("running");
    this.observer.slotsChanged({ busy: 0, idle: this.slots.size });
    this.acquireLoop = this.acquire().catch((error: unknown) => this.fail(error));
  }

  /**
   * Stops what jobs of a dead predecessor still run (before any job of ours can start in their
   * slots) and fails those jobs in the background. Their ids are never run here.
   */
  private async takeOverLeftovers(client: CoordinatorClient): Promise<void> {
    if (this.records === undefined) return;
    try {
      for (const leftover of await collectLeftovers(this.records, this.provisioners, this.logger)) {
        this.taken.add(leftover.record.jobId);
        this.leftoverReports.push(
          reportLeftover(leftover, client, this.logger, this.giveUp.signal).catch((error) =>
            this.logger.error({ err: errorMessage(error) }, "failing a leftover job failed"),
          ),
        );
      }
    } catch (error) {
      this.logger.error({ err: errorMessage(error) }, "looking for leftover jobs failed");
    }
  }

  shutdown(options: { mode: ShutdownMode } = { mode: "drain" }): Promise<void> {
    if (options.mode === "cancel" && !this.cancelJobs.signal.aborted) {
      this.logger.info({ jobs: this.runningJobs }, "canceling running jobs");
      this.cancelJobs.abort(new Error("provisioner daemon is shutting down"));
    }
    return this.beginStopping(options.mode);
  }

  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closing = (async () => {
      if (this.currentState === "stopped") return;
      this.logger.warn({ jobs: this.runningJobs }, "closing: failing running jobs");
      const safely = (step: string, fn: () => void) => {
        try {
          fn();
        } catch (error) {
          this.logger.error({ err: errorMessage(error), step }, "close step failed");
        }
      };
      safely("cancel jobs", () =>
        this.cancelJobs.abort(new Error("provisioner daemon is closing")),
      );
      safely("kill jobs", () =>
        this.killJobs.abort(new JobFailure(FAILURE.shutdown, { code: "SHUTDOWN" })),
      );
      const giveUpTimer = setTimeout(
        () => this.giveUp.abort(new Error("close deadline passed")),
        this.config.closeTimeoutMs,
      );
      try {
        await this.beginStopping("close");
      } finally {
        clearTimeout(giveUpTimer);
      }
    })();
    return this.closing;
  }

  private beginStopping(reason: string): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    if (this.currentState !== "stopped") this.setState("draining");
    this.logger.info({ reason }, "provisioner daemon stopping: no new jobs");
    this.acquireController.abort(new Error("daemon stopping"));
    this.stopping = this.drainAndStop();
    return this.stopping;
  }

  private async drainAndStop(): Promise<void> {
    try {
      await this.acquireLoop;
    } catch {
      // fail() already handled it.
    }
    while (this.runs.size > 0) await Promise.allSettled(this.runs.values());
    await Promise.allSettled(this.leftoverReports);
    await this.finish();
  }

  /** Fatal error: stop everything; `done` rejects with it. */
  private fail(error: unknown): void {
    if (this.fatalError !== undefined) return;
    this.fatalError = error instanceof Error ? error : new Error(String(error));
    this.logger.error({ err: this.fatalError.message }, "provisioner daemon cannot go on");
    void this.close();
  }

  private async finish(): Promise<void> {
    if (this.currentState === "stopped") return;
    await this.cacheDirClaim?.release();
    try {
      this.client?.close();
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, "closing the coderd connection failed");
    }
    this.setConnected(false);
    this.setState("stopped");
    if (this.fatalError !== undefined) this.stopped.reject(this.fatalError);
    else this.stopped.resolve();
  }

  private async acquire(): Promise<void> {
    const client = this.client;
    const identity = this.identity;
    if (client === undefined || identity === undefined) return;
    const signal = this.acquireController.signal;
    const deps: AcquireDeps = {
      client,
      identity,
      logger: this.logger,
      observer: this.observer,
      backoff: { ...CONNECT_BACKOFF, ...this.config.reconnect },
      readySlots: () => this.readySlots(),
      slotEvents: this.slots.events,
      onJob: (job) => this.onJob(job),
    };
    // A coordinator whose acquire blocks gets one open acquire per free slot; otherwise the
    // daemon polls, one acquire at a time.
    const unary = client.acquireBlocks === true ? holdForJobs : pollForJobs;
    const poll = () =>
      unary(
        deps,
        {
          intervalMs: this.config.pollIntervalMs,
          jitterMs: this.config.pollJitterMs,
          waitMs: this.config.pollWaitMs,
        },
        signal,
      );
    const stream = client.acquireStream;
    if (this.config.acquireMode === "poll" || stream === undefined) return poll();
    try {
      await streamJobs(deps, stream, signal);
    } catch (error) {
      if (!(error instanceof UnimplementedError)) throw error;
      this.logger.warn("coderd does not offer the acquire stream; polling instead");
      await poll();
    }
  }

  private readySlots(): number {
    if (this.currentState !== "running") return 0;
    let ready = this.slots.free;
    if (this.config.maxJobs !== undefined)
      ready = Math.min(ready, this.config.maxJobs - this.jobsTaken);
    return Math.max(0, ready);
  }

  private onJob(job: AcquiredJob): void {
    if (this.taken.has(job.jobId)) {
      // coderd re-sends a job whose acknowledgement it had not seen yet; it ran or runs here.
      this.logger.debug({ jobId: job.jobId }, "job re-sent by coderd was taken already");
      return;
    }
    this.taken.add(job.jobId);
    const slot = this.slots.take();
    if (slot === undefined) {
      // Impossible with a coderd that keeps the protocol: a job is pushed only against a credit
      // and a credit is offered only for a free slot (polling asks only with a free slot). A job
      // from one that does not goes back as failed instead of waiting where nobody sees it.
      this.logger.error({ jobId: job.jobId }, "job arrived with every slot busy; failing it");
      void this.refuse(job);
      return;
    }
    this.launch(job, slot);
  }

  private launch(job: AcquiredJob, slot: number): void {
    this.jobsTaken++;
    const client = this.client as CoordinatorClient;
    const started = performance.now();
    const record = this.records?.begin({
      jobId: job.jobId,
      type: job.type?.$case ?? "unknown",
      provisioner: job.provisioner,
    });
    const promise = runJob(job, {
      coordinator: client,
      provisioner: this.provisioners.get(job.provisioner),
      slot,
      logger: this.logger,
      observer: this.config.observer ?? {},
      signal: this.cancelJobs.signal,
      killSignal: this.killJobs.signal,
      giveUpSignal: this.giveUp.signal,
      ...(record === undefined ? {} : { journal: record }),
      // The config's heartbeat, force-cancel and log batch settings are the job's timing.
      timing: this.config,
    });
    this.runs.set(job.jobId, promise);
    this.observer.slotsChanged({ busy: this.slots.busy, idle: this.slots.free });
    void promise.then((result) => {
      const seconds = (performance.now() - started) / 1000;
      this.logger.info({ jobId: job.jobId, status: jobStatus(result), seconds }, "job finished");
      this.runs.delete(job.jobId);
      void record?.end();
      this.slots.release(slot);
      this.observer.slotsChanged({ busy: this.slots.busy, idle: this.slots.free });
    });
    if (this.config.maxJobs !== undefined && this.jobsTaken >= this.config.maxJobs) {
      this.logger.info({ maxJobs: this.config.maxJobs }, "max jobs taken; draining");
      void this.beginStopping("max jobs");
    }
  }

  private async refuse(job: AcquiredJob): Promise<void> {
    const client = this.client as CoordinatorClient;
    const request = failedJob(job, new JobFailure(FAILURE.noFreeSlot, { code: "INTERNAL" }));
    const signal = this.giveUp.signal;
    await retryTransport((_attempt) => client.failJob(request, signal), { signal }).catch(
      (error: unknown) => this.logger.error({ err: errorMessage(error) }, "send FailJob"),
    );
  }

  private setState(state: DaemonState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.logState();
    this.observer.stateChanged(state);
  }

  /**
   * Logs the state once it holds for an operator: "running" only after coderd answered, since
   * a daemon that cannot reach coderd runs no job (it logs each failed attempt meanwhile).
   */
  private logState(): void {
    const state = this.currentState;
    if (state === this.loggedState || (state === "running" && !this.isConnected)) return;
    this.logger.info({ from: this.loggedState, to: state }, "daemon state changed");
    this.loggedState = state;
  }

  private setConnected(connected: boolean): void {
    if (this.isConnected === connected) return;
    this.isConnected = connected;
    this.logger.info(
      { connected },
      connected ? "connected to coderd" : "lost connection to coderd",
    );
    this.observer.connectionChanged(connected);
    this.logState();
  }
}
