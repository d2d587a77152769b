// What a running job needs from whoever handed it out. The gRPC client to coderd implements it;
// so does the CLI's local `provisionerd build` mode, in-process, without any network.
import type { ClientDuplexStream } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type {
  AcquiredJob,
  AcquireJobRequest,
  AcquireStreamRequest,
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  FailedJob,
  UpdateJobRequest,
  UpdateJobResponse,
} from "../proto/provisionerd.js";

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
  openAcquireStream(): ClientDuplexStream<AcquireStreamRequest, AcquiredJob>;
  noteContact(answered: boolean): void;
  classify(error: unknown, signal?: AbortSignal, method?: string): Error;
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
  /** Every call outcome: true = the coordinator answered, false = transport failure. */
  onContact(answered: boolean): void;
  /**
   * The coordinator refused our credentials or settings for good (retrying cannot help): the
   * daemon stops and its `done` rejects with this error.
   */
  onFatal(error: Error): void;
}

export type CoordinatorFactory = (context: CoordinatorContext) => CoordinatorClient;
