// Runs one acquired job from "Setting up" to exactly one terminal message, whatever happens:
// provisioner failure, coderd cancel (graceful, then forced after the interval), a lost link to
// coderd, or the daemon forcing it down. Usable without gRPC: it only needs a JobCoordinator.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import {
  type AcquiredJob,
  type CompletedJob,
  type FailedJob,
  LogLevel,
  LogSource,
  type Timing,
} from "../provisioner/model.js";
import type { LogSink, Provisioner, ProvisionSession } from "../provisioner/provisioner.js";
import { deferred, untilAborted } from "./abort.js";
import type { JobCoordinator } from "./coordinator.js";
import { errorMessage, isAbortError, type JobErrorCode, JobFailure } from "./errors.js";
import { JobLink } from "./job-link.js";
import type { JobJournal } from "./job-records.js";
import { asJobFailure, daemonLine, type JobContext } from "./jobs/job-context.js";
import { runTemplateDryRun } from "./jobs/template-dry-run.js";
import { runTemplateImport } from "./jobs/template-import.js";
import { runWorkspaceBuild } from "./jobs/workspace-build.js";
import { LogBatcher } from "./log-batcher.js";
import {
  type DaemonObserver,
  type JobStage,
  type JobStatus,
  type JobType,
  type ObservedJob,
  safeObserver,
} from "./observer.js";
import { type LogBatchOptions, LogBatchOptionsSchema } from "./options.js";
import { jobRpcBackoff } from "./retry.js";
import { FAILURE, STAGE } from "./stages.js";

export interface RunJobTiming {
  heartbeatIntervalMs: number;
  /**
   * coderd answering nothing this long gives the job up (HEARTBEAT): Terraform is killed, and
   * the failure, with the state it left, is delivered once coderd answers again.
   */
  heartbeatDeadlineMs: number;
  forceCancelIntervalMs: number;
  /** How long a killed provisioner call gets to return before cleanup goes ahead anyway. */
  killGraceMs: number;
  logBatch: LogBatchOptions;
}

export const DEFAULT_JOB_TIMING: RunJobTiming = {
  heartbeatIntervalMs: 500,
  heartbeatDeadlineMs: 25_000,
  forceCancelIntervalMs: 10 * 60_000,
  killGraceMs: 5_000,
  logBatch: LogBatchOptionsSchema.parse({}),
};

export interface RunJobOptions {
  coordinator: JobCoordinator;
  /** The provisioner for `job.provisioner`; undefined fails the job with `no provisioner <name>`. */
  provisioner: Provisioner | undefined;
  slot: number;
  logger: Logger;
  observer?: DaemonObserver;
  /** Graceful cancel from our side (daemon shutting down in cancel mode). */
  signal?: AbortSignal;
  /**
   * Force: fail the job at once and kill what runs. A JobFailure reason is what coderd gets;
   * otherwise `provisioner daemon was shutdown gracefully`.
   */
  killSignal?: AbortSignal;
  /** Stop trying to deliver the terminal message (daemon close deadline). */
  giveUpSignal?: AbortSignal;
  /** Told the job's work dir and processes, for cleaning up after a daemon that died. */
  journal?: JobJournal;
  timing?: Partial<RunJobTiming>;
}

export interface JobOutcome {
  jobId: string;
  status: JobStatus;
  /** The failure sent in FailJob. */
  error?: string;
  errorCode?: JobErrorCode;
  /** Whether coderd acknowledged the terminal message. */
  delivered: boolean;
}

/**
 * The forced failure, carrying the state the killed work handed back (or the final state of a
 * build that finished just as it was forced): the forced reason is what coderd reads, but the
 * resources terraform created before the kill still exist.
 */
function withStateOf(forced: JobFailure, settled: Result | undefined): JobFailure {
  const state =
    settled?.kind === "fail"
      ? settled.failure.state
      : settled?.request.type?.$case === "workspaceBuild"
        ? settled.request.type.value.state
        : undefined;
  if (state === undefined || forced.state !== undefined) return forced;
  return new JobFailure(forced.message, { code: forced.code, state, cause: forced.cause });
}

export function jobTypeOf(job: AcquiredJob): JobType {
  switch (job.type?.$case) {
    case "templateImport":
      return "template_import";
    case "templateDryRun":
      return "template_dry_run";
    case "workspaceBuild":
      return "workspace_build";
    default:
      return "unknown";
  }
}

