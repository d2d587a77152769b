// What the daemon tells the outside world (Prometheus metrics in the CLI, tests) about itself.
// Every method is optional, and a throwing observer never disturbs the daemon.
import type { Logger } from "pino";

export type DaemonState = "starting" | "running" | "draining" | "stopped";

export type JobType = "template_import" | "template_dry_run" | "workspace_build" | "unknown";

/** Identifies a job in observer calls. */
export interface ObservedJob {
  jobId: string;
  provisioner: string;
  type: JobType;
  slot: number;
}

/** How a job ended: `success` = CompleteJob sent; anything else = FailJob (or nothing, if lost). */
export type JobStatus = "success" | "failed" | "canceled";

/**
 * Timed steps of a job: `setup` (unpack), `parse`, `init` (the provisioner's one-off work dir
 * preparation, Terraform's `init`: reported by the provisioner, and also counted inside the
 * `plan` that triggered it), `plan`, `commit_quota`, `apply`, `cleanup` (work dir removal).
 */
export type JobStage = "setup" | "parse" | "init" | "plan" | "commit_quota" | "apply" | "cleanup";

export interface DaemonObserver {
  stateChanged?(state: DaemonState): void;
  /** Connected = the last exchange with coderd succeeded. */
  connectionChanged?(connected: boolean): void;
  /** One acquire attempt (unary poll, or the wait on the stream until a job arrived). */
  acquired?(info: { mode: "stream" | "poll"; seconds: number; gotJob: boolean }): void;
  jobStarted?(job: ObservedJob): void;
  jobFinished?(
    job: ObservedJob,
    result: { status: JobStatus; seconds: number; errorCode?: string },
  ): void;
  stageTimed?(job: ObservedJob, stage: JobStage, seconds: number): void;
  /** Log lines coderd acknowledged (counted once, retries excluded). */
  logLinesSent?(job: ObservedJob, count: number): void;
  slotsChanged?(slots: { busy: number; idle: number }): void;
}

/**
 * Wraps an observer so that a throwing method is logged and ignored (graphile-worker's
 * safeEmit): metrics are never a reason for a job to fail. Every method of DaemonObserver is
 * there, a no-op where the observer has none; the list of methods is the interface alone.
 */
export function safeObserver(
  observer: DaemonObserver | undefined,
  logger: Logger,
): Required<DaemonObserver> {
  const methods = new Map<string, (...args: unknown[]) => void>();
  const call =
    (name: string) =>
    (...args: unknown[]): void => {
      const method = (observer as Record<string, unknown> | undefined)?.[name];
      if (typeof method !== "function") return;
      try {
        method.apply(observer, args);
      } catch (error) {
        logger.warn({ err: error, method: name }, "daemon observer threw; ignored");
      }
    };
  return new Proxy({} as Required<DaemonObserver>, {
    get: (_target, name) => {
      // Not a thenable, whoever awaits it.
      if (typeof name !== "string" || name === "then") return undefined;
      let method = methods.get(name);
      if (method === undefined) {
        method = call(name);
        methods.set(name, method);
      }
      return method;
    },
  });
}
