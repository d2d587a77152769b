// Template archive -> work dir. The archive comes from coderd, but it was uploaded by a template
// author, so every entry is treated as hostile until checked: files over the per-file limit are
// refused (never truncated), parent directories are created, links inside the work dir are kept
// and links pointing out are refused, and paths are checked after normalisation.
import { type FileHandle, link, lstat, mkdir, open, realpath, rm, symlink } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { Readable } from "node:stream";
import { setImmediate } from "node:timers/promises";
import { createGunzip } from "node:zlib";
import { type TarEvent, TarFormatError, type TarHeader, TarReader } from "./tar-reader.js";
import { installedStateNames, writtenFileNames } from "./workdir.js";

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
  /** Top-level names left out because terraform would take them as installed state. */
  stripped: string[];
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

/**
 * What an archive holds. A template's is the template's files, without terraform's installed
 * state; a modules archive is exactly such installed state: everything in it must lie under
 * `.terraform/modules`, where `terraform init` looks for modules it already has.
 */
export type ArchiveScope = "template" | "modules";

export const modulesDir = ".terraform/modules";

const readPrefixes: Record<ArchiveScope, string> = {
  template: "read template source archive",
  modules: "read template version module files",
};

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
  scope: ArchiveScope = "template",
): Promise<UnpackResult> {
  if (archive.byteLength === 0) throw new ArchiveError("the archive is empty (0 bytes)");
  signal?.throwIfAborted();
  const writer = new EntryWriter(await realpath(directory), limits, signal, scope);
  try {
    await readArchive(archive, limits, signal, readPrefixes[scope], (event) =>
      writer.handle(event),
    );
  } finally {
    await writer.close();
  }
  return writer.finish();
}

/**
 * Largest tar stream an archive within `limits` is read to: the files' bytes plus, per entry,
 * room for its header block, pax or long-name headers with bodies holding a path and a link
 * target of up to PATH_MAX each, and padding; then the end marker. It bounds what no entry
 * limit sees (metadata headers are not entries).
 */
function tarStreamLimit(limits: ArchiveLimits): number {
  return limits.maxTotalBytes + limits.maxFiles * 20 * 512 + 2 * 512;
}

async function readArchive(
  archive: Uint8Array,
  limits: ArchiveLimits,
  signal: AbortSignal | undefined,
  readPrefix: string,
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
      if (reader.failed) break;
      sinceYield += chunk.length;
      if (sinceYield >= YIELD_BYTES) {
        sinceYield = 0;
        await setImmediate();
      }
    }
    reader.finish();
  } catch (error) {
    throw readError(error, gzip, signal, readPrefix);
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

function readError(
  error: unknown,
  gzip: boolean,
  signal: AbortSignal | undefined,
  readPrefix: string,
): unknown {
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
    checkLength(target, "link target", name);
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
  checkLength(name, "path", name);
  if (posix.isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name)) {
    throw new ArchiveError("absolute paths are not allowed", { entry: name });
  }
  const normal = posix.normalize(name).replace(/\/+$/, "");
  if (escapes(normal)) {
    throw new ArchiveError("path would land outside the work directory", { entry: name });
  }
  return normal === "." ? "" : normal;
}

/** Linux's PATH_MAX: no longer name can be created, and it bounds the work per entry. */
const MAX_PATH_BYTES = 4096;

function checkLength(text: string, what: string, entry: string): void {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PATH_BYTES) {
    throw new ArchiveError(
      `${what} is ${bytes} bytes long, over the ${MAX_PATH_BYTES}-byte limit`,
      {
        entry: `${entry.slice(0, 100)}...`,
      },
    );
  }
}

function escapes(normalised: string): boolean {
  const p = posix.normalize(normalised);
  return p === ".." || p.startsWith("../") || posix.isAbsolute(p);
}

/** What the work dir holds at a path once the entries so far are laid out. */
type Node = { kind: "directory" } | { kind: "file" } | { kind: "symlink"; target: string };

const directoryNode: Node = { kind: "directory" };
const fileNode: Node = { kind: "file" };
/** Links followed while resolving one link, as Linux's limit (ELOOP). */
const MAX_LINK_HOPS = 40;

/**
 * Writes entries as they are read: directories, files and hard links at once, symlinks only at
 * the end, after every one of them has been resolved in a model of the finished work dir.
 * Nothing is ever written through a symlink from the archive (a path under one is refused), so
 * the model is exactly what the disk will hold, and a link chain is judged by where it really
 * leads rather than by its text.
 */
class EntryWriter {
  private readonly result: UnpackResult = {
    files: 0,
    directories: 0,
    links: 0,
    bytes: 0,
    stripped: [],
  };
  private count = 0;
  private total = 0;
  /** The file whose body is being read. */
  private current: { path: string; handle: FileHandle; size: number; written: number } | undefined;
  /** Every path the entries so far make, by relative path ("" is the work dir). */
  private readonly nodes = new Map<string, Node>([["", directoryNode]]);

