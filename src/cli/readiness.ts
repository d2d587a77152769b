// /readyz's answer, kept from what the daemon reports: ready only while it runs (not starting,
// draining or stopped) and its last exchange with coderd succeeded.
import type { DaemonObserver, DaemonState } from "../daemon/observer.js";
import type { Readiness } from "./health-server.js";

export class ReadinessTracker implements DaemonObserver {
  #state: DaemonState = "starting";
  #connected = false;

  stateChanged(state: DaemonState): void {
    this.#state = state;
  }

  connectionChanged(connected: boolean): void {
    this.#connected = connected;
  }

  readiness(): Readiness {
    if (this.#state !== "running") {
      const reason =
        this.#state === "draining"
          ? "draining: finishing running jobs, taking no new ones"
          : this.#state;
      return { ready: false, reason };
    }
    if (!this.#connected) return { ready: false, reason: "not connected to coderd" };
    return { ready: true, reason: "" };
  }
}

/** One observer that forwards every call to each of `observers`. */
export function combineObservers(...observers: DaemonObserver[]): DaemonObserver {
  const forward =
    <K extends keyof DaemonObserver>(name: K) =>
    (...args: unknown[]) => {
      for (const observer of observers) {
        const method = observer[name] as ((...a: unknown[]) => void) | undefined;
        method?.apply(observer, args);
      }
    };
  return {
    stateChanged: forward("stateChanged"),
    connectionChanged: forward("connectionChanged"),
    acquired: forward("acquired"),
    jobStarted: forward("jobStarted"),
    jobFinished: forward("jobFinished"),
    stageTimed: forward("stageTimed"),
    logLinesSent: forward("logLinesSent"),
    slotsChanged: forward("slotsChanged"),
  };
}
