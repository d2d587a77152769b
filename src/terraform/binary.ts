// Finding the terraform binary and checking its version. Nothing is ever downloaded: runners are
// often air-gapped, so a missing or too old terraform is a clear error for the operator instead.
//
// Difference from the reference: it installed terraform 1.3.4 when the binary
// was missing or newer than 1.3.4. We only enforce the lower bound (1.1.0), like the per-request
// check of the reference, and use the detailed graph form on terraform >= 1.7 (see graphArgs).
import { access, constants } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { execa } from "execa";
import { z } from "zod";

export const minimumTerraformVersion = "1.1.0";

export class TerraformBinaryError extends Error {
  override readonly name = "TerraformBinaryError";
}

export interface TerraformBinary {
  /** Absolute path of the executable. */
  path: string;
  /** Version as reported by `terraform version -json`, e.g. "1.11.4". */
  version: string;
}

const versionOutput = z.object({ terraform_version: z.string() });

/**
 * Resolves the terraform executable: an explicit path (absolute, or relative to the current
 * directory) or a PATH search that, unlike a shell, never looks in the current directory.
 */
export async function findTerraform(
  explicitPath?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (explicitPath !== undefined && explicitPath !== "") {
    const path = resolve(explicitPath);
    if (!(await isExecutable(path))) {
      throw new TerraformBinaryError(
        `terraform binary "${path}" does not exist or is not executable`,
      );
    }
    return path;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    // An empty or relative PATH entry means "the current directory": skip it (safeexec rule).
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, "terraform");
    if (await isExecutable(candidate)) return candidate;
  }
  throw new TerraformBinaryError(
    "terraform was not found on PATH; install terraform >= 1.1.0 or pass --terraform-path",
  );
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs `terraform version -json` and checks the version against the minimum. */
export async function checkTerraform(
  path: string,
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<TerraformBinary> {
  let stdout: string;
  try {
    const result = await execa(path, ["version", "-json"], {
      env: { ...(options.env ?? process.env), CHECKPOINT_DISABLE: "1" },
      extendEnv: false,
      stdin: "ignore",
      cancelSignal: options.signal,
      timeout: 60_000,
    });
    stdout = result.stdout;
  } catch (error) {
    throw new TerraformBinaryError(`run "${path} version -json": ${(error as Error).message}`, {
      cause: error,
    });
  }
  let version: string;
  try {
    version = versionOutput.parse(JSON.parse(stdout)).terraform_version;
  } catch (error) {
    const printed = stdout.trim() === "" ? "nothing" : JSON.stringify(stdout.slice(0, 200));
    throw new TerraformBinaryError(
      `"${path}" is not terraform: "version -json" printed ${printed}, not a terraform_version`,
      { cause: error },
    );
  }
  const parsed = parseVersion(version);
  if (parsed === undefined) {
    throw new TerraformBinaryError(`terraform version "${version}" is not a semantic version`);
  }
  if (compareVersions(parsed, parseVersion(minimumTerraformVersion) ?? [1, 1, 0]) < 0) {
    throw new TerraformBinaryError(
      `terraform version "${version}" is too old. required >= "${minimumTerraformVersion}"`,
    );
  }
  return { path, version };
}

/** `1.11.4`, `v1.3.0-beta1` -> [major, minor, patch]; undefined when unparsable. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(version.trim());
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Arguments for `terraform graph`. Since 1.7 a plain `terraform graph` prints a simplified
 * resource-only graph; `-type=plan` gives the detailed `[root] ...` graph the conversion was
 * designed on (and that the conformance cases recorded with terraform 1.3).
 */
export function graphArgs(version: string): string[] {
  const parsed = parseVersion(version);
  if (parsed !== undefined && compareVersions(parsed, [1, 7, 0]) >= 0) {
    return ["graph", "-type=plan"];
  }
  return ["graph"];
}
