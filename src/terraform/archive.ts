// Template archive -> work dir. The archive comes from coderd, but it was uploaded by a template
// author, so every entry is treated as hostile until checked: files over the per-file limit are
// refused (never truncated), parent directories are created, links inside the work dir are kept
// and links pointing out are refused, and paths are checked after normalisation.
import { type FileHandle, link, lstat, mkdir, open, realpath, rm, symlink } from "node:fs/promises";
import { dirname, join, posix, relative, sep } from "node:path";
import { Readable } from "node:stream";
import { setImmediate } from "node:timers/promises";
import { createGunzip } from "node:zlib";
import { type TarEvent, TarFormatError, type TarHeader, TarReader } from "./tar-reader.js";

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
  | { kind: "file"; path: string; mode: number; size: number }
  | { kind: "directory"; path: string; mode: number }
  | { kind: "symlink"; path: string; target: string }
  | { kind: "hardlink"; path: string; target: string };

const fileTypes = new Set(["0", "7"]);
const refusedTypes: Record<string, string> = {
  "3": "CharacterDevice",
  "4": "BlockDevice",
  "6": "FIFO",
};
/** Input is read and inflated in pieces of this size, so no step holds much of it at once. */
const CHUNK_BYTES = 64 * 1024;
/** Reading gives the event loop a turn after this many bytes, so other jobs keep running. */
const YIELD_BYTES = 1024 * 1024;

const readPrefix = "read template source archive";

/**
 * Unpacks a tar (plain or gzip, detected from the bytes) into `directory`, which must exist and
 * should be empty. The archive is read as a stream (inflated piece by piece, each piece written
 * out before the next is read) and reading stops at the end-of-archive marker, so time and
 * memory stay proportional to what the entries hold, whatever the compressed bytes expand to.
 * Throws ArchiveError on the first bad entry, or the signal's reason when it is aborted; what
 * was written before that stays (the caller removes the whole work dir).
 */
export async function unpackArchive(
  archive: Uint8Array,
  directory: string,
  limits: ArchiveLimits = defaultArchiveLimits,
  signal?: AbortSignal,
): Promise<UnpackResult> {
  if (archive.byteLength === 0) throw new ArchiveError("the archive is empty (0 bytes)");
  signal?.throwIfAborted();
  const writer = new EntryWriter(await realpath(directory), limits, signal);
  try {
    await readArchive(archive, limits, signal, (event) => writer.handle(event));
  } finally {
    await writer.close();
  }
  return writer.finish();
}

/**
 * Largest tar stream a valid archive within `limits` can have: the files' bytes plus, per
 * entry, its header block, a pax or long-name header with its body, and its body's padding.
 */
export function tarStreamLimit(limits: ArchiveLimits): number {
  return limits.maxTotalBytes + limits.maxFiles * 4 * 512 + 2 * 512;
}

async function readArchive(
  archive: Uint8Array,
  limits: ArchiveLimits,
  signal: AbortSignal | undefined,
  onEvent: (event: TarEvent) => Promise<void>,
): Promise<void> {
  const bytes = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const reader = new TarReader();
  const cap = tarStreamLimit(limits);
  let sinceYield = 0;
  try {
    for await (const chunk of gzip ? inflate(bytes) : slices(bytes)) {
      signal?.throwIfAborted();
      const events = reader.push(chunk);
      if (reader.bytesRead > cap) {
        throw new ArchiveError(
          `${readPrefix}: it unpacks to more than ${cap} bytes (the total limit of ${limits.maxTotalBytes} bytes plus room for tar headers)`,
        );
      }
      for (const event of events) await onEvent(event);
      if (reader.ended) return;
      sinceYield += chunk.length;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await setImmediate();
      }
    }
    reader.finish();
  } catch (error) {
    throw readError(error, gzip, signal);
  }
}

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    yield bytes.subarray(at, at + CHUNK_BYTES);
  }
}

