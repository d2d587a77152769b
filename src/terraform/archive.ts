// Template archive -> work dir. The archive comes from coderd, but it was uploaded by a template
// author, so every entry is treated as hostile until checked.
//
// Reference quirks fixed here (runner.md §4): files over 10 MiB were silently truncated (now a
// refusal), parent directories were not created (now they are), links were silently dropped (now
// links inside the work dir are kept and links pointing out are refused), and the path check was a
// plain string-prefix test (now a normalised-path test plus a realpath check of every link).
import { link, lstat, mkdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import { Parser, type ReadEntry } from "tar";

export interface ArchiveLimits {
  /** Largest single file, in bytes. */
  maxFileBytes: number;
  /** Largest sum of all file sizes, in bytes. */
  maxTotalBytes: number;
  /** Most entries (files, directories, links). */
  maxFiles: number;
}

export const defaultArchiveLimits: ArchiveLimits = {
  maxFileBytes: 10 * 1024 * 1024,
  maxTotalBytes: 100 * 1024 * 1024,
  maxFiles: 10_000,
};

/** The archive is corrupt, hostile or too big. `entry` names the offending entry, if any. */
export class ArchiveError extends Error {
  override readonly name = "ArchiveError";
  readonly entry: string | undefined;

  constructor(message: string, options: { entry?: string; cause?: unknown } = {}) {
    super(
      options.entry === undefined ? message : `entry ${JSON.stringify(options.entry)}: ${message}`,
      { cause: options.cause },
    );
    this.entry = options.entry;
  }
}

export interface UnpackResult {
  files: number;
  directories: number;
  links: number;
  bytes: number;
}

type Entry =
  | { kind: "file"; path: string; mode: number; data: Buffer }
  | { kind: "directory"; path: string; mode: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "hardlink"; path: string; target: string };

const fileTypes = new Set(["File", "OldFile", "ContiguousFile"]);

/**
 * Unpacks a tar (plain or gzip, detected from the bytes) into `directory`, which must exist and
 * should be empty. Throws ArchiveError on the first bad entry; what was written before that stays
 * (the caller removes the whole work dir).
 */
export async function unpackArchive(
  archive: Uint8Array,
  directory: string,
  limits: ArchiveLimits = defaultArchiveLimits,
  signal?: AbortSignal,
): Promise<UnpackResult> {
  if (archive.byteLength === 0) throw new ArchiveError("the archive is empty (0 bytes)");
  const entries = await readEntries(archive, limits);
  signal?.throwIfAborted();
  return writeEntries(entries, directory, signal);
}

/** Parses the whole archive in memory (it is bounded by the limits), validating each entry. */
function readEntries(archive: Uint8Array, limits: ArchiveLimits): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let count = 0;
    let total = 0;
    let failure: Error | undefined;
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      parser.abort(error);
    };

    const parser = new Parser({
      // Strict: a corrupt header or truncated body is an error, not a warning to skip past.
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (failure) {
          entry.resume();
          return;
        }
        try {
          count++;
          if (count > limits.maxFiles) {
            throw new ArchiveError(
              `the archive has more than ${limits.maxFiles} entries (the limit)`,
              { entry: entry.path },
            );
          }
          const accepted = acceptEntry(entry, limits, total);
          if (accepted === undefined) {
            entry.resume();
            return;
          }
          if (accepted.kind !== "file") {
            entries.push(accepted);
            entry.resume();
            return;
          }
          total += entry.size;
          // Pushed now so entries keep archive order; the body fills in as it is read.
          entries.push(accepted);
          const chunks: Buffer[] = [];
          let received = 0;
          entry.on("data", (chunk: Buffer) => {
            received += chunk.length;
            // The header's size is what the parser reads, so this only guards a parser bug.
            if (received > limits.maxFileBytes) {
              fail(new ArchiveError(fileTooBig(limits), { entry: accepted.path }));
              return;
            }
            chunks.push(chunk);
          });
          entry.on("end", () => {
            accepted.data = Buffer.concat(chunks, received);
          });
        } catch (error) {
          entry.resume();
          fail(error as Error);
        }
      },
    });
    // Our own refusals arrive here through parser.abort(); strict-mode warnings (corrupt or
    // truncated input, decompression bomb) arrive as plain errors.
    parser.on("error", (error: Error) => {
      failure ??=
        error instanceof ArchiveError
          ? error
          : new ArchiveError(`read template source archive: ${error.message}`, { cause: error });
      reject(failure);
    });
    // node-tar stops quietly at a partial header or at a cut between entries; only the
    // end-of-archive marker (two zero blocks, which Go's and node's tar writers always write)
    // proves nothing was cut off.
    let sawEndMarker = false;
    parser.on("eof", () => {
      sawEndMarker = true;
    });
    parser.on("end", () => {
      if (!failure && !sawEndMarker) {
        failure = new ArchiveError(
          "read template source archive: the archive is truncated (it ends without the end-of-archive marker)",
        );
      }
      if (failure) reject(failure);
      else resolve(entries);
    });
    try {
      parser.end(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength));
    } catch (error) {
      fail(new ArchiveError(`read template source archive: ${(error as Error).message}`));
      reject(failure);
    }
  });
}

function fileTooBig(limits: ArchiveLimits): string {
  return `file is larger than ${limits.maxFileBytes} bytes (the per-file limit)`;
}

