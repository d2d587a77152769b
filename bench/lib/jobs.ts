// Jobs for the fake coderd: workspace builds queued the way coderd queues them, on the same
// example template archives the tests use.
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { create as createTar } from "tar";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import type { FakeCoderd, FakeJob } from "../../test/fake-coderd/fake-coderd.js";
import { buildPayload, importPayload } from "../../test/fake-coderd/payloads.js";
import { TEMPLATES_DIR } from "../../test/helpers/templates.js";

export { TEMPLATES_DIR, templateTar as templateArchive } from "../../test/helpers/templates.js";

/**
 * A new version of example template `name`: its files plus a comment naming `version`, so the
 * daemon sees an archive it has never initialized (a template version's first job).
 */
export async function templateVersionArchive(
  scratch: string,
  name: string,
  version: string,
): Promise<Buffer> {
  const dir = await mkdtemp(join(scratch, `${name}-`));
  await cp(join(TEMPLATES_DIR, name), dir, { recursive: true });
  await writeFile(join(dir, "version.tf"), `# template version ${version}\n`);
  const pack = createTar({ cwd: dir, sync: true, portable: true }, ["."]);
  const chunks: Buffer[] = [];
  for (let chunk = pack.read(); chunk !== null; chunk = pack.read()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function enqueueImport(fake: FakeCoderd, archive: Buffer): string {
  return fake.enqueueJob({ kind: "template_import", archive, payload: importPayload() });
}

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
