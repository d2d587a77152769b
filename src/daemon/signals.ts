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
  process?: SignalTarget;
}

type SignalTarget = Pick<NodeJS.Process, "on" | "off">;

/**
 * Listens for `signals`: the first one received calls `first` (stop gracefully), every later
 * one `again` (force). Returns the function that removes the listeners. The daemon and the
 * local build share it.
 */
export function escalatingSignals(
  signals: NodeJS.Signals[],
  handlers: { first(signal: NodeJS.Signals): void; again(signal: NodeJS.Signals): void },
  target: SignalTarget = process,
): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) handlers.again(signal);
    else handlers.first(signal);
  };
  const all = [...new Set(signals)];
  for (const signal of all) target.on(signal, handler);
  return () => {
    for (const signal of all) target.off(signal, handler);
  };
}

/** Installs the handlers; returns the function that removes them. */
export function handleShutdownSignals(daemon: Daemon, options: SignalHandlingOptions): () => void {
  const cancelSignals = options.cancelSignals ?? ["SIGINT"];
  return escalatingSignals(
    [...(options.drainSignals ?? ["SIGTERM"]), ...cancelSignals],
    {
      first: (signal) => {
        const mode = cancelSignals.includes(signal) ? "cancel" : "drain";
        options.logger.info(
          { signal, mode, jobs: daemon.runningJobs },
          mode === "drain"
            ? "signal caught: finishing running jobs, taking no new ones; signal again to force"
            : "signal caught: canceling running jobs gracefully; signal again to force",
        );
        void daemon.shutdown({ mode });
      },
      again: (signal) => {
        options.logger.warn({ signal }, "second signal: forcing shutdown, failing running jobs");
        void daemon.close();
      },
    },
    options.process,
  );
}
