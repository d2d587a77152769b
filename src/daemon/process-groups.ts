// Stopping the process groups a dead daemon's jobs left running. A recorded group id may have
// been reused by an unrelated process since, so on Linux a group is stopped only when one of its
// processes works inside the job's work dir (terraform, its providers and local-exec children
// all do); groups found that way but never recorded (started just before the daemon died) are
// stopped too.
import { readdir, readFile, readlink } from "node:fs/promises";
import { sep } from "node:path";
import { delay } from "./abort.js";

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Gone already.
  }
}

/**
 * Groups with a live process whose working directory is `directory` or inside it; undefined
 * where there is no /proc to tell.
 */
export async function groupsWorkingIn(directory: string): Promise<Set<number> | undefined> {
  let entries: string[];
  try {
    entries = await readdir("/proc");
  } catch {
    return undefined;
  }
  const groups = new Set<number>();
  await Promise.all(
    entries
      .filter((name) => /^\d+$/.test(name))
      .map(async (pid) => {
        try {
          const cwd = await readlink(`/proc/${pid}/cwd`);
          if (cwd !== directory && !cwd.startsWith(`${directory}${sep}`)) return;
          // Fields after the parenthesised command name: state, ppid, pgrp, ...
          const stat = await readFile(`/proc/${pid}/stat`, "utf8");
          const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
          if (state !== "Z" && pgrp !== undefined) groups.add(Number(pgrp));
        } catch {
          // Gone, or not ours to read.
        }
      }),
  );
  return groups;
}

/**
 * Stops what a dead job left in `workDir`: SIGINT first (Terraform then writes its state and
 * exits), SIGKILL for whatever is still there after `graceMs`. Returns the groups signalled.
 */
export async function stopLeftoverGroups(
  workDir: string | undefined,
  recorded: number[],
  graceMs: number,
): Promise<number[]> {
  const working = workDir === undefined ? undefined : await groupsWorkingIn(workDir);
  const targets =
    working === undefined
      ? recorded.filter(groupAlive)
      : [...new Set([...recorded.filter((g) => working.has(g)), ...working])];
  if (targets.length === 0) return [];
  for (const group of targets) signalGroup(group, "SIGINT");
  // A group counts as gone when none of its processes works in the dir any more (an unreaped
  // zombie still answers a signal), or, without /proc, when it no longer takes signals.
  const remaining = async () => {
    const now = workDir === undefined ? undefined : await groupsWorkingIn(workDir);
    return targets.filter((g) => (now === undefined ? groupAlive(g) : now.has(g)));
  };
  // No event tells when another process's group is gone: look again every 100 ms.
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await remaining()).length > 0) await delay(100);
  for (const group of await remaining()) signalGroup(group, "SIGKILL");
  return targets;
}
