// Per-job work directories.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeDirectory } from "../fs/directories.js";

/** A fresh, private directory for one job, named after it (sanitised) for operators. */
export async function createWorkDir(root: string, jobId: string): Promise<string> {
  await makeDirectory(root, 0o700);
  const safe = jobId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) || "job";
  return mkdtemp(join(root, `job-${safe}-`));
}

/**
 * Removes a work dir: 5 attempts 250 ms apart (the reference's numbers; file locks on Windows,
 * a provider still closing files). Never throws; returns the last error, if any.
 */
export async function removeWorkDir(directory: string): Promise<Error | undefined> {
  try {
    await rm(directory, { recursive: true, force: true, maxRetries: 4, retryDelay: 250 });
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
