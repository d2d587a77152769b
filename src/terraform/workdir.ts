// Per-job work directories, and the files in them that terraform and the daemon write.
import { lstat, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeDirectory } from "../fs/directories.js";
import { planFileName } from "./executor.js";
import { varFileName } from "./var-file.js";

export const stateFileName = "terraform.tfstate";
export const applyPlanFileName = "terraform.apply.tfplan";

/**
 * Work dir files that terraform or the daemon write (plans, state and its backup and lock info,
 * input variables, the provider lock file). A template archive may not make any of them a link:
 * a write would land wherever the link points.
 */
export const writtenFileNames: readonly string[] = [
  planFileName,
  applyPlanFileName,
  stateFileName,
  `${stateFileName}.backup`,
  `.${stateFileName}.lock.info`,
  varFileName,
  ".terraform.lock.hcl",
];

/**
 * What terraform treats as already installed: `.terraform` (providers and modules that `init`
 * then uses as they are, "Using previously-installed ...") and `terraform.d` (searched for
 * provider plugins when no mirror is configured). Copies in a template archive would let the
 * template run its own provider binaries instead of the mirror's, so the unpacker leaves them
 * out, as `coder templates push` leaves out hidden files.
 */
export const installedStateNames: readonly string[] = [".terraform", "terraform.d"];

/** A work dir file is not what the daemon expects (a link where terraform will write). */
export class WorkDirError extends Error {
  override readonly name = "WorkDirError";
}

/** A fresh, private directory for one job, named after it (sanitised) for operators. */
export async function createWorkDir(root: string, jobId: string): Promise<string> {
  await makeDirectory(root, 0o700);
  const safe = jobId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 64) || "job";
  return mkdtemp(join(root, `job-${safe}-`));
}

/**
 * Writes a daemon-made file (0600) in the work dir. Whatever sits at that name is removed first
 * (a link goes, not what it points at) and the file is created exclusively, so the write never
 * follows a link.
 */
export async function writeWorkFile(
  directory: string,
  name: string,
  data: string | Uint8Array,
): Promise<string> {
  const path = join(directory, name);
  await rm(path, { force: true });
  await writeFile(path, data, { mode: 0o600, flag: "wx" });
  return path;
}

/**
 * Throws WorkDirError when a file terraform writes is a symbolic link or a hard link: terraform
 * would write through it. Checked before every terraform command that writes.
 */
export async function checkWrittenFiles(directory: string): Promise<void> {
  for (const name of writtenFileNames) {
    const stat = await lstat(join(directory, name)).catch(() => undefined);
    if (stat === undefined) continue;
    if (stat.isSymbolicLink() || (stat.isFile() && stat.nlink > 1)) {
      throw new WorkDirError(
        `${name} in the work dir is a link; terraform writes this file and would write through it`,
      );
    }
  }
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
