// A push-based tar reader: bytes in, header and body events out, in one pass. It keeps no more
// than one header block and one metadata body, so reading is linear in the input and its memory
// does not grow with the archive; body bytes are handed on as views of the input, never copied.
// It stops at the end-of-archive marker, so whatever follows (GNU tar's record padding, or
// megabytes of anything) is never read. Names stay bytes: the caller decides how to decode them.
//
// Formats: ustar (with its name prefix), pax extended headers (`path`, `linkpath`, `size`) and
// GNU long names (`L`, `K`), which cover what Go's, GNU's and node's tar writers produce.

const BLOCK = 512;
/** Largest pax or GNU long-name body kept in memory. */
const MAX_META_BYTES = 1024 * 1024;

export interface TarHeader {
  /** Entry name as stored (after a pax `path` or GNU long name), undecoded. */
  name: Uint8Array;
  /** Link target as stored, undecoded; empty when there is none. */
  linkName: Uint8Array;
  /** The typeflag character ("0" file, "1" hard link, "2" symlink, "5" directory...). */
  type: string;
  mode: number;
  /** Body size in bytes (0 for types that carry no body). */
  size: number;
}

export type TarEvent =
  | { kind: "entry"; header: TarHeader }
  /** A piece of the current entry's body (a view of the pushed chunk). */
  | { kind: "data"; bytes: Uint8Array }
  | { kind: "entry-end" };

/** The bytes are not a well-formed tar stream. `offset` is where the problem was found. */
export class TarFormatError extends Error {
  override readonly name = "TarFormatError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

// Go's archive/tar gives these no body whatever their size field says.
const headerOnlyTypes = new Set(["1", "2", "3", "4", "5", "6"]);
const metaTypes = new Set(["x", "g", "L", "K"]);

interface Pending {
  name?: Uint8Array;
  linkName?: Uint8Array;
  size?: number;
}

type State =
  | { at: "header" }
  | { at: "body"; remaining: number; padding: number }
  | { at: "meta"; type: string; remaining: number; padding: number; parts: Uint8Array[] }
  | { at: "padding"; remaining: number }
  | { at: "end" };

export class TarReader {
  private state: State = { at: "header" };
  /** A header block being assembled across pushes. */
  private block = new Uint8Array(BLOCK);
  private blockFill = 0;
  /** Offset in the tar stream of the next byte pushed. */
  private offset = 0;
  private sawZeroBlock = false;
  private pending: Pending = {};
  private failure: TarFormatError | undefined;

  /** Bytes of the tar stream consumed so far (nothing after the end marker). */
  get bytesRead(): number {
    return this.offset;
  }

  /** True once the stream went bad; `finish` throws why. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** True once the end-of-archive marker (two zero blocks) was read. */
  get ended(): boolean {
    return this.state.at === "end";
  }

  /**
   * Consumes `chunk` (up to the end marker) and returns what it held. When the chunk goes bad
   * part way, the events before that point are returned and the TarFormatError is thrown by the
   * next call (or by `finish`), so every entry before it is seen first.
   */
  push(chunk: Uint8Array): TarEvent[] {
    if (this.failure !== undefined) throw this.failure;
    const events: TarEvent[] = [];
    try {
      this.consume(chunk, events);
    } catch (error) {
      if (!(error instanceof TarFormatError) || events.length === 0) throw error;
      this.failure = error;
    }
    return events;
  }

  private consume(chunk: Uint8Array, events: TarEvent[]): void {
    let at = 0;
    while (at < chunk.length && this.state.at !== "end") {
      const state = this.state;
      const available = chunk.length - at;
      switch (state.at) {
        case "header": {
          const take = Math.min(BLOCK - this.blockFill, available);
          this.block.set(chunk.subarray(at, at + take), this.blockFill);
          this.blockFill += take;
          at += take;
          if (this.blockFill === BLOCK) {
            this.blockFill = 0;
            this.header(this.offset + at - BLOCK, events);
          }
          break;
        }
        case "body": {
          const take = Math.min(state.remaining, available);
          events.push({ kind: "data", bytes: chunk.subarray(at, at + take) });
          state.remaining -= take;
          at += take;
          if (state.remaining === 0) {
            events.push({ kind: "entry-end" });
            this.state = { at: "padding", remaining: state.padding };
          }
          break;
        }
        case "meta": {
          const take = Math.min(state.remaining, available);
          state.parts.push(chunk.slice(at, at + take));
          state.remaining -= take;
          at += take;
          if (state.remaining === 0) {
            this.meta(state.type, concat(state.parts), this.offset + at);
            this.state = { at: "padding", remaining: state.padding };
          }
          break;
        }
        case "padding": {
          const take = Math.min(state.remaining, available);
          state.remaining -= take;
          at += take;
          break;
        }
      }
      if (this.state.at === "padding" && this.state.remaining === 0) this.state = { at: "header" };
    }
    this.offset += at;
  }

  /** Throws unless the end-of-archive marker was read. */
  finish(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.state.at === "end") return;
    throw new TarFormatError(
      "the archive is truncated (it ends without the end-of-archive marker)",
      this.offset,
    );
  }

