// The terraform Provisioner: unpacks a job's archive into a fresh work dir and hands out a
// session that runs terraform there.
import { lstat, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { FAILURE_PREFIX } from "../daemon/job-texts.js";
import { makeDirectory } from "../fs/directories.js";
import {
  type OpenSessionOptions,
  ProvisionError,
  type Provisioner,
  type ProvisionSession,
} from "../provisioner/provisioner.js";
import { ArchiveError, type ArchiveLimits, unpackArchive } from "./archive.js";
import { checkTerraform, findTerraform, type TerraformBinary } from "./binary.js";
import {
  parseProviderMirror,
  unusedCliConfigFiles,
  unusedCliConfigNotice,
  writeCliConfig,
} from "./cli-config.js";
import { controlledVariables, type Environment, sanitizedEnvironment } from "./environment.js";
import { InitCache, initKey } from "./init-cache.js";
import {
  parseTerraformProvisionerOptions,
  type ResolvedTerraformProvisionerOptions,
  type TerraformProvisionerOptions,
} from "./options.js";
import { TerraformSession } from "./session.js";
import { createWorkDir, removeWorkDir, stateFileName } from "./workdir.js";

export class TerraformProvisioner implements Provisioner {
  readonly type = "terraform";
  private readonly options: ResolvedTerraformProvisionerOptions;
  private readonly inherited: Environment;
  private readonly logger: Logger | undefined;
  private binaryCheck: Promise<TerraformBinary> | undefined;
  private cliConfig: Promise<string> | undefined;

  constructor(options: TerraformProvisionerOptions) {
    this.options = parseTerraformProvisionerOptions(options);
    this.inherited = sanitizedEnvironment(this.options.environment ?? process.env);
    this.logger = this.options.logger;
  }

  get archiveLimits(): ArchiveLimits {
    return {
      maxFileBytes: this.options.maxFileBytes,
      maxTotalBytes: this.options.maxTotalBytes,
      maxFiles: this.options.maxFiles,
    };
  }

  /**
   * Finds terraform and checks its version (once; a failure is retried on the next call).
   * The daemon may call this at start-up to fail fast on a missing or too old terraform.
   */
  binary(signal?: AbortSignal): Promise<TerraformBinary> {
    this.binaryCheck ??= (async () => {
      const path = await findTerraform(this.options.terraformPath, this.inherited);
      const binary = await checkTerraform(path, { env: this.inherited, signal });
      this.logger?.info({ path: binary.path, version: binary.version }, "terraform found");
      return binary;
    })();
    const check = this.binaryCheck;
    check.catch(() => {
      if (this.binaryCheck === check) this.binaryCheck = undefined;
    });
    return check;
  }

  /** The state file terraform left in a dead daemon's work dir (a regular file only). */
  async stateLeftIn(directory: string): Promise<Uint8Array | undefined> {
    const path = join(directory, stateFileName);
    try {
      if (!(await lstat(path)).isFile()) return undefined;
      const state = new Uint8Array(await readFile(path));
      return state.byteLength === 0 ? undefined : state;
    } catch {
      return undefined;
    }
  }

  async open(options: OpenSessionOptions): Promise<ProvisionSession> {
    return this.openSession(options, undefined);
  }

  /** Whether a session's plans may run beside each other in two work dirs. */
  private get sideBySide(): boolean {
    const setting = this.options.sideBySidePlans;
    return setting === "always" || (setting === "auto" && availableParallelism() >= 2);
  }

  private async openSession(
    options: OpenSessionOptions,
    initSettled: Promise<void> | undefined,
  ): Promise<TerraformSession> {
    if (!Number.isInteger(options.slot) || options.slot < 0) {
      throw new ProvisionError(`invalid daemon slot ${options.slot}`, { code: "INTERNAL" });
    }
    let binary: TerraformBinary;
    let cliConfigFile: string;
    try {
      binary = await this.binary(options.signal);
      cliConfigFile = await this.writeCliConfig();
    } catch (error) {
      throw new ProvisionError((error as Error).message, { code: "TERRAFORM", cause: error });
    }
    const pluginCacheDir = join(this.options.cacheDir, "plugins", `slot-${options.slot}`);
    await makeDirectory(pluginCacheDir, 0o700);

    const directory = await createWorkDir(this.options.workDirRoot, options.jobId);
    try {
      const unpacked = await unpackArchive(
        options.archive,
        directory,
        this.archiveLimits,
        options.signal,
      );
      this.logger?.debug({ jobId: options.jobId, directory, ...unpacked }, "template unpacked");
    } catch (error) {
      await removeWorkDir(directory);
      if (options.signal.aborted) {
        throw new ProvisionError(`${FAILURE_PREFIX.unpackArchive}canceled`, {
          code: "CANCELED",
          cause: error,
        });
      }
      const message =
        error instanceof ArchiveError
          ? `${FAILURE_PREFIX.unpackArchive}${error.message}`
          : `${FAILURE_PREFIX.unpackArchive}${(error as Error).message}`;
      throw new ProvisionError(message, {
        code: error instanceof ArchiveError ? "ARCHIVE" : "INTERNAL",
        cause: error,
      });
    }
    const initReuse = await this.initReuse(options, binary, cliConfigFile, pluginCacheDir);
    return new TerraformSession({
      directory,
      jobId: options.jobId,
      binary,
      inherited: this.inherited,
      controlled: controlledVariables({ cliConfigFile, pluginCacheDir }),
      gracePeriodMs: this.options.cancelGracePeriodMs,
      outputSource: this.options.outputSource,
      ...(initReuse === undefined ? {} : { initReuse }),
      ...(initSettled === undefined ? {} : { initSettled }),
      // One fork level: the sibling itself does not fork again.
      ...(this.sideBySide && initSettled === undefined
        ? {
            fork: (settled: Promise<void>) =>
              this.openSession({ ...options, jobId: `${options.jobId}-side` }, settled),
          }
        : {}),
      logger: this.logger?.child({ jobId: options.jobId }),
    });
  }

  /** The slot's init cache and this job's key in it; none when reuse is off or impossible. */
  private async initReuse(
    options: OpenSessionOptions,
    binary: TerraformBinary,
    cliConfigFile: string,
    pluginCacheDir: string,
  ): Promise<{ cache: InitCache; key: string } | undefined> {
    // TF_DATA_DIR moves .terraform out of the work dir: nothing there to copy.
    if (!this.options.reuseInit || this.inherited.TF_DATA_DIR !== undefined) return undefined;
    try {
      const key = await initKey({
        archive: options.archive,
        terraformPath: binary.path,
        terraformVersion: binary.version,
        cliConfigFile,
        mirror:
          this.options.providerMirror === undefined
            ? undefined
            : parseProviderMirror(this.options.providerMirror),
        inherited: this.inherited,
        pluginCacheDir,
      });
      const cache = new InitCache(join(this.options.cacheDir, "init", `slot-${options.slot}`));
      return { cache, key };
    } catch (error) {
      this.logger?.warn({ err: error }, "terraform init reuse is off for this job");
      return undefined;
    }
  }

  private writeCliConfig(): Promise<string> {
    this.cliConfig ??= (async () => {
      const path = join(this.options.cacheDir, "terraform-cli-config.tfrc");
      const mirror =
        this.options.providerMirror === undefined
          ? undefined
          : parseProviderMirror(this.options.providerMirror);
      await writeCliConfig(path, mirror);
      const unused = await unusedCliConfigFiles(this.inherited);
      if (unused.length > 0) this.logger?.warn({ files: unused }, unusedCliConfigNotice(unused));
      return path;
    })();
    const pending = this.cliConfig;
    pending.catch(() => {
      if (this.cliConfig === pending) this.cliConfig = undefined;
    });
    return pending;
  }
}

export function createTerraformProvisioner(
  options: TerraformProvisionerOptions,
): TerraformProvisioner {
  return new TerraformProvisioner(options);
}
