// What a running job needs from whoever handed it out. Each protocol adapter implements it
// (src/coderd/adapters); so does the CLI's local `provisionerd build` mode, in-process, without
// any network.
import type { Logger } from "pino";
import type {
  AcquiredJob,
  AcquireJobRequest,
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  DaemonIdentity,
  FailedJob,
  UpdateJobRequest,
  UpdateJobResponse,
} from "../provisioner/model.js";

/**
 * One attempt per call: implementations do not retry. They reject with
 * - `TransportError` when the call may not have reached the other side (the runner retries),
 * - `AuthenticationRefusedError` when credentials were refused (fatal for the daemon),
 * - `CoordinatorRefusedError` (or anything else) when the other side said no.
 * Every call must honour its AbortSignal.
 */
export interface JobCoordinator {
  updateJob(request: UpdateJobRequest, signal: AbortSignal): Promise<UpdateJobResponse>;
  commitQuota(request: CommitQuotaRequest, signal: AbortSignal): Promise<CommitQuotaResponse>;
  failJob(request: FailedJob, signal: AbortSignal): Promise<void>;
  completeJob(request: CompletedJob, signal: AbortSignal): Promise<void>;
}

/** Push acquisition: a long-lived call on which the coordinator sends jobs as they are queued. */
export interface AcquireStream {
  /** Opens one call; `events` hear what the coordinator does on it until it fails or ends. */
  open(events: AcquireStreamEvents): AcquireStreamCall;
  noteContact(answered: boolean): void;
  /** Sorts a failure of the call into the daemon's error types (and reports contact). */
  classify(error: unknown, signal?: AbortSignal, method?: string): Error;
}

/** What the daemon says on an open acquire stream. Writes after the call closed are dropped. */
export interface AcquireStreamCall {
  /**
   * Offers `slots` more jobs (credits add up; each pushed job spends one). The first offer of a
   * call carries `daemon`, the later ones leave it undefined.
   */
  ready(slots: number, daemon: DaemonIdentity | undefined): void;
  /** Takes no more jobs and half-closes; the coordinator then ends the call. */
  withdraw(): void;
  /** Drops the call at once. */
  cancel(): void;
}

/** What the coordinator does on an open acquire stream. */
export interface AcquireStreamEvents {
  /** The coordinator answered the call. */
  opened(): void;
  /** A pushed job; an empty one (jobId "") spent a credit without bringing a job. */
  job(job: AcquiredJob): void;
  /** The call failed; `classify` sorts the error. */
  failed(error: unknown): void;
  /** The coordinator ended the call cleanly (after a withdraw, or going away). */
  ended(): void;
}

/**
 * The daemon's connection to whoever hands out jobs, in one wire protocol: each protocol adapter
 * implements it, and the daemon never learns which protocol is in use.
 */
export interface CoordinatorClient extends JobCoordinator {
  /** One acquire: a job, or an empty one (jobId "") when there is none now. */
  acquireJob(request: AcquireJobRequest, signal: AbortSignal): Promise<AcquiredJob>;
  /**
   * True when `acquireJob` waits until the coordinator has a job (aborting `signal` ends the
   * wait, and a job answered then is still returned): the daemon then keeps one acquire open per
   * free slot instead of polling.
   */
  readonly acquireBlocks?: true | undefined;
  /** Present when the protocol can push jobs; the daemon polls otherwise. */
  readonly acquireStream?: AcquireStream | undefined;
  close(): void;
}

/** What the daemon tells an adapter when it connects. */
export interface CoordinatorContext {
  daemonId: string;
  logger: Logger;
  /** Per-attempt deadline of a call. */
  rpcTimeoutMs: number;
  /** Longest wait between two connection attempts while the coordinator is unreachable. */
  reconnectMaxMs: number;
  /** Every call outcome: true = the coordinator answered, false = transport failure. */
  onContact(answered: boolean): void;
  /**
   * The coordinator refused our credentials or settings for good (retrying cannot help): the
   * daemon stops and its `done` rejects with this error.
   */
  onFatal(error: Error): void;
}

export type CoordinatorFactory = (context: CoordinatorContext) => CoordinatorClient;