/** Inflates in the zlib thread pool, one piece at a time, as fast as the reader takes them. */
async function* inflate(bytes: Buffer): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  const source = Readable.from(slices(bytes));
  source.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

function readError(error: unknown, gzip: boolean, signal: AbortSignal | undefined): unknown {
  if (error instanceof ArchiveError || (signal?.aborted && error === signal.reason)) return error;
  if (error instanceof TarFormatError) {
    // Nothing in the first block made sense: this is not a tar at all.
    if (error.offset < 512) {
      return new ArchiveError(
        gzip
          ? `${readPrefix}: it is gzip-compressed but holds no tar archive (not a tar or tar.gz file)`
          : `${readPrefix}: it is not a tar or tar.gz file (it starts with no tar header)`,
        { cause: error },
      );
    }
    const where = error.message.includes("truncated") ? "" : ` (at byte ${error.offset})`;
    return new ArchiveError(`${readPrefix}: ${error.message}${where}`, { cause: error });
  }
  const message = (error as Error)?.message ?? String(error);
  if (gzip && (error as NodeJS.ErrnoException)?.code?.startsWith("Z_")) {
    return new ArchiveError(`${readPrefix}: the gzip data is corrupt or truncated (${message})`, {
      cause: error,
    });
  }
  return new ArchiveError(`${readPrefix}: ${message}`, { cause: error });
}

function fileTooBig(limits: ArchiveLimits): string {
  return `file is larger than ${limits.maxFileBytes} bytes (the per-file limit)`;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A name from the archive as text. Bytes that are not UTF-8 are refused rather than replaced:
 * replacement would turn different names into one, and a later entry would silently overwrite
 * an earlier one. The error shows such a name with its odd bytes escaped (`caf\xe9.tf`).
 */
function decodeName(bytes: Uint8Array, entry: string | undefined, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ArchiveError(`${what} is not valid UTF-8, so it cannot be unpacked as written`, {
      entry: entry ?? escapedName(bytes),
    });
  }
}

/** Printable ASCII as is, every other byte as \xNN. */
function escapedName(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return out;
}

