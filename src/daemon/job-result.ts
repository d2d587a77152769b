// How a job ended, one shape for everyone who reads it: the runner decides it, the channel turns
// it into the terminal message, the daemon and the local build report it.
import type { AcquiredJob, CompletedJob, FailedJob, Timing } from "../provisioner/model.js";
import type { JobFailure } from "./errors.js";
import type { JobStatus } from "./observer.js";

export type JobResult =
  | { kind: "complete"; job: CompletedJob }
  | { kind: "fail"; failure: JobFailure; timings?: readonly Timing[] };

export function jobStatus(result: JobResult): JobStatus {
  if (result.kind === "complete") return "success";
  return result.failure.code === "CANCELED" ? "canceled" : "failed";
}

/** The Terraform state the result carries: a build's final state, or what a failure left. */
export function resultState(result: JobResult | undefined): Uint8Array | undefined {
  if (result?.kind === "fail") return result.failure.state;
  return result?.job.type?.$case === "workspaceBuild" ? result.job.type.value.state : undefined;
}

/**
 * The FailJob for `failure`, with the stage timings taken before it; only a workspace build
 * carries state back.
 */
export function failedJob(
  job: AcquiredJob,
  failure: JobFailure,
  timings: readonly Timing[] = [],
): FailedJob {
  const request: FailedJob = {
    jobId: job.jobId,
    error: failure.message,
    errorCode: failure.code,
    timings: [...timings],
  };
  if (failure.state !== undefined && job.type?.$case === "workspaceBuild") {
    request.type = { $case: "workspaceBuild", value: { state: Buffer.from(failure.state) } };
  }
  return request;
}