/** Checks one header. Returns the entry to write, or undefined for the archive root itself. */
function acceptEntry(
  entry: ReadEntry,
  limits: ArchiveLimits,
  totalSoFar: number,
): Entry | undefined {
  const name = entry.path;
  const path = safeRelativePath(name);
  if (path === "") {
    if (entry.type === "Directory") return undefined;
    throw new ArchiveError("entry has no file name", { entry: name });
  }
  if (entry.type === "Directory") return { kind: "directory", path, mode: entry.mode ?? 0 };
  if (fileTypes.has(entry.type)) {
    if (entry.size > limits.maxFileBytes) {
      throw new ArchiveError(`${fileTooBig(limits)}: it has ${entry.size} bytes`, { entry: name });
    }
    if (totalSoFar + entry.size > limits.maxTotalBytes) {
      throw new ArchiveError(
        `the files add up to more than ${limits.maxTotalBytes} bytes (the total limit)`,
        { entry: name },
      );
    }
    return { kind: "file", path, mode: entry.mode ?? 0, data: Buffer.alloc(0) };
  }
  if (entry.type === "SymbolicLink" || entry.type === "Link") {
    const target = entry.linkpath ?? "";
    if (target === "") throw new ArchiveError("link has no target", { entry: name });
    if (target.includes("\0")) throw new ArchiveError("link target contains NUL", { entry: name });
    if (posix.isAbsolute(target)) {
      throw new ArchiveError(`link points outside the work directory (to ${target})`, {
        entry: name,
      });
    }
    // A symlink's target is relative to the link's directory; a hard link's to the archive root.
    const resolved =
      entry.type === "SymbolicLink"
        ? posix.join(posix.dirname(path), target)
        : posix.normalize(target);
    if (escapes(resolved)) {
      throw new ArchiveError(`link points outside the work directory (to ${target})`, {
        entry: name,
      });
    }
    return entry.type === "SymbolicLink"
      ? { kind: "symlink", path, target }
      : { kind: "hardlink", path, target: resolved };
  }
  if (entry.type === "CharacterDevice" || entry.type === "BlockDevice" || entry.type === "FIFO") {
    throw new ArchiveError(`${entry.type} entries are not allowed in a template`, { entry: name });
  }
  throw new ArchiveError(`unsupported tar entry type ${entry.type}`, { entry: name });
}

/** Normalises an entry name to a relative POSIX path, refusing anything that leaves the root. */
function safeRelativePath(name: string): string {
  if (name.includes("\0")) throw new ArchiveError("path contains NUL", { entry: name });
  if (posix.isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name)) {
    throw new ArchiveError("absolute paths are not allowed", { entry: name });
  }
  const normal = posix.normalize(name).replace(/\/+$/, "");
  if (escapes(normal)) {
    throw new ArchiveError("path would land outside the work directory", { entry: name });
  }
  return normal === "." ? "" : normal;
}

function escapes(normalised: string): boolean {
  const p = posix.normalize(normalised);
  return p === ".." || p.startsWith("../") || posix.isAbsolute(p);
}

async function writeEntries(
  entries: Entry[],
  directory: string,
  signal?: AbortSignal,
): Promise<UnpackResult> {
  const root = await realpath(directory);
  const result: UnpackResult = { files: 0, directories: 0, links: 0, bytes: 0 };
  // Symlinks are created last: no file or directory is ever written through a link that came
  // from the archive, so a chain of individually harmless links cannot redirect a write.
  const symlinks: Array<Entry & { kind: "symlink" }> = [];
  for (const entry of entries) {
    signal?.throwIfAborted();
    const target = join(root, ...entry.path.split("/"));
    try {
      switch (entry.kind) {
        case "directory":
          await mkdir(target, { recursive: true, mode: (entry.mode & 0o777) | 0o700 });
          result.directories++;
          break;
        case "file":
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await removeExisting(target, entry.path);
          // `wx` never follows an existing path; later entries replace earlier ones (tar rule).
          await writeFile(target, entry.data, {
            flag: "wx",
            mode: (entry.mode & 0o777) | 0o600,
          });
          result.files++;
          result.bytes += entry.data.length;
          break;
        case "hardlink": {
          const source = join(root, ...entry.target.split("/"));
          const stat = await lstat(source).catch(() => undefined);
          if (!stat?.isFile()) {
            throw new ArchiveError(
              `hard link target ${entry.target} is not a file in the archive`,
              {
                entry: entry.path,
              },
            );
          }
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await removeExisting(target, entry.path);
          await link(source, target);
          result.links++;
          break;
        }
        case "symlink":
          symlinks.push(entry);
          break;
      }
    } catch (error) {
      throw asArchiveError(error, entry.path);
    }
  }
  for (const entry of symlinks) {
    signal?.throwIfAborted();
    const target = join(root, ...entry.path.split("/"));
    try {
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await removeExisting(target, entry.path);
      await symlink(entry.target, target);
      result.links++;
    } catch (error) {
      throw asArchiveError(error, entry.path);
    }
  }
  // Each link passed a textual check; links through other links can still resolve elsewhere.
  for (const entry of symlinks) {
    const resolved = await realpath(join(root, ...entry.path.split("/"))).catch(() => undefined);
    if (resolved !== undefined && !isInside(root, resolved)) {
      throw new ArchiveError(`link points outside the work directory (resolves to ${resolved})`, {
        entry: entry.path,
      });
    }
  }
  return result;
}

async function removeExisting(path: string, entryName: string): Promise<void> {
  const stat = await lstat(path).catch(() => undefined);
  if (stat === undefined) return;
  if (stat.isDirectory()) {
    throw new ArchiveError("a directory of the same name is already in the archive", {
      entry: entryName,
    });
  }
  await rm(path, { force: true });
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !rel.startsWith(sep));
}

function asArchiveError(error: unknown, entry: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  return new ArchiveError(`write failed: ${(error as Error).message}`, { entry, cause: error });
}
