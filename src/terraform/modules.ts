// The modules a template calls, from the manifest `terraform init` writes
// (`.terraform/modules/modules.json`), and the archive of the module files init downloaded, which
// a template import hands to coderd so later builds need not download them again.
//
// Only modules init fetched into `.terraform/modules/` are archived: a local module
// (`./modules/x`) is part of the template already. Symbolic links are never followed (init links
// a module given as an absolute directory path to that directory, which may be anywhere on this
// machine), `.git` directories stay out (they only make equal modules hash differently), and
// entries carry no owner or time, so the same module files give the same bytes.
import { lstat, readdir, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { create } from "tar";
import { z } from "zod";
import type { Module } from "../provisioner/model.js";
import { modulesDir } from "./archive.js";

export const modulesManifestPath = `${modulesDir}/modules.json`;
const downloadedModulesDir = `${modulesDir}/`;

/** The largest module archive a template import carries; Coder's own limit. */
export const MAX_MODULE_ARCHIVE_BYTES = 20 * 1024 * 1024;

// A tar header and up to 511 bytes of padding per entry, and the two end blocks.
const TAR_BYTES_PER_ENTRY = 1024;
const TAR_END_BYTES = 1024;

/** The manifest is unreadable or malformed. */
export class ModulesManifestError extends Error {
  override readonly name = "ModulesManifestError";
}

const manifestSchema = z.object({
  Modules: z.array(
    z.object({
      Key: z.string(),
      Source: z.string(),
      Version: z.string().optional(),
      Dir: z.string(),
    }),
  ),
});

export interface ManifestModule extends Module {
  /** Where init put it, relative to the work dir. */
  dir: string;
}

export interface ModulesManifest {
  /** The manifest's bytes as init wrote them. */
  bytes: Buffer;
  /** Every module but the root, in manifest order. */
  modules: ManifestModule[];
}

/** The work dir's module manifest; undefined when init wrote none (no module is called). */
export async function readModulesManifest(workDir: string): Promise<ModulesManifest | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(workDir, modulesManifestPath));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new ModulesManifestError(
      `${modulesManifestPath}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(bytes.toString("utf8")));
  } catch (error) {
    const reason =
      error instanceof z.ZodError
        ? error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
        : (error as Error).message;
    throw new ModulesManifestError(`${modulesManifestPath}: not a module manifest (${reason})`);
  }
  return {
    bytes,
    modules: parsed.Modules.filter((m) => m.Source !== "").map((m) => ({
      source: m.Source,
      version: m.Version ?? "",
      key: m.Key,
      dir: m.Dir,
    })),
  };
}

export interface ModuleArchive {
  /** The tar; empty when no module was downloaded. */
  bytes: Buffer;
  /** Keys of downloaded modules left out because the archive would have grown past its limit. */
  skipped: string[];
}

/**
 * A tar of the downloaded modules' files and the manifest, at most `maxBytes` long: a module
 * whose files would not fit is left out whole (and named in `skipped`), the others still go in.
 */
export async function moduleArchive(
  workDir: string,
  manifest: ModulesManifest,
  maxBytes = MAX_MODULE_ARCHIVE_BYTES,
): Promise<ModuleArchive> {
  const entries: string[] = [];
  const skipped: string[] = [];
  let budget = maxBytes - TAR_END_BYTES - TAR_BYTES_PER_ENTRY - manifest.bytes.length;
  for (const module of manifest.modules) {
    const dir = posix.normalize(module.dir);
    if (!dir.startsWith(downloadedModulesDir) || dir.includes("..")) continue;
    const files = await regularFiles(workDir, dir);
    if (files.length === 0) continue;
    const size = files.reduce((sum, f) => sum + f.size + TAR_BYTES_PER_ENTRY, 0);
    if (size > budget) {
      skipped.push(module.key);
      continue;
    }
    budget -= size;
    entries.push(...files.map((f) => f.path));
  }
  if (entries.length === 0) return { bytes: Buffer.alloc(0), skipped };
  entries.push(modulesManifestPath);
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = create(
    { cwd: workDir, portable: true, mtime: new Date(0), noDirRecurse: true, follow: false },
    entries,
  );
  for await (const chunk of stream) {
    length += (chunk as Uint8Array).byteLength;
    // A file that grew after it was measured cannot push the archive past its limit.
    if (length > maxBytes)
      return { bytes: Buffer.alloc(0), skipped: manifest.modules.map((m) => m.key) };
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return { bytes: Buffer.concat(chunks), skipped };
}

/** Regular files under `dir` (relative paths, sorted), without `.git` and without links. */
async function regularFiles(
  workDir: string,
  dir: string,
): Promise<{ path: string; size: number }[]> {
  const found: { path: string; size: number }[] = [];
  const walk = async (relative: string): Promise<void> => {
    const stats = await lstat(join(workDir, relative)).catch(() => undefined);
    if (stats === undefined) return;
    if (stats.isFile()) {
      found.push({ path: relative, size: stats.size });
      return;
    }
    if (!stats.isDirectory()) return;
    for (const name of (await readdir(join(workDir, relative))).sort()) {
      if (name === ".git") continue;
      await walk(`${relative}/${name}`);
    }
  };
  await walk(dir.replace(/\/+$/, ""));
  return found;
}
