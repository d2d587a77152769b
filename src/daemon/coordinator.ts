// What a running job needs from whoever handed it out. The gRPC client to coderd implements it;
// so does the CLI's local `provisionerd build` mode, in-process, without any network.
import type {
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