  constructor(
    private readonly root: string,
    private readonly limits: ArchiveLimits,
    private readonly signal: AbortSignal | undefined,
    private readonly scope: ArchiveScope,
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
    // Left-out files still count: their bytes are read all the same.
    if (entry.kind === "file") this.total += entry.size;
    const top = entry.path.split("/")[0] as string;
    if (this.scope === "modules") checkInModulesDir(entry);
    else if (installedStateNames.includes(top)) {
      if (!this.result.stripped.includes(top)) this.result.stripped.push(top);
      return;
    }
    this.lay(entry);
    const target = this.pathOf(entry.path);
    try {
      switch (entry.kind) {
        case "directory": {
          // A file an earlier entry wrote here was replaced (in the model) by a link, then by
          // this directory.
          const stat = await lstat(target).catch(() => undefined);
          if (stat !== undefined && !stat.isDirectory()) await rm(target, { force: true });
          await mkdir(target, { recursive: true, mode: (entry.mode & 0o777) | 0o700 });
          this.result.directories++;
          break;
        }
        case "file": {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await removeExisting(target, entry.path);
          // `wx` never follows an existing path; later entries replace earlier ones (tar rule).
          const handle = await open(target, "wx", (entry.mode & 0o777) | 0o600);
          this.current = { path: entry.path, handle, size: entry.size, written: 0 };
          break;
        }
        case "hardlink":
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          await removeExisting(target, entry.path);
          await link(this.pathOf(entry.target), target);
          this.result.links++;
          break;
        case "symlink":
          break;
      }
    } catch (error) {
      throw asArchiveError(error, entry.path);
    }
  }

  /** Adds the entry to the model, refusing what would go through or over what it must not. */
  private lay(entry: Entry): void {
    const parts = entry.path.split("/");
    let ancestor = "";
    for (let i = 1; i < parts.length; i++) {
      ancestor = i === 1 ? (parts[0] as string) : `${ancestor}/${parts[i - 1]}`;
      const node = this.nodes.get(ancestor);
      if (node === undefined) this.nodes.set(ancestor, directoryNode);
      else if (node.kind === "symlink") {
        throw new ArchiveError(
          `the later entry ${JSON.stringify(entry.path)} would be written through this link (nothing is written through a link from the archive)`,
          { entry: ancestor },
        );
      } else if (node.kind === "file") {
        throw new ArchiveError(`${ancestor} is a file in the archive, not a directory`, {
          entry: entry.path,
        });
      }
    }
    const existing = this.nodes.get(entry.path);
    if (existing?.kind === "directory" && entry.kind !== "directory") {
      throw new ArchiveError("a directory of the same name is already in the archive", {
        entry: entry.path,
      });
    }
    if (existing?.kind === "file" && entry.kind === "directory") {
      throw new ArchiveError("a file of the same name is already in the archive", {
        entry: entry.path,
      });
    }
    if (entry.kind === "symlink" || entry.kind === "hardlink") {
      if (writtenFileNames.includes(entry.path)) {
        throw new ArchiveError(
          "terraform writes this file, so the archive may not make it a link",
          {
            entry: entry.path,
          },
        );
      }
    }
    if (entry.kind === "hardlink") {
      if (writtenFileNames.includes(entry.target)) {
        throw new ArchiveError(
          `terraform writes ${entry.target}, so the archive may not link to it`,
          { entry: entry.path },
        );
      }
      if (this.nodes.get(entry.target)?.kind !== "file") {
        throw new ArchiveError(`hard link target ${entry.target} is not a file in the archive`, {
          entry: entry.path,
        });
      }
    }
    this.nodes.set(
      entry.path,
      entry.kind === "symlink"
        ? { kind: "symlink", target: entry.target }
        : entry.kind === "directory"
          ? directoryNode
          : fileNode,
    );
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

  /** Resolves every symlink in the finished layout, then creates them. */
  async finish(): Promise<UnpackResult> {
    const symlinks: Array<[string, string]> = [];
    for (const [path, node] of this.nodes) {
      if (node.kind !== "symlink") continue;
      this.resolve(path, node.target);
      symlinks.push([path, node.target]);
    }
    for (const [path, linkTarget] of symlinks) {
      this.signal?.throwIfAborted();
      const target = this.pathOf(path);
      try {
        // A file an earlier entry wrote here was replaced by this link.
        await removeExisting(target, path);
        await symlink(linkTarget, target);
        this.result.links++;
      } catch (error) {
        throw asArchiveError(error, path);
      }
    }
    return this.result;
  }

  /**
   * Follows the link at `path` through the model as the kernel would follow it on disk (each
   * link's target relative to its own directory, `..` from where a link led), and refuses it
   * unless it ends at something in the work dir.
   */
  private resolve(path: string, linkTarget: string): void {
    const refuse = (why: string) =>
      new ArchiveError(`link to ${linkTarget} ${why}`, { entry: path });
    const stack = path.split("/").slice(0, -1);
    let pending = linkTarget.split("/");
    let hops = 1;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (stack.length === 0) {
          throw refuse(
            "points outside the work directory (it resolves to a path above the work directory)",
          );
        }
        stack.pop();
        continue;
      }
      const here = [...stack, part].join("/");
      const node = this.nodes.get(here);
      if (node === undefined) {
        throw refuse(
          `leads to ${here}, which is not in the archive (a link must point at something in it)`,
        );
      }
      if (node.kind === "symlink") {
        hops++;
        if (hops > MAX_LINK_HOPS) throw refuse(`goes through more than ${MAX_LINK_HOPS} links`);
        pending = [...node.target.split("/"), ...pending];
        continue;
      }
      if (node.kind === "file" && pending.length > 0) {
        throw refuse(`goes through the file ${here} as if it were a directory`);
      }
      stack.push(part);
    }
  }

  private pathOf(path: string): string {
    return join(this.root, ...path.split("/"));
  }
}

/** A modules archive may hold `.terraform`, `.terraform/modules` and what lies under it. */
function checkInModulesDir(entry: Entry): void {
  const path = entry.path;
  if (path === ".terraform" && entry.kind === "directory") return;
  if (path === modulesDir && entry.kind === "directory") return;
  if (path.startsWith(`${modulesDir}/`)) return;
  throw new ArchiveError(`a modules archive may only hold files under ${modulesDir}/`, {
    entry: path,
  });
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

function asArchiveError(error: unknown, entry: string): ArchiveError {
  if (error instanceof ArchiveError) return error;
  return new ArchiveError(`write failed: ${(error as Error).message}`, { entry, cause: error });
}
