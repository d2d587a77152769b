// The local build's memory between runs: the Terraform state the last build left, so a later
// stop or delete continues from it. Written atomically and private (state holds secrets).
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeDirectory } from "../fs/directories.js";

export class StateFileError extends Error {
  override readonly name = "StateFileError";
}

/** The saved state, or an empty one when the file does not exist yet. */
export async function readStateFile(file: string | undefined): Promise<Buffer> {
  if (file === undefined) return Buffer.alloc(0);
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return Buffer.alloc(0);
    throw new StateFileError(`--state-file: cannot read "${file}": ${(error as Error).message}`);
  }
}

export async function writeStateFile(file: string, state: Uint8Array): Promise<void> {
  const temporary = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    await makeDirectory(path.dirname(file));
    await writeFile(temporary, state, { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw new StateFileError(`--state-file: cannot write "${file}": ${(error as Error).message}`);
  }
}
