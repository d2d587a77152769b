// Process signals → daemon shutdown, graphile-worker style: the first signal stops gracefully
// (SIGTERM drains: running jobs finish; SIGINT cancels them gracefully), any second signal
// forces (jobs fail with "provisioner daemon was shutdown gracefully", Terraform is killed).
import type { Logger } from "pino";
import type { Daemon } from "./daemon.js";

export interface SignalHandlingOptions {
  logger: Logger;
  /** Signals that drain. Default SIGTERM (what Kubernetes and systemd send). */
  drainSignals?: NodeJS.Signals[];
  /** Signals that cancel running jobs. Default SIGINT (ctrl+c). */
  cancelSignals?: NodeJS.Signals[];
  /** For tests; defaults to the real process. */
  process?: Pick<NodeJS.Process, "on" | "off">;
}

/** Installs the handlers; returns the function that removes them. */
export function handleShutdownSignals(daemon: Daemon, options: SignalHandlingOptions): () => void {
  const target = options.process ?? process;
  const drainSignals = options.drainSignals ?? ["SIGTERM"];
  const cancelSignals = options.cancelSignals ?? ["SIGINT"];
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      options.logger.warn({ signal }, "second signal: forcing shutdown, failing running jobs");
      void daemon.close();
      return;
    }
    const mode = cancelSignals.includes(signal) ? "cancel" : "drain";
    options.logger.info(
      { signal, mode, jobs: daemon.runningJobs },
      mode === "drain"
        ? "signal caught: finishing running jobs, taking no new ones; signal again to force"
        : "signal caught: canceling running jobs gracefully; signal again to force",
    );
    void daemon.shutdown({ mode });
  };
  const all = [...new Set([...drainSignals, ...cancelSignals])];
  for (const signal of all) target.on(signal, handler);
  return () => {
    for (const signal of all) target.off(signal, handler);
  };
}