/** Checks one header. Returns the entry to write, or undefined for the archive root itself. */
function acceptEntry(
  header: TarHeader,
  name: string,
  limits: ArchiveLimits,
  totalSoFar: number,
): Entry | undefined {
  const path = safeRelativePath(name);
  const type = header.type;
  if (path === "") {
    if (type === "5") return undefined;
    throw new ArchiveError("entry has no file name", { entry: name });
  }
  if (type === "5") return { kind: "directory", path, mode: header.mode };
  if (fileTypes.has(type)) {
    if (header.size > limits.maxFileBytes) {
      throw new ArchiveError(`${fileTooBig(limits)}: it has ${header.size} bytes`, {
        entry: name,
      });
    }
    if (totalSoFar + header.size > limits.maxTotalBytes) {
      throw new ArchiveError(
        `the files add up to more than ${limits.maxTotalBytes} bytes (the total limit)`,
        { entry: name },
      );
    }
    return { kind: "file", path, mode: header.mode, size: header.size };
  }
  if (type === "2" || type === "1") {
    const target = decodeName(header.linkName, name, "the link target");
    if (target === "") throw new ArchiveError("link has no target", { entry: name });
    if (target.includes("\0")) throw new ArchiveError("link target contains NUL", { entry: name });
    if (posix.isAbsolute(target)) {
      throw new ArchiveError(`link points outside the work directory (to ${target})`, {
        entry: name,
      });
    }
    // A symlink's target is relative to the link's directory; a hard link's to the archive root.
    const resolved =
      type === "2" ? posix.join(posix.dirname(path), target) : posix.normalize(target);
    if (escapes(resolved)) {
      throw new ArchiveError(`link points outside the work directory (to ${target})`, {
        entry: name,
      });
    }
    return type === "2"
      ? { kind: "symlink", path, target }
      : { kind: "hardlink", path, target: resolved };
  }
  const refused = refusedTypes[type];
  if (refused !== undefined) {
    throw new ArchiveError(`${refused} entries are not allowed in a template`, { entry: name });
  }
  throw new ArchiveError(`unsupported tar entry type ${JSON.stringify(type)}`, { entry: name });
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

/** Writes entries as they are read: directories, files and hard links at once, symlinks last. */
class EntryWriter {
  private readonly result: UnpackResult = { files: 0, directories: 0, links: 0, bytes: 0 };
  private count = 0;
  private total = 0;
  /** The file whose body is being read. */
  private current: { path: string; handle: FileHandle; size: number; written: number } | undefined;
  // Symlinks are created last: no file or directory is ever written through a link that came
  // from the archive, so a chain of individually harmless links cannot redirect a write.
  private readonly symlinks: Array<Entry & { kind: "symlink" }> = [];

  constructor(
    private readonly root: string,
    private readonly limits: ArchiveLimits,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async handle(event: TarEvent): Promise<void> {
    if (event.kind === "entry") await this.begin(event.header);
    else if (event.kind === "data") await this.write(event.bytes);
    else await this.end();
  }

  /** Closes a file left open by a failure. */
  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.handle.close().catch(() => undefined);
  }

  private async begin(header: TarHeader): Promise<void> {
    this.signal?.throwIfAborted();
    const name = decodeName(header.name, undefined, "the entry name");
    this.count++;
    if (this.count > this.limits.maxFiles) {
      throw new ArchiveError(
        `the archive has more than ${this.limits.maxFiles} entries (the limit)`,
        {
          entry: name,
        },
      );
    }
    const entry = acceptEntry(header, name, this.limits, this.total);
    if (entry === undefined) return;
    const target = this.pathOf(entry.path);
    try {
      switch (entry.kind) {
        case "directory":
          await mkdir(target, { recursive: true, mode: (entry.mode & 0o777) | 0o700 });
          this.result.directories++;
          break;
        case "file": {
          this.total += entry.size;
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await removeExisting(target, entry.path);
          // `wx` never follows an existing path; later entries replace earlier ones (tar rule).
          const handle = await open(target, "wx", (entry.mode & 0o777) | 0o600);
          this.current = { path: entry.path, handle, size: entry.size, written: 0 };
          break;
        }
        case "hardlink": {
          const source = this.pathOf(entry.target);
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
          this.result.links++;
          break;
        }
        case "symlink":
          this.symlinks.push(entry);
          break;
      }
    } catch (error) {
      throw asArchiveError(error, entry.path);
    }
  }

  private async write(bytes: Uint8Array): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    current.written += bytes.length;
    try {
      await current.handle.writeFile(bytes);
    } catch (error) {
      throw asArchiveError(error, current.path);
    }
  }

  private async end(): Promise<void> {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    await current.handle.close();
    this.result.files++;
    this.result.bytes += current.written;
  }

  async finish(): Promise<UnpackResult> {
    const root = this.root;
    for (const entry of this.symlinks) {
      this.signal?.throwIfAborted();
      const target = this.pathOf(entry.path);
      try {
        await mkdir(dirname(target), { recursive: true, mode: 0o700 });
        await removeExisting(target, entry.path);
        await symlink(entry.target, target);
        this.result.links++;
      } catch (error) {
        throw asArchiveError(error, entry.path);
      }
    }
    // Each link passed a textual check; links through other links can still resolve elsewhere.
    for (const entry of this.symlinks) {
      const resolved = await realpath(this.pathOf(entry.path)).catch(() => undefined);
      if (resolved !== undefined && !isInside(root, resolved)) {
        throw new ArchiveError(`link points outside the work directory (resolves to ${resolved})`, {
          entry: entry.path,
        });
      }
    }
    return this.result;
  }

  private pathOf(path: string): string {
    return join(this.root, ...path.split("/"));
  }
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