/** Runs the job to its end; never rejects. */
export function runJob(job: AcquiredJob, options: RunJobOptions): Promise<JobOutcome> {
  return new JobRun(job, options).run();
}

type Result = { kind: "complete"; request: CompletedJob } | { kind: "fail"; failure: JobFailure };

class JobRun {
  private readonly job: AcquiredJob;
  private readonly options: RunJobOptions;
  private readonly timing: RunJobTiming;
  private readonly logger: Logger;
  private readonly observer: Required<DaemonObserver>;
  private readonly observed: ObservedJob;
  private readonly cancelController = new AbortController();
  private readonly killController = new AbortController();
  private readonly forced = deferred<JobFailure>();
  private readonly link: JobLink;
  /** Stage and resource timings the provisioner reported, for the job's terminal message. */
  private readonly timings: Timing[] = [];
  private readonly logs: LogBatcher;
  private cancelFailure: JobFailure | undefined;
  private forcedFailure: JobFailure | undefined;
  private forceTimer: NodeJS.Timeout | undefined;
  private session: ProvisionSession | undefined;

  constructor(job: AcquiredJob, options: RunJobOptions) {
    this.job = job;
    this.options = options;
    this.timing = { ...DEFAULT_JOB_TIMING, ...options.timing };
    this.logger = options.logger.child({ jobId: job.jobId, slot: options.slot });
    this.observer = safeObserver(options.observer, this.logger);
    this.observed = {
      jobId: job.jobId,
      provisioner: job.provisioner,
      type: jobTypeOf(job),
      slot: options.slot,
    };
    this.link = new JobLink({
      jobId: job.jobId,
      coordinator: options.coordinator,
      logger: this.logger,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
      heartbeatDeadlineMs: this.timing.heartbeatDeadlineMs,
      backoff: jobRpcBackoff(this.timing.heartbeatDeadlineMs),
      onCanceled: () => this.cancel("coderd"),
      onLost: (error) => {
        this.logger.error({ err: error.message }, "lost contact with coderd; failing the job");
        this.force(new JobFailure(error.message, { code: "HEARTBEAT", cause: error }));
      },
    });
    this.logs = new LogBatcher({
      ...this.timing.logBatch,
      jobId: job.jobId,
      send: (request) => this.link.update(request),
      onSent: (count) => this.observer.logLinesSent(this.observed, count),
      onFailure: (error) => {
        if (this.link.signal.aborted) return;
        this.logger.error({ err: errorMessage(error) }, "coderd refused the job's logs");
        this.force(
          new JobFailure(`send logs: ${errorMessage(error)}`, { code: "INTERNAL", cause: error }),
        );
      },
    });
  }

  async run(): Promise<JobOutcome> {
    const startedAt = performance.now();
    this.observer.jobStarted(this.observed);
    this.logger.info(
      { type: this.observed.type, provisioner: this.job.provisioner },
      "acquired job",
    );
    const detach = this.watchExternalSignals();
    let result: Result;
    if (this.options.provisioner === undefined) {
      result = this.failed(
        new JobFailure(`no provisioner ${this.job.provisioner}`, { code: "UNSUPPORTED" }),
      );
    } else {
      this.link.start();
      result = await this.runWork(this.options.provisioner);
      await this.cleanUp();
    }
    detach();
    if (this.forceTimer !== undefined) clearTimeout(this.forceTimer);
    // The job's lines go before its end (coderd takes no lines after it), and both are retried
    // for as long as coderd may still take them: until it answers, or the daemon gives up on
    // delivering (close deadline). A coderd that was away, even past the deadline, still gets
    // the job's whole log and its result, state included.
    await untilAborted(
      this.logs.flush().catch(() => {}),
      this.options.giveUpSignal,
    );
    this.logs.stop();
    await this.link.stop(this.options.giveUpSignal);
    const delivered = await this.deliver(result);
    const outcome = this.outcome(result, delivered);
    this.observer.jobFinished(this.observed, {
      status: outcome.status,
      seconds: (performance.now() - startedAt) / 1000,
      ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
    });
    return outcome;
  }

