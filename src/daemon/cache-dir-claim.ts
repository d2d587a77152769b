// One daemon process per cache dir. The dir holds the daemon's id (two daemons sharing it would
// share an identity, and coderd could not tell their jobs apart) and Terraform's plugin caches,
// which break when two `terraform init`s write one at the same time. A second daemon pointed at
// a dir in use refuses to start, naming the other process, instead of failing jobs at random.
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeDirectory } from "../fs/directories.js";
import { CacheDirInUseError, errorMessage } from "./errors.js";

export const CLAIM_FILE = "provisionerd.pid";

export interface CacheDirClaim {
  /** Gives the dir up (only if the claim is still ours). Never throws. */
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readOwner(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(file, "utf8")).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claims `cacheDir` for this process with a pid file. A claim left by a process that is gone
 * (killed, crashed, or this very pid after a container restart) is taken over.
 */
export async function claimCacheDir(cacheDir: string): Promise<CacheDirClaim> {
  const file = join(cacheDir, CLAIM_FILE);
  try {
    await makeDirectory(cacheDir, 0o700);
  } catch (error) {
    throw new CacheDirInUseError(`create cache dir "${cacheDir}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      return {
        release: async () => {
          if ((await readOwner(file)) === process.pid) await unlink(file).catch(() => {});
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new CacheDirInUseError(`claim cache dir "${cacheDir}": ${errorMessage(error)}`, {
          cause: error,
        });
      }
    }
    const owner = await readOwner(file);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw new CacheDirInUseError(
        `cache dir "${cacheDir}" is in use by another provisioner daemon (pid ${owner}); give ` +
          "each daemon its own --cache-dir: it holds the daemon id and Terraform's plugin " +
          `cache, which two daemons cannot share (if pid ${owner} is not a provisioner daemon, ` +
          `delete "${file}")`,
      );
    }
    // Stale: its process is gone. Remove it and try once more (another starter may win).
    await unlink(file).catch(() => {});
  }
  throw new CacheDirInUseError(
    `cache dir "${cacheDir}" was claimed by another daemon starting now`,
  );
}
