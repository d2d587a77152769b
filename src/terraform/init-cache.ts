// Reuse of `terraform init`'s result between jobs of one daemon slot. Init starts no template
// code but downloads modules and installs providers; for the same template archive (which holds
// the lock file), terraform binary, CLI config, provider mirror and TF_* environment, it writes
// the same `.terraform` directory and lock file, so a copy of the last one is as good as a rerun.
//
// Only what the daemon's own init wrote is kept: the copy is taken right after init, before any
// template code (data sources, provisioners) ran, and never when the archive brought a
// `.terraform` of its own. Entries live in the daemon's private cache dir, one per slot.
import { createHash, randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { cp, lstat, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ProviderMirror } from "./cli-config.js";
import type { Environment } from "./environment.js";

export const dataDirName = ".terraform";
export const lockFileName = ".terraform.lock.hcl";
/** Bumped when what an entry holds changes, so older entries are never read. */
const entryFormat = "1";

/** Everything that decides what `terraform init` writes. */
export interface InitInputs {
  archive: Uint8Array;
  terraformPath: string;
  terraformVersion: string;
  cliConfigFile: string;
  mirror: ProviderMirror | undefined;
  /** The environment terraform inherits (its TF_* variables steer init). */
  inherited: Environment;
  pluginCacheDir: string;
}

/** The hash naming an init result: any change to an input gives another key. */
export async function initKey(inputs: InitInputs): Promise<string> {
  const hash = createHash("sha256");
  const field = (name: string, value: string | Uint8Array) => {
    hash.update(`${name}\0${typeof value === "string" ? value.length : value.byteLength}\0`);
    hash.update(value);
  };
  field("format", entryFormat);
  field("archive", inputs.archive);
  field("terraform", inputs.terraformPath);
  field("version", inputs.terraformVersion);
  // A binary replaced in place keeps its path; its size and mtime still change.
  const binary = await stat(inputs.terraformPath);
  field("binary", `${binary.size}:${binary.mtimeMs}:${binary.ino}`);
  field("cli-config", await readFile(inputs.cliConfigFile));
  field("plugin-cache", inputs.pluginCacheDir);
  const variables = Object.entries(inputs.inherited)
    .filter(([name, value]) => name.startsWith("TF_") && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  field("env", JSON.stringify(variables));
  if (inputs.mirror?.kind === "filesystem") field("mirror", await treeListing(inputs.mirror.path));
  else if (inputs.mirror?.kind === "network") field("mirror", inputs.mirror.url);
  return hash.digest("hex");
}

/** One line per file of a directory tree: path, type, size and mtime. */
async function treeListing(root: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string, prefix: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const info = await lstat(path);
      lines.push(`${prefix}${entry.name}\0${info.mode}\0${info.size}\0${info.mtimeMs}`);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
    }
  };
  try {
    await walk(root, "");
  } catch (error) {
    // A missing mirror fails init itself; the key need only differ from a present one.
    lines.push(`unreadable\0${(error as NodeJS.ErrnoException).code ?? "error"}`);
  }
  return lines.join("\n");
}

/** The init results of one slot, under a directory only the daemon writes. */
export class InitCache {
  constructor(private readonly directory: string) {}

  /**
   * Copies the entry for `key` into `workDir`: `restored`. `missing` (nothing changed) when there
   * is none, or it no longer resolves (a provider it links to was removed): init must run, and
   * its result may be saved. `foreign` when the work dir already has a `.terraform`: it came with
   * the archive, so it is neither replaced nor, after init, saved.
   */
  async restore(workDir: string, key: string): Promise<"restored" | "missing" | "foreign"> {
    if (await exists(join(workDir, dataDirName))) return "foreign";
    const entry = this.entryDir(key);
    if (!(await exists(entry))) return "missing";
    if (!(await linksResolve(join(entry, dataDirName)))) return "missing";
    try {
      await copyTree(join(entry, dataDirName), join(workDir, dataDirName));
      if (await exists(join(entry, lockFileName))) {
        await cp(join(entry, lockFileName), join(workDir, lockFileName), { force: true });
      }
      return "restored";
    } catch {
      // A copy cut short (the entry was replaced meanwhile): init runs as if there were none.
      await rm(join(workDir, dataDirName), { recursive: true, force: true });
      return "missing";
    }
  }

  /**
   * Keeps what init just wrote in `workDir` as the slot's entry for `key` (replacing older
   * ones). Written aside and renamed into place, so a reader never sees half an entry.
   */
  async save(workDir: string, key: string): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const staging = join(this.directory, `staging-${randomUUID()}`);
    try {
      await mkdir(staging, { mode: 0o700 });
      if (await exists(join(workDir, dataDirName))) {
        await copyTree(join(workDir, dataDirName), join(staging, dataDirName));
      }
      if (await exists(join(workDir, lockFileName))) {
        await cp(join(workDir, lockFileName), join(staging, lockFileName));
      }
      for (const name of await readdir(this.directory)) {
        if (name.startsWith("entry-")) {
          await rm(join(this.directory, name), { recursive: true, force: true });
        }
      }
      await rename(staging, this.entryDir(key));
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  private entryDir(key: string): string {
    return join(this.directory, `entry-${key}`);
  }
}

async function copyTree(from: string, to: string): Promise<void> {
  // Symlinks (providers linked from the plugin cache) are copied as links, files cloned when
  // the filesystem can.
  await cp(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false,
    mode: constants.COPYFILE_FICLONE,
  });
}

/** Whether every symlink under `dir` still points at something. */
async function linksResolve(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir, { withFileTypes: true, recursive: true });
    for (const entry of entries) {
      if (entry.isSymbolicLink()) await stat(join(entry.parentPath, entry.name));
    }
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}