  /** The job's work raced against a forced end; after a force, waits (bounded) for the work. */
  private async runWork(provisioner: Provisioner): Promise<Result> {
    const work = this.work(provisioner).then(
      (request): Result => ({ kind: "complete", request }),
      (error: unknown): Result => this.failed(this.toFailure(error)),
    );
    const first = await Promise.race([
      work,
      this.forced.promise.then((failure): Result => this.failed(failure)),
    ]);
    if (this.forcedFailure === undefined) return first;
    // Forced: the provisioner was told to kill; give its call a moment to return so the work
    // dir is removed after Terraform is gone, not under its feet.
    const settled = await Promise.race([
      work,
      new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), this.timing.killGraceMs).unref(),
      ),
    ]);
    if (settled === undefined) {
      this.logger.warn("provisioner did not stop after kill; cleaning up when it does");
      void work.then(() => this.session?.close());
    }
    return this.failed(withStateOf(this.forcedFailure, settled));
  }

  private async work(provisioner: Provisioner): Promise<CompletedJob> {
    this.logs.push(daemonLine(STAGE.settingUp));
    this.session = await this.timed("setup", () =>
      provisioner.open({
        archive: this.job.templateSourceArchive,
        jobId: this.job.jobId,
        slot: this.options.slot,
        signal: this.cancelController.signal,
      }),
    ).catch((error: unknown) => {
      throw asJobFailure(error, "", "ARCHIVE");
    });
    this.options.journal?.workDir(this.session.directory);
    if (this.forcedFailure !== undefined) throw this.forcedFailure;
    const context = this.context(this.session);
    const type = this.job.type;
    switch (type?.$case) {
      case "templateImport":
        return runTemplateImport(context, type.value);
      case "templateDryRun":
        return runTemplateDryRun(context, type.value);
      case "workspaceBuild":
        return runWorkspaceBuild(context, type.value);
      default:
        throw new JobFailure(
          `unknown job type "${String((type as { $case?: string } | undefined)?.$case ?? "<nil>")}"; ensure your provisioner daemon is up-to-date`,
          { code: "UNSUPPORTED" },
        );
    }
  }

  private context(session: ProvisionSession): JobContext {
    const journal = this.options.journal;
    const context: JobContext = {
      job: this.job,
      session,
      logs: this.logs,
      link: this.link,
      logger: this.logger,
      marker: (stage, level = LogLevel.INFO) => void this.logs.push(daemonLine(stage, level)),
      line: (stage, level, output) =>
        void this.logs.push({ source: LogSource.PROVISIONER, level, stage, output }),
      control: (stage) => ({
        signal: this.cancelController.signal,
        killSignal: this.killController.signal,
        onLog: this.sink(stage),
        onTiming: (step, seconds) => this.observer.stageTimed(this.observed, step, seconds),
        onTimings: (timings) => void this.timings.push(...timings),
        ...(journal === undefined
          ? {}
          : { onProcessStarted: (group: number) => journal.processStarted(group) }),
      }),
      checkCanceled: () => {
        if (this.forcedFailure !== undefined) throw this.forcedFailure;
        if (this.cancelFailure !== undefined) throw this.cancelFailure;
      },
      flush: () => this.logs.flush().catch(() => {}),
      timed: (stage, fn) => this.timed(stage, fn),
      timings: () => [...this.timings],
      step: async (timing, prefix, code, fn) => {
        context.checkCanceled();
        try {
          return await this.timed(timing, fn);
        } catch (error) {
          throw asJobFailure(error, prefix, code);
        }
      },
    };
    return context;
  }

  private sink(stage: string): LogSink {
    return (log) =>
      this.logs.push({
        source: LogSource.PROVISIONER,
        level: log.level,
        stage,
        output: log.output,
      });
  }

  private async timed<T>(stage: JobStage, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.observer.stageTimed(this.observed, stage, (performance.now() - started) / 1000);
    }
  }

  /** Graceful cancel: the provisioner gets its signal (Terraform SIGINT); force follows later. */
  private cancel(by: "coderd" | "daemon"): void {
    if (this.cancelFailure !== undefined || this.forcedFailure !== undefined) return;
    this.cancelFailure =
      by === "coderd"
        ? new JobFailure("job was canceled", { code: "CANCELED" })
        : new JobFailure("canceled: provisioner daemon is shutting down", { code: "SHUTDOWN" });
    this.logger.info({ by }, "attempting graceful cancelation");
    this.cancelController.abort(this.cancelFailure);
    this.forceTimer = setTimeout(() => {
      this.logger.warn("Cancel timed out");
      this.force(new JobFailure(FAILURE.cancelTimedOut, { code: "CANCELED" }));
    }, this.timing.forceCancelIntervalMs);
    this.forceTimer.unref?.();
  }

  /** Fail now and kill what runs; the first forced failure wins. */
  private force(failure: JobFailure): void {
    if (this.forcedFailure !== undefined) return;
    this.forcedFailure = failure;
    if (!this.cancelController.signal.aborted) this.cancelController.abort(failure);
    this.killController.abort(failure);
    this.forced.resolve(failure);
  }

  private watchExternalSignals(): () => void {
    const { signal, killSignal } = this.options;
    const onCancel = () => this.cancel("daemon");
    const onKill = () => {
      const reason: unknown = killSignal?.reason;
      this.force(
        reason instanceof JobFailure
          ? reason
          : new JobFailure(FAILURE.shutdown, { code: "SHUTDOWN" }),
      );
    };
    if (signal?.aborted) onCancel();
    else signal?.addEventListener("abort", onCancel, { once: true });
    if (killSignal?.aborted) onKill();
    else killSignal?.addEventListener("abort", onKill, { once: true });
    return () => {
      signal?.removeEventListener("abort", onCancel);
      killSignal?.removeEventListener("abort", onKill);
    };
  }

  private toFailure(error: unknown): JobFailure {
    const failure = asJobFailure(error);
    if (this.cancelFailure === undefined) return failure;
    // A failure that is the cancel itself reads as such, keeping any state it left.
    if (failure.code === "CANCELED" || isAbortError(error) || error === this.cancelFailure) {
      if (failure === this.cancelFailure) return failure;
      const code = this.cancelFailure.code;
      const message =
        code === "SHUTDOWN" ? `${this.cancelFailure.message}: ${failure.message}` : failure.message;
      return new JobFailure(message, { code, state: failure.state, cause: failure });
    }
    return failure;
  }

  private failed(failure: JobFailure): Result {
    return { kind: "fail", failure };
  }

  private async cleanUp(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    this.logs.push(daemonLine(STAGE.cleaningUp));
    await this.timed("cleanup", () => session.close());
  }

  private async deliver(result: Result): Promise<boolean> {
    const signal = this.options.giveUpSignal ?? new AbortController().signal;
    const message =
      result.kind === "complete"
        ? ({ kind: "complete", request: result.request } as const)
        : ({ kind: "fail", request: this.failedJob(result.failure) } as const);
    if (result.kind === "fail") {
      this.logger.info({ err: result.failure.message, code: result.failure.code }, "job failed");
    } else {
      this.logger.info("job completed");
    }
    try {
      await this.link.finish(message, signal);
      return true;
    } catch (error) {
      this.logger.error(
        { err: errorMessage(error) },
        `send ${message.kind === "complete" ? "CompleteJob" : "FailJob"}`,
      );
      await this.rescueState(message.request);
      return false;
    }
  }

  /** State that coderd did not take stays on this host instead of vanishing with the work dir. */
  private async rescueState(request: CompletedJob | FailedJob): Promise<void> {
    const state = request.type?.$case === "workspaceBuild" ? request.type.value.state : undefined;
    const journal = this.options.journal;
    if (state === undefined || state.length === 0 || journal === undefined) return;
    try {
      const file = await journal.rescueState(state);
      this.logger.error(
        { file },
        "coderd did not take the job's result: the Terraform state it carried was saved to this file",
      );
    } catch (error) {
      this.logger.error(
        { err: errorMessage(error) },
        "saving the undelivered Terraform state failed",
      );
    }
  }

  private failedJob(failure: JobFailure): FailedJob {
    const request: FailedJob = {
      jobId: this.job.jobId,
      error: failure.message,
      errorCode: failure.code,
      timings: [...this.timings],
    };
    if (failure.state !== undefined && this.job.type?.$case === "workspaceBuild") {
      request.type = { $case: "workspaceBuild", value: { state: Buffer.from(failure.state) } };
    }
    return request;
  }

  private outcome(result: Result, delivered: boolean): JobOutcome {
    if (result.kind === "complete") return { jobId: this.job.jobId, status: "success", delivered };
    const { failure } = result;
    return {
      jobId: this.job.jobId,
      status: failure.code === "CANCELED" ? "canceled" : "failed",
      error: failure.message,
      errorCode: failure.code,
      delivered,
    };
  }
}
