// Runs one acquired job from "Setting up" to exactly one terminal message, whatever happens:
// provisioner failure, coderd cancel (graceful, then forced after the interval), a lost link to
// coderd, or the daemon forcing it down. Usable without gRPC: it only needs a JobCoordinator.
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import {
  type AcquiredJob,
  type CompletedJob,
  LogLevel,
  LogSource,
  type Timing,
} from "../provisioner/model.js";
import type { LogSink, Provisioner, ProvisionSession } from "../provisioner/provisioner.js";
import { abortAfter, onAbort, untilAborted } from "./abort.js";
import type { JobCoordinator } from "./coordinator.js";
import { errorMessage, isAbortError, JobFailure } from "./errors.js";
import { JobChannel } from "./job-channel.js";
import type { JobJournal } from "./job-records.js";
import { type JobResult, jobStatus, resultState } from "./job-result.js";
import { FAILURE, STAGE } from "./job-texts.js";
import { asJobFailure, daemonLine, type JobContext } from "./jobs/job-context.js";
import { runTemplateDryRun } from "./jobs/template-dry-run.js";
import { runTemplateImport } from "./jobs/template-import.js";
import { runWorkspaceBuild } from "./jobs/workspace-build.js";
import {
  type DaemonObserver,
  type JobStage,
  type JobType,
  type ObservedJob,
  safeObserver,
} from "./observer.js";
import { type LogBatchOptions, LogBatchOptionsSchema } from "./options.js";
import { jobRpcBackoff } from "./retry.js";

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
  /**
   * Graceful cancel from our side (daemon shutting down in cancel mode). A JobFailure reason is
   * the job's failure; otherwise `canceled: provisioner daemon is shutting down`.
   */
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

/**
 * The forced failure, carrying the state the killed work handed back (or the final state of a
 * build that finished just as it was forced): the forced reason is what coderd reads, but the
 * resources terraform created before the kill still exist.
 */
function withStateOf(forced: JobFailure, settled: JobResult | undefined): JobFailure {
  const state = resultState(settled);
  if (state === undefined || forced.state !== undefined) return forced;
  return new JobFailure(forced.message, { code: forced.code, state, cause: forced.cause });
}

