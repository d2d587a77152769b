// A daemon keeps one id for life: coderd ties jobs to it, so a daemon that reconnects (or whose
// process restarts) mid-job is still recognised as the owner and its job is not orphaned.
import { randomUUID } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { makeDirectory } from "../fs/directories.js";
import { DaemonIdError, errorMessage } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DAEMON_ID_FILE = "daemon-id";

/**
 * The one default cache dir, for the daemon and the CLI alike: `coder` in the user's cache dir
 * (`$CACHE_DIRECTORY` as systemd sets it, else `$XDG_CACHE_HOME`, else `~/.cache`), where the
 * reference daemon keeps its caches too.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.CACHE_DIRECTORY || env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "coder");
}

/**
 * Returns the id kept in `<cacheDir>/daemon-id`, creating it on first use. Two daemon processes
 * must not share a cache dir (they would share an id); the CLI gives each its own.
 */
export async function loadOrCreateDaemonId(cacheDir: string): Promise<string> {
  const file = join(cacheDir, DAEMON_ID_FILE);
  let existing: string | undefined;
  try {
    existing = (await readFile(file, "utf8")).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new DaemonIdError(`read daemon id file "${file}": ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }
  if (existing !== undefined) {
    if (!UUID.test(existing)) {
      throw new DaemonIdError(
        `daemon id file "${file}" does not hold a UUID; delete it to get a new id, or pass one explicitly`,
      );
    }
    return existing.toLowerCase();
  }
  const id = randomUUID();
  try {
    await makeDirectory(cacheDir, 0o700);
    // Write then rename, so a crash never leaves a half-written id behind.
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, `${id}\n`, { mode: 0o600 });
    await rename(temp, file);
  } catch (error) {
    throw new DaemonIdError(`write daemon id file "${file}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return id;
}
