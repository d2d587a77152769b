// `provisionerd build` takes a template directory or a tar archive; the job runner takes bytes.
// A directory is packed the way `coder templates push` does: hidden files and Terraform state
// stay out, so a template dir that was used locally does not leak its state into the job.
//
// The unpacker's limits are checked here first, from `lstat` alone, so that a huge file is
// refused by name before a byte of it is read, and the archive in memory stays within them.
// Only files, directories and symbolic links can be packed: reading a FIFO would wait forever.
import type { Stats } from "node:fs";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { create } from "tar";
import { type ArchiveLimits, defaultArchiveLimits } from "../terraform/index.js";
import type { TemplateSource } from "./build-config.js";

export class TemplateArchiveError extends Error {
  override readonly name = "TemplateArchiveError";
}

// Tar's own bytes around the content: a 512-byte header and up to 511 bytes of padding per
// entry, plus the two 512-byte end blocks.
const TAR_BYTES_PER_ENTRY = 1024;
const TAR_END_BYTES = 1024;

function included(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]/).filter((part) => part !== "" && part !== ".");
  return !parts.some((part) => part.startsWith(".") || part.includes(".tfstate"));
}

function kindOf(stats: Stats): string | undefined {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return undefined;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Every entry to pack (relative paths, parents first), checked against the limits. */
async function templateEntries(directory: string, limits: ArchiveLimits): Promise<string[]> {
  const entries: string[] = [];
  let totalBytes = 0;
  const walk = async (relativeDir: string): Promise<void> => {
    const names = (await readdir(path.join(directory, relativeDir))).sort();
    for (const name of names) {
      const relative = relativeDir === "" ? name : `${relativeDir}/${name}`;
      if (!included(relative)) continue;
      const stats = await lstat(path.join(directory, relative));
      const refused = kindOf(stats);
      if (refused !== undefined) {
        throw new TemplateArchiveError(
          `template directory: "${relative}" is ${refused}; only files, directories and links can be packed`,
        );
      }
      if (stats.isFile()) {
        if (stats.size > limits.maxFileBytes) {
          throw new TemplateArchiveError(
            `template directory: "${relative}" is ${mib(stats.size)}, over the ${mib(limits.maxFileBytes)} limit for one file`,
          );
        }
        totalBytes += stats.size;
        if (totalBytes > limits.maxTotalBytes) {
          throw new TemplateArchiveError(
            `template directory: the files up to "${relative}" make more than the ${mib(limits.maxTotalBytes)} limit for a template`,
          );
        }
      }
      entries.push(relative);
      if (entries.length > limits.maxFiles) {
        throw new TemplateArchiveError(
          `template directory: more than ${limits.maxFiles} entries, the limit for a template`,
        );
      }
      if (stats.isDirectory()) await walk(relative);
    }
  };
  await walk("");
  return entries;
}

export async function packTemplateDirectory(
  directory: string,
  limits: ArchiveLimits = defaultArchiveLimits,
): Promise<Buffer> {
  const entries = await templateEntries(directory, limits);
  if (entries.length === 0) {
    throw new TemplateArchiveError(`template directory "${directory}" has no files to build`);
  }
  // A file that grew after its check cannot push the archive past what was checked.
  const maxBytes = limits.maxTotalBytes + entries.length * TAR_BYTES_PER_ENTRY + TAR_END_BYTES;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const stream = create(
    {
      cwd: directory,
      portable: true,
      // Keep the archive reproducible: same files, same bytes.
      mtime: new Date(0),
      // Exactly the checked entries: nothing added since is read.
      noDirRecurse: true,
    },
    entries,
  );
  for await (const chunk of stream) {
    bytes += (chunk as Uint8Array).byteLength;
    if (bytes > maxBytes) {
      throw new TemplateArchiveError(
        `template directory: files grew while packing, past the ${mib(limits.maxTotalBytes)} limit for a template`,
      );
    }
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** An archive file, read only when it is a regular file the unpacker could accept. */
async function readArchiveFile(file: string, limits: ArchiveLimits): Promise<Buffer> {
  const target = await stat(file);
  const refused = kindOf(target);
  if (refused !== undefined || !target.isFile()) {
    throw new TemplateArchiveError(
      `template "${path.basename(file)}" is ${refused ?? "not a regular file"}, not a tar archive`,
    );
  }
  const maxBytes = limits.maxTotalBytes + limits.maxFiles * TAR_BYTES_PER_ENTRY + TAR_END_BYTES;
  if (target.size > maxBytes) {
    throw new TemplateArchiveError(
      `template "${path.basename(file)}" is ${mib(target.size)}, more than a template within the limits can be (${mib(maxBytes)})`,
    );
  }
  return readFile(file);
}

export async function loadTemplate(source: TemplateSource, limits: ArchiveLimits): Promise<Buffer> {
  try {
    if (source.kind === "directory") return await packTemplateDirectory(source.path, limits);
    return await readArchiveFile(source.path, limits);
  } catch (error) {
    if (error instanceof TemplateArchiveError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TemplateArchiveError(
      `cannot read template "${path.basename(source.path)}": ${reason}`,
    );
  }
}