/** The failure an aborted signal stands for: its reason when that is one, else `fallback`. */
function failureOf(signal: AbortSignal, fallback: () => JobFailure): JobFailure {
  const reason: unknown = signal.reason;
  return reason instanceof JobFailure ? reason : fallback();
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

/** Runs the job to its end and delivers that end; never rejects. */
export function runJob(job: AcquiredJob, options: RunJobOptions): Promise<JobResult> {
  return new JobRun(job, options).run();
}

/**
 * One job's run. Cancellation is two signals, as Go's daemon has two contexts: `cancel`
 * (graceful: Terraform gets SIGINT) from the daemon or from coderd through the channel, and
 * `kill` (fail now, kill Terraform) from the daemon, a lost channel, or a cancel that did not
 * end the job within the force interval.
 */
class JobRun {
  private readonly job: AcquiredJob;
  private readonly options: RunJobOptions;
  private readonly timing: RunJobTiming;
  private readonly logger: Logger;
  private readonly observer: Required<DaemonObserver>;
  private readonly observed: ObservedJob;
  private readonly channel: JobChannel;
  private readonly cancel: AbortSignal;
  private readonly kill: AbortSignal;
  private readonly forceClock: ReturnType<typeof abortAfter>;
  /** Stage and resource timings the provisioner reported, for the job's terminal message. */
  private readonly timings: Timing[] = [];
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
    this.channel = new JobChannel({
      job,
      coordinator: options.coordinator,
      logger: this.logger,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
      heartbeatDeadlineMs: this.timing.heartbeatDeadlineMs,
      logBatch: this.timing.logBatch,
      backoff: jobRpcBackoff(this.timing.heartbeatDeadlineMs),
      observer: { observer: this.observer, job: this.observed },
    });
    const given = (signal: AbortSignal | undefined) => (signal === undefined ? [] : [signal]);
    this.cancel = AbortSignal.any([...given(options.signal), this.channel.canceled]);
    this.forceClock = abortAfter(
      this.cancel,
      this.timing.forceCancelIntervalMs,
      new JobFailure(FAILURE.cancelTimedOut, { code: "CANCELED" }),
    );
    this.kill = AbortSignal.any([
      ...given(options.killSignal),
      this.channel.lost,
      this.forceClock.signal,
    ]);
  }

  async run(): Promise<JobResult> {
    const startedAt = performance.now();
    this.observer.jobStarted(this.observed);
    this.logger.info(
      { type: this.observed.type, provisioner: this.job.provisioner },
      "acquired job",
    );
    let result: JobResult;
    if (this.options.provisioner === undefined) {
      result = failed(
        new JobFailure(FAILURE.noProvisioner(this.job.provisioner), { code: "UNSUPPORTED" }),
      );
    } else {
      const unwatch = this.watchSignals();
      this.channel.start();
      result = await this.runWork(this.options.provisioner);
      await this.cleanUp();
      unwatch();
    }
    this.forceClock.dispose();
    // A coderd that was away, even past the deadline, still gets the job's whole log and its
    // result, state included, unless the daemon gives up on delivering (close deadline).
    if (result.kind === "fail") result = { ...result, timings: [...this.timings] };
    if (!(await this.channel.finish(result, this.options.giveUpSignal))) {
      await this.rescueState(result);
    }
    this.observer.jobFinished(this.observed, {
      status: jobStatus(result),
      seconds: (performance.now() - startedAt) / 1000,
      ...(result.kind === "fail" ? { errorCode: result.failure.code } : {}),
    });
    return result;
  }

  /** The job's work raced against a kill; after a kill, waits (bounded) for the work. */
  private async runWork(provisioner: Provisioner): Promise<JobResult> {
    const work = this.work(provisioner).then(
      (job): JobResult => ({ kind: "complete", job }),
      (error: unknown): JobResult => failed(this.toFailure(error)),
    );
    const first = await untilAborted(work, this.kill);
    if (first !== undefined && !this.kill.aborted) return first;
    // Killed: the provisioner was told to kill; give its call a moment to return so the work
    // dir is removed after Terraform is gone, not under its feet.
    const settled = await untilAborted(work, AbortSignal.timeout(this.timing.killGraceMs));
    if (settled === undefined) {
      this.logger.warn("provisioner did not stop after kill; cleaning up when it does");
      void work.then(() => this.session?.close());
    }
    return failed(withStateOf(this.forcedFailure(), settled));
  }

  private async work(provisioner: Provisioner): Promise<CompletedJob> {
    void this.channel.log(daemonLine(STAGE.settingUp));
    this.session = await this.timed("setup", () =>
      provisioner.open({
        archive: this.job.templateSourceArchive,
        jobId: this.job.jobId,
        slot: this.options.slot,
        signal: this.callSignal(),
      }),
    ).catch((error: unknown) => {
      throw asJobFailure(error, "", "ARCHIVE");
    });
    this.options.journal?.workDir(this.session.directory);
    if (this.kill.aborted) throw this.forcedFailure();
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
          FAILURE.unknownJobType(
            String((type as { $case?: string } | undefined)?.$case ?? "<nil>"),
          ),
          { code: "UNSUPPORTED" },
        );
    }
  }

  private context(session: ProvisionSession): JobContext {
    const journal = this.options.journal;
    const channel = this.channel;
    const context: JobContext = {
      job: this.job,
      session,
      logger: this.logger,
      marker: (stage, level = LogLevel.INFO) => void channel.log(daemonLine(stage, level)),
      line: (stage, level, output) =>
        void channel.log({ source: LogSource.PROVISIONER, level, stage, output }),
      control: (stage) => ({
        signal: this.callSignal(),
        killSignal: this.kill,
        onLog: this.sink(stage),
        onTiming: (step, seconds) => this.observer.stageTimed(this.observed, step, seconds),
        onTimings: (timings) => void this.timings.push(...timings),
        ...(journal === undefined
          ? {}
          : { onProcessStarted: (group: number) => journal.processStarted(group) }),
      }),
      checkCanceled: () => {
        if (this.kill.aborted) throw this.forcedFailure();
        if (this.cancel.aborted) throw this.cancelFailure();
      },
      flush: () => channel.flush().catch(() => {}),
      timings: () => [...this.timings],
      step: async (timing, prefix, code, fn) => {
        context.checkCanceled();
        try {
          return await this.timed(timing, fn);
        } catch (error) {
          throw asJobFailure(error, prefix, code);
        }
      },
      update: (payload, lines) => channel.update(payload, lines),
      commitQuota: (dailyCost) => channel.commitQuota(dailyCost),
    };
    return context;
  }

  private sink(stage: string): LogSink {
    return (log) =>
      this.channel.log({
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

  /** What a provisioner call watches: a graceful cancel, which a kill implies. */
  private callSignal(): AbortSignal {
    return AbortSignal.any([this.cancel, this.kill]);
  }

  private cancelFailure(): JobFailure {
    return failureOf(this.cancel, () => new JobFailure(FAILURE.shuttingDown, { code: "SHUTDOWN" }));
  }

  private forcedFailure(): JobFailure {
    return failureOf(this.kill, () => new JobFailure(FAILURE.shutdown, { code: "SHUTDOWN" }));
  }

  /** Logs what the two signals do to the job, as they happen. */
  private watchSignals(): () => void {
    const unhookCancel = onAbort(this.cancel, () => {
      if (this.kill.aborted) return;
      const by = this.channel.canceled.aborted ? "coderd" : "daemon";
      this.logger.info({ by }, "attempting graceful cancelation");
    });
    const unhookKill = onAbort(this.kill, () => {
      if (this.kill.reason === this.forceClock.signal.reason) this.logger.warn("Cancel timed out");
    });
    return () => {
      unhookCancel();
      unhookKill();
    };
  }

  private toFailure(error: unknown): JobFailure {
    const failure = asJobFailure(error);
    if (!this.cancel.aborted) return failure;
    const cancelFailure = this.cancelFailure();
    // A failure that is the cancel itself reads as such, keeping any state it left.
    if (failure.code === "CANCELED" || isAbortError(error) || error === cancelFailure) {
      if (failure === cancelFailure) return failure;
      const code = cancelFailure.code;
      const message =
        code === "SHUTDOWN" ? `${cancelFailure.message}: ${failure.message}` : failure.message;
      return new JobFailure(message, { code, state: failure.state, cause: failure });
    }
    return failure;
  }

  private async cleanUp(): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    void this.channel.log(daemonLine(STAGE.cleaningUp));
    await this.timed("cleanup", () => session.close());
  }

  /** State that coderd did not take stays on this host instead of vanishing with the work dir. */
  private async rescueState(result: JobResult): Promise<void> {
    const journal = this.options.journal;
    if (journal === undefined || this.job.type?.$case !== "workspaceBuild") return;
    const state = resultState(result);
    if (state === undefined || state.length === 0) return;
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
}

function failed(failure: JobFailure): JobResult {
  return { kind: "fail", failure };
}
