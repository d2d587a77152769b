// The local build's memory between runs: the Terraform state the last build left, so a later
// stop or delete continues from it. Written atomically and private (state holds secrets), and
// never dropped: a build without --state-file keeps it beside the template, a file that cannot
// be written is found before anything runs, and state that still cannot be written at the end
// is rescued to another directory.
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { fileSystemReason, makeDirectory } from "../fs/directories.js";
import { UsageError } from "./usage-error.js";

export class StateFileError extends Error {
  override readonly name = "StateFileError";
}

/**
 * Where a build keeps its state without --state-file: beside the template, one file per
 * workspace name. The name contains ".tfstate", so packing the template directory leaves it out.
 */
export function defaultStateFile(
  template: { kind: "directory" | "archive"; path: string },
  workspaceName: string,
): string {
  const workspace = workspaceName.replace(/[^A-Za-z0-9_.-]/g, "_");
  if (template.kind === "directory") {
    return path.join(template.path, `provisionerd-${workspace}.tfstate`);
  }
  const base = template.path.replace(/\.(tar|tar\.gz|tgz)$/i, "");
  return `${base}.provisionerd-${workspace}.tfstate`;
}

/** Enough of Terraform's state format to tell a state from another file. */
const terraformState = z.looseObject({
  version: z.number().int(),
  resources: z.array(z.unknown()),
});

/**
 * The saved state, or an empty one when the file does not exist yet (or is empty). A file that
 * is not a Terraform state is refused here, naming it, before terraform reads it.
 */
export async function readStateFile(file: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return Buffer.alloc(0);
    throw new UsageError(`--state-file: cannot read "${file}": ${fileSystemReason(error)}`);
  }
  if (bytes.toString("utf8").trim() === "") return Buffer.alloc(0);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new UsageError(
      `--state-file: "${file}" is not a Terraform state: not JSON (${(error as Error).message})`,
    );
  }
  const parsed = terraformState.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join(".") || "(top level)";
    throw new UsageError(
      `--state-file: "${file}" is not a Terraform state: bad or missing "${field}"`,
    );
  }
  return bytes;
}

/**
 * Checks, before anything runs, that each file can be written where it is: an existing one is
 * a regular file, and its directory exists (or is created) and takes new files. Resources a
 * build creates must never end up with nowhere to record them.
 */
export async function checkWritable(files: readonly string[]): Promise<void> {
  for (const file of files) {
    const existing = await stat(file).catch(() => undefined);
    if (existing !== undefined && !existing.isFile()) {
      throw new UsageError(`--state-file: cannot write "${file}": it is not a regular file`);
    }
    const probe = temporaryName(file);
    try {
      await makeDirectory(path.dirname(file));
      await writeFile(probe, "", { mode: 0o600, flag: "wx" });
    } catch (error) {
      throw new UsageError(`--state-file: cannot write "${file}": ${fileSystemReason(error)}`);
    } finally {
      // Nothing to remove when the directory itself was the problem.
      await rm(probe, { force: true }).catch(() => {});
    }
  }
}

export async function writeStateFile(file: string, state: Uint8Array): Promise<void> {
  const temporary = temporaryName(file);
  try {
    await makeDirectory(path.dirname(file));
    await writeFile(temporary, state, { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    throw new StateFileError(`cannot write "${file}": ${fileSystemReason(error)}`);
  }
}

/** Where the state ended up: `file`, or a rescue copy because `file` could not be written. */
export type KeptState =
  | { file: string; rescued: false }
  | { file: string; rescued: true; wanted: string; reason: string };

/**
 * Writes the state to `file`; when that fails, to a new file in the first of `rescueDirs` that
 * takes it. Throws only when no place took it.
 */
export async function keepState(
  file: string,
  state: Uint8Array,
  rescueDirs: readonly string[],
): Promise<KeptState> {
  let reason: string;
  try {
    await writeStateFile(file, state);
    return { file, rescued: false };
  } catch (error) {
    reason = (error as Error).message;
  }
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const failures = [reason];
  for (const dir of rescueDirs) {
    const rescue = path.join(dir, `${path.basename(file)}.rescued-${stamp}`);
    try {
      await writeStateFile(rescue, state);
      return { file: rescue, rescued: true, wanted: file, reason };
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new StateFileError(`the state could not be written anywhere: ${failures.join("; ")}`);
}

function temporaryName(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`,
  );
}
