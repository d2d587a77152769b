// Settings shared by `start` and `build`: where Terraform is, where it works and caches, how
// providers are installed offline, and how the process logs.
import os from "node:os";
import path from "node:path";
import { defaultCacheDir } from "../daemon/index.js";
import { unusableDirectory } from "../fs/directories.js";
import { type TerraformBinary, TerraformBinaryError } from "../terraform/index.js";
import type { OptionSpec } from "./option-spec.js";
import { UsageError } from "./usage-error.js";
import type { ProviderMirror } from "./value-schemas.js";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

export function defaultWorkDir(): string {
  return path.join(os.tmpdir(), "provisionerd");
}

/**
 * Creates the work and cache directories before any job runs and checks that jobs can make
 * their own entries in them, so that a path that cannot be used fails the command at once
 * (a UsageError naming its flag) instead of every job later.
 */
export async function checkJobDirectories(config: {
  workDir: string;
  cacheDir: string;
}): Promise<void> {
  for (const [flag, dir] of [
    ["--work-dir", config.workDir],
    ["--cache-dir", config.cacheDir],
  ] as const) {
    const reason = await unusableDirectory(dir);
    if (reason !== undefined) throw new UsageError(`${flag}: cannot use "${dir}": ${reason}`);
  }
}

/**
 * Finds terraform and checks its version before any job runs, so that a missing, old or wrong
 * binary fails the command at once, naming the flag that chooses it.
 */
export async function checkTerraformOption(provisioner: {
  binary(): Promise<TerraformBinary>;
}): Promise<void> {
  try {
    await provisioner.binary();
  } catch (error) {
    if (error instanceof TerraformBinaryError) {
      throw new UsageError(`--terraform-path: ${error.message}`);
    }
    throw error;
  }
}

/** --provider-mirror as the terraform provisioner takes it: a directory or a URL alike. */
export function providerMirrorOption(mirror: ProviderMirror | undefined): {
  providerMirror?: string;
} {
  if (mirror === undefined) return {};
  return { providerMirror: mirror.kind === "filesystem" ? mirror.path : mirror.url };
}

export function terraformOptionSpecs(env: NodeJS.ProcessEnv): OptionSpec[] {
  return [
    {
      key: "terraformPath",
      flags: "--terraform-path <path>",
      env: "CODER_PROVISIONERD_TERRAFORM_PATH",
      description: "terraform binary: a name looked up on PATH or a path",
      default: "terraform",
    },
    {
      key: "providerMirror",
      flags: "--provider-mirror <dir|url>",
      env: "CODER_PROVISIONERD_PROVIDER_MIRROR",
      description:
        "install providers only from this Terraform filesystem mirror directory or https:// network mirror (air-gapped hosts)",
      defaultDescription: "none (providers come from their registries)",
    },
    {
      key: "cacheDir",
      flags: "--cache-dir <dir>",
      env: "CODER_CACHE_DIRECTORY",
      description: "provider plugin caches (one sub-directory per job slot) and the daemon id",
      default: defaultCacheDir(env),
    },
    {
      key: "workDir",
      flags: "--work-dir <dir>",
      env: "CODER_PROVISIONERD_WORK_DIR",
      description:
        "where jobs unpack templates and run terraform; each job's dir is removed after it",
      default: defaultWorkDir(),
    },
  ];
}

export function logOptionSpecs(): OptionSpec[] {
  return [
    {
      key: "logLevel",
      flags: "--log-level <level>",
      env: "CODER_PROVISIONERD_LOG_LEVEL",
      description: "minimum level of the process log",
      choices: LOG_LEVELS,
      default: "info",
    },
    {
      key: "logFormat",
      flags: "--log-format <format>",
      env: "CODER_PROVISIONERD_LOG_FORMAT",
      description: "process log format",
      choices: LOG_FORMATS,
      defaultDescription: "json, pretty when stderr is a terminal",
    },
  ];
}
