// coderd v0.17.4 … v0.20.0: the provisioner daemon service, all unary, on its v0.17.4 messages.
// AcquireJob never blocks: no job available is an empty AcquiredJob (jobId ""), so the caller
// polls. Failures reject with the transport's typed errors; an error coderd's handler returned
// is a DrpcRemoteError with coderd's text (code 0).
import type { DrpcClient } from "../transport/drpc.js";
import { unaryCall } from "../typed-call.js";
import {
  AcquiredJob,
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  Empty,
  FailedJob,
  UpdateJobRequest,
  UpdateJobResponse,
} from "./gen/provisionerd.js";

export class CoderdV017Client {
  private readonly drpc: DrpcClient;

  constructor(drpc: DrpcClient) {
    this.drpc = drpc;
  }

  /** A job, or an empty AcquiredJob (jobId "") when coderd has none right now. */
  acquireJob(signal?: AbortSignal): Promise<AcquiredJob> {
    return unaryCall(this.drpc, "AcquireJob", Empty, AcquiredJob, {}, signal);
  }

  /** Logs and progress; `canceled` in the answer tells the daemon to cancel the job. */
  updateJob(request: UpdateJobRequest, signal?: AbortSignal): Promise<UpdateJobResponse> {
    return unaryCall(this.drpc, "UpdateJob", UpdateJobRequest, UpdateJobResponse, request, signal);
  }

  async failJob(failed: FailedJob, signal?: AbortSignal): Promise<void> {
    await unaryCall(this.drpc, "FailJob", FailedJob, Empty, failed, signal);
  }

  async completeJob(completed: CompletedJob, signal?: AbortSignal): Promise<void> {
    await unaryCall(this.drpc, "CompleteJob", CompletedJob, Empty, completed, signal);
  }

  commitQuota(request: CommitQuotaRequest, signal?: AbortSignal): Promise<CommitQuotaResponse> {
    return unaryCall(
      this.drpc,
      "CommitQuota",
      CommitQuotaRequest,
      CommitQuotaResponse,
      request,
      signal,
    );
  }
}
