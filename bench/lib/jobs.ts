// Jobs for the fake coderd: workspace builds queued the way coderd queues them, on the same
// example template archives the tests use.
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
import type { FakeCoderd, FakeJob } from "../../test/fake-coderd/fake-coderd.js";
import { buildPayload } from "../../test/fake-coderd/payloads.js";

export { TEMPLATES_DIR, templateTar as templateArchive } from "../../test/helpers/templates.js";

export interface BuildJob {
  archive: Buffer;
  transition?: WorkspaceTransition;
  /** Managed template variables (terraform -var). */
  variables?: Record<string, string>;
}

export function enqueueBuild(fake: FakeCoderd, job: BuildJob): string {
  return fake.enqueueJob({
    kind: "workspace_build",
    archive: job.archive,
    payload: buildPayload({
      transition: job.transition ?? WorkspaceTransition.START,
      variableValues: Object.entries(job.variables ?? {}).map(([name, value]) => ({
        name,
        value,
        sensitive: false,
      })),
    }),
  });
}

export class JobFailedError extends Error {
  override readonly name = "JobFailedError";
}

/** Waits for the job's end and throws unless it completed. */
export async function completedJob(
  fake: FakeCoderd,
  jobId: string,
  timeoutMs: number,
): Promise<FakeJob> {
  const job = await fake.waitForJobEnd(jobId, timeoutMs);
  if (job.terminal?.kind !== "complete") {
    const message = job.terminal?.message as { error?: string } | undefined;
    throw new JobFailedError(`job ${jobId} failed: ${message?.error ?? "no terminal message"}`);
  }
  if (fake.violations.length > 0) {
    throw new JobFailedError(`fake coderd saw violations: ${JSON.stringify(fake.violations)}`);
  }
  return job;
}
