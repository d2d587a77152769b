// What a local build remembers beside its state file (`<state-file>.build.json`): the
// workspace's ids and the values it was built with, so a later stop or delete builds the same
// workspace with the same parameters, as coderd does from its database. Sensitive values are
// never written: they must be given again.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { fileSystemReason } from "../fs/directories.js";
import type { TransitionName } from "./build-config.js";
import { writeStateFile } from "./state-file.js";
import { UsageError } from "./usage-error.js";

const nameValue = z.object({ name: z.string().min(1), value: z.string() });

const buildRecordSchema = z.object({
  version: z.literal(1),
  workspaceId: z.uuid(),
  ownerId: z.uuid(),
  lastTransition: z.enum(["start", "stop", "delete"]),
  richParameterValues: z.array(nameValue),
  /** Non-sensitive --var values. */
  variableValues: z.array(nameValue),
  /** Non-sensitive --param values. */
  parameterValues: z.array(nameValue),
});

export type BuildRecord = z.infer<typeof buildRecordSchema>;

export function buildRecordPath(stateFile: string): string {
  return `${stateFile}.build.json`;
}

/** A first build's record: fresh ids, no values yet. */
export function newBuildRecord(): BuildRecord {
  return {
    version: 1,
    workspaceId: randomUUID(),
    ownerId: randomUUID(),
    lastTransition: "start",
    richParameterValues: [],
    variableValues: [],
    parameterValues: [],
  };
}

/** The record of the previous build, or undefined before the first one. */
export async function readBuildRecord(
  stateFile: string | undefined,
): Promise<BuildRecord | undefined> {
  if (stateFile === undefined) return undefined;
  const file = buildRecordPath(stateFile);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new UsageError(`--state-file: cannot read "${file}": ${fileSystemReason(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`--state-file: "${file}" is not JSON; delete it to start over`);
  }
  const parsed = buildRecordSchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.join(".") || "(top level)";
    throw new UsageError(
      `--state-file: "${file}" is not a build record (bad ${field}); delete it to start over`,
    );
  }
  return parsed.data;
}

export async function writeBuildRecord(
  stateFile: string,
  record: BuildRecord & { lastTransition: TransitionName },
): Promise<void> {
  await writeStateFile(
    buildRecordPath(stateFile),
    Buffer.from(`${JSON.stringify(record, null, 2)}\n`),
  );
}

/** The given values worth remembering: those named in `keep`. */
export function toRecordValues(values: Record<string, string>, keep: ReadonlySet<string>) {
  return Object.entries(values)
    .filter(([name]) => keep.has(name))
    .map(([name, value]) => ({ name, value }));
}

export function fromRecordValues(
  values: readonly { name: string; value: string }[],
): Record<string, string> {
  return Object.fromEntries(values.map((value) => [value.name, value.value]));
}
