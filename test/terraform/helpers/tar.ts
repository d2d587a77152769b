// Builds tar archives byte by byte, so tests can make entries no well-behaved tool would write
// (paths with "..", absolute paths, devices, links pointing out, lying sizes).
import { Readable } from "node:stream";
import { createGzip, gzipSync } from "node:zlib";

export interface TarEntry {
  name: string;
  /** The name's bytes as stored, when they should not be the UTF-8 of `name`. */
  rawName?: Buffer;
  /** "0" file (default), "1" hard link, "2" symlink, "3" char device, "4" block device, "5" dir, "6" fifo */
  type?: string;
  mode?: number;
  data?: string | Buffer;
  linkname?: string;
  /** The link target's bytes as stored, when they should not be the UTF-8 of `linkname`. */
  rawLinkname?: Buffer;
  /** Size written in the header, when it should lie. */
  size?: number;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** One header block for `entry`, its size field set to `size`. */
export function tarHeader(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  const type = entry.type ?? "0";
  let name = entry.name;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 154);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  if (entry.rawName) entry.rawName.copy(block, 0, 0, 100);
  else block.write(name, 0, 100, "utf8");
  block.write(octal(entry.mode ?? (type === "5" ? 0o755 : 0o644), 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii");
  block.write(octal(0, 8), 116, "ascii");
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(Math.floor(Date.now() / 1000), 12), 136, "ascii");
  block.write("        ", 148, "ascii");
  block.write(type, 156, "ascii");
  if (entry.rawLinkname) entry.rawLinkname.copy(block, 157, 0, 100);
  else block.write(entry.linkname ?? "", 157, 100, "utf8");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return block;
}

export function makeTar(entries: TarEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? "");
    parts.push(tarHeader(entry, entry.size ?? data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (512 - (data.length % 512)) % 512;
      parts.push(Buffer.alloc(pad));
    }
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function makeTarGz(entries: TarEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}

/** Gzips a stream of pieces without holding their whole (possibly huge) concatenation. */
export async function gzipPieces(pieces: Iterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(pieces).pipe(createGzip())) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/**
 * The pieces of a tar of `count` files of `size` zero bytes each (f0, f1, ...), with its end
 * marker; the zero bytes are one shared buffer, so the tar is never in memory as a whole.
 */
export function* zeroFilesTar(count: number, size: number): Generator<Uint8Array> {
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < count; i++) {
    yield tarHeader({ name: `f${i}` }, size);
    let left = size + ((512 - (size % 512)) % 512);
    while (left > 0) {
      const piece = zeros.subarray(0, Math.min(left, zeros.length));
      left -= piece.length;
      yield piece;
    }
  }
  yield Buffer.alloc(1024);
}
