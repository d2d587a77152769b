// Prometheus metrics of a daemon. The first two names and their labels are the reference
// daemon's, so existing Coder dashboards keep working; the rest are ours.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type {
  DaemonObserver,
  DaemonState,
  JobStage,
  JobStatus,
  ObservedJob,
} from "../daemon/observer.js";

/** Prometheus view of one daemon; hand it to the daemon as its observer. */
export class DaemonMetrics implements DaemonObserver {
  readonly registry = new Registry();
  readonly jobsCurrent: Gauge<"provisioner">;
  readonly jobTimings: Histogram<"provisioner" | "status">;
  readonly stageTimings: Histogram<"provisioner" | "stage">;
  readonly acquireLatency: Histogram;
  readonly logLines: Counter;
  readonly slots: Gauge<"state">;
  readonly jobsTotal: Counter<"provisioner" | "type" | "status">;
  readonly connected: Gauge;
  readonly draining: Gauge;

  constructor(options: { concurrency: number; processMetrics?: boolean }) {
    const registers = [this.registry];
    this.jobsCurrent = new Gauge({
      name: "coderd_provisionerd_jobs_current",
      help: "The number of currently running provisioner jobs.",
      labelNames: ["provisioner"],
      registers,
    });
    this.jobTimings = new Histogram({
      name: "coderd_provisionerd_job_timings_seconds",
      help: "The provisioner job time duration in seconds.",
      labelNames: ["provisioner", "status"],
      buckets: [1, 10, 30, 60, 300, 600, 1800, 3600],
      registers,
    });
    this.stageTimings = new Histogram({
      name: "coderd_provisionerd_job_stage_timings_seconds",
      help: "Time spent in each step of a job: setup, parse, plan (terraform init and plan), commit_quota, apply, cleanup.",
      labelNames: ["provisioner", "stage"],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600, 1800, 3600],
      registers,
    });
    this.acquireLatency = new Histogram({
      name: "coderd_provisionerd_acquire_latency_seconds",
      help: "Time from asking coderd for a job (a poll, or readiness on the acquire stream) to receiving one.",
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    });
    this.logLines = new Counter({
      name: "coderd_provisionerd_log_lines_sent_total",
      help: "Job log lines delivered to coderd.",
      registers,
    });
    this.slots = new Gauge({
      name: "coderd_provisionerd_slots",
      help: "Job slots of this daemon by state (busy or idle).",
      labelNames: ["state"],
      registers,
    });
    this.jobsTotal = new Counter({
      name: "coderd_provisionerd_jobs_total",
      help: "Jobs finished by this daemon, by type and status (success, failed, canceled).",
      labelNames: ["provisioner", "type", "status"],
      registers,
    });
    this.connected = new Gauge({
      name: "coderd_provisionerd_connected",
      help: "1 while the daemon is connected to coderd.",
      registers,
    });
    this.draining = new Gauge({
      name: "coderd_provisionerd_draining",
      help: "1 once the daemon stopped taking jobs to shut down.",
      registers,
    });
    // Zero samples up front, so dashboards and alerts see the series before the first job.
    this.jobsCurrent.set({ provisioner: "terraform" }, 0);
    this.setSlots(0, options.concurrency);
    this.connected.set(0);
    this.draining.set(0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  setSlots(busy: number, idle: number): void {
    this.slots.set({ state: "busy" }, busy);
    this.slots.set({ state: "idle" }, idle);
  }

  stateChanged(state: DaemonState): void {
    this.draining.set(state === "draining" || state === "stopped" ? 1 : 0);
  }

  connectionChanged(connected: boolean): void {
    this.connected.set(connected ? 1 : 0);
  }

  acquired(info: { mode: "stream" | "poll"; seconds: number; gotJob: boolean }): void {
    // Empty polls measure coderd's answer time, not how long a job waited: only count real jobs.
    if (info.gotJob) this.acquireLatency.observe(info.seconds);
  }

  jobStarted(job: ObservedJob): void {
    this.jobsCurrent.inc({ provisioner: job.provisioner });
  }

  jobFinished(job: ObservedJob, result: { status: JobStatus; seconds: number }): void {
    this.jobsCurrent.dec({ provisioner: job.provisioner });
    // The reference labels only success and failed; a cancel is a failure there too.
    const status = result.status === "success" ? "success" : "failed";
    this.jobTimings.observe({ provisioner: job.provisioner, status }, result.seconds);
    this.jobsTotal.inc({ provisioner: job.provisioner, type: job.type, status: result.status });
  }

  stageTimed(job: ObservedJob, stage: JobStage, seconds: number): void {
    this.stageTimings.observe({ provisioner: job.provisioner, stage }, seconds);
  }

  logLinesSent(_job: ObservedJob, count: number): void {
    this.logLines.inc(count);
  }

  slotsChanged(slots: { busy: number; idle: number }): void {
    this.setSlots(slots.busy, slots.idle);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
