// What the acquire loops need from the daemon.
import type { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { AcquiredJob, DaemonIdentity } from "../provisioner/model.js";
import type { CoordinatorClient } from "./coordinator.js";
import type { DaemonObserver } from "./observer.js";
import type { BackoffPolicy } from "./retry.js";

export interface AcquireDeps {
  client: CoordinatorClient;
  identity: DaemonIdentity;
  logger: Logger;
  observer: Required<DaemonObserver>;
  backoff: BackoffPolicy;
  /** How many more jobs the daemon can take now. */
  readySlots(): number;
  /** Emits "change" whenever readySlots() may have changed. */
  slotEvents: EventEmitter;
  /** A job coderd locked for us; the daemon runs it (it is ours even when draining). */
  onJob(job: AcquiredJob): void;
}