  private header(offset: number, events: TarEvent[]): void {
    const block = this.block;
    if (block.every((byte) => byte === 0)) {
      if (this.sawZeroBlock) {
        this.state = { at: "end" };
        return;
      }
      this.sawZeroBlock = true;
      return;
    }
    if (this.sawZeroBlock) {
      throw new TarFormatError("a header follows a zero block (the end marker is cut)", offset);
    }
    if (!checksumValid(block)) throw new TarFormatError("header checksum mismatch", offset);
    let type = String.fromCharCode(block[156] ?? 0);
    const size = headerOnlyTypes.has(type) ? 0 : number(block, 124, 12, "size", offset);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (metaTypes.has(type)) {
      if (size > MAX_META_BYTES) {
        throw new TarFormatError(
          `extended header of ${size} bytes is over the ${MAX_META_BYTES}-byte limit`,
          offset,
        );
      }
      this.state =
        size === 0 ? { at: "header" } : { at: "meta", type, remaining: size, padding, parts: [] };
      return;
    }
    const pending = this.pending;
    this.pending = {};
    const name = pending.name ?? ustarName(block);
    if (type === "\0") type = "0";
    if (type === "0" && name.at(-1) === 0x2f) type = "5";
    const bodySize = headerOnlyTypes.has(type) ? 0 : (pending.size ?? size);
    events.push({
      kind: "entry",
      header: {
        name,
        linkName: pending.linkName ?? field(block, 157, 100),
        type,
        mode: number(block, 100, 8, "mode", offset),
        size: bodySize,
      },
    });
    const bodyPadding = (BLOCK - (bodySize % BLOCK)) % BLOCK;
    if (bodySize === 0) {
      events.push({ kind: "entry-end" });
      this.state = { at: "header" };
    } else {
      this.state = { at: "body", remaining: bodySize, padding: bodyPadding };
    }
  }

  private meta(type: string, body: Uint8Array, offset: number): void {
    if (type === "L") this.pending.name = untilNul(body);
    else if (type === "K") this.pending.linkName = untilNul(body);
    else if (type === "x") {
      for (const [key, value] of paxRecords(body, offset)) {
        if (key === "path") this.pending.name = value;
        else if (key === "linkpath") this.pending.linkName = value;
        else if (key === "size") {
          const text = new TextDecoder().decode(value);
          if (!/^\d{1,15}$/.test(text)) {
            throw new TarFormatError(`invalid pax size ${JSON.stringify(text)}`, offset);
          }
          this.pending.size = Number(text);
        }
      }
    }
    // "g" (global pax header): Go's reader does not apply it to later entries either.
  }
}

function checksumValid(block: Uint8Array): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  let stored: number;
  try {
    stored = number(block, 148, 8, "checksum", 0);
  } catch {
    return false;
  }
  // Old writers summed signed bytes; Go and GNU accept either.
  return stored === unsigned || stored === signed;
}

function untilNul(bytes: Uint8Array): Uint8Array {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}

function field(block: Uint8Array, start: number, length: number): Uint8Array {
  return untilNul(block.subarray(start, start + length)).slice();
}

function ustarName(block: Uint8Array): Uint8Array {
  const name = field(block, 0, 100);
  // POSIX ustar ("ustar\0" "00") has a name prefix; GNU's "ustar  \0" uses those bytes otherwise.
  const magic = String.fromCharCode(...block.subarray(257, 265));
  if (magic !== "ustar\u000000") return name;
  const prefix = field(block, 345, 155);
  if (prefix.length === 0) return name;
  return concat([prefix, Uint8Array.of(0x2f), name]);
}

/** An octal (or GNU base-256) number field. */
function number(
  block: Uint8Array,
  start: number,
  length: number,
  what: string,
  offset: number,
): number {
  const bytes = block.subarray(start, start + length);
  if (((bytes[0] ?? 0) & 0x80) !== 0) {
    if (bytes[0] === 0xff) throw new TarFormatError(`negative ${what} in header`, offset);
    let value = (bytes[0] ?? 0) & 0x7f;
    for (const byte of bytes.subarray(1)) {
      value = value * 256 + byte;
      if (value > Number.MAX_SAFE_INTEGER) {
        throw new TarFormatError(`${what} in header is too large`, offset);
      }
    }
    return value;
  }
  const text = String.fromCharCode(...bytes)
    .replace(/\0.*$/s, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new TarFormatError(`invalid ${what} ${JSON.stringify(text)} in header`, offset);
  }
  return Number.parseInt(text, 8);
}

/** `<length> <key>=<value>\n` records; values stay bytes. */
function paxRecords(body: Uint8Array, offset: number): Array<[string, Uint8Array]> {
  const records: Array<[string, Uint8Array]> = [];
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break; // some writers pad the body with NULs
    const space = body.indexOf(0x20, at);
    const length = space === -1 ? Number.NaN : Number(textOf(body.subarray(at, space)));
    const end = at + length;
    if (!Number.isInteger(length) || length <= 0 || end > body.length || body[end - 1] !== 0x0a) {
      throw new TarFormatError("malformed pax extended header", offset);
    }
    const record = body.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new TarFormatError("malformed pax extended header", offset);
    records.push([textOf(record.subarray(0, equals)), record.subarray(equals + 1)]);
    at = end;
  }
  return records;
}

function textOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
