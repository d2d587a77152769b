// Creating and checking the directories an operator names (work dir, cache dir, state file's
// dir). Node's `mkdir(..., { recursive: true })` loops forever without yielding on a path the
// kernel refuses with ENOENT although its parent exists (any new name under /proc): it retries
// the parent, finds it, and retries the child. These helpers walk the path themselves, once.
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import path from "node:path";

/** A directory (and its missing parents) created, or an error naming what refused it. */
export async function makeDirectory(dir: string, mode = 0o777): Promise<void> {
  const absolute = path.resolve(dir);
  const first = await tryMkdir(absolute, mode);
  if (first === undefined) return;
  if (first.code !== "ENOENT") throw first;
  const parent = path.dirname(absolute);
  if (parent === absolute) throw first;
  await makeDirectory(parent, mode);
  // The parent exists now: a second ENOENT is the file system refusing this name, not a race.
  const second = await tryMkdir(absolute, mode);
  if (second !== undefined) throw second;
}

/** Undefined when `dir` is a directory afterwards (created now or before). */
async function tryMkdir(dir: string, mode: number): Promise<NodeJS.ErrnoException | undefined> {
  try {
    await mkdir(dir, { mode });
    return undefined;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    if (failure.code !== "EEXIST") return failure;
    const existing = await stat(dir).catch(() => undefined);
    return existing?.isDirectory() ? undefined : failure;
  }
}

/**
 * Creates `dir` if needed and checks that new entries can be made in it, as jobs will. Returns
 * the reason it cannot be used, in words, or undefined.
 */
export async function unusableDirectory(dir: string, mode = 0o700): Promise<string | undefined> {
  try {
    await makeDirectory(dir, mode);
    const probe = await mkdtemp(path.join(dir, ".provisionerd-probe-"));
    await rm(probe, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return fileSystemReason(error);
  }
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  // makeDirectory on a name that exists and is not a directory (an existing one is no error).
  EEXIST: "a part of the path is not a directory",
  ENOTDIR: "a part of the path is not a directory",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "too many symbolic links in the path",
  // Only after the parent was found: the file system does not take new names there.
  ENOENT: "the file system does not allow creating it",
};

/** A file system error as a few words for one line of output, without errno or syscall. */
export function fileSystemReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code];
  const message = error instanceof Error ? error.message : String(error);
  // "EIO: i/o error, mkdir '/x'" -> "i/o error"
  return /^[A-Z0-9]+: ([^,]+)/.exec(message)?.[1] ?? message;
}
