// dRPC (storj.io/drpc) frames and packets. A frame is `control u8 | stream uvarint | message
// uvarint | length uvarint | data`; a packet is the frames of one (stream, message) id, the last
// one marked done. Writers cut packets into frames of at most 64 KiB; readers refuse a packet over
// 4 MiB, the limit coderd sets on its side too.
import { ProtocolError } from "./errors.js";

export const Kind = {
  Invoke: 1,
  Message: 2,
  Error: 3,
  Cancel: 4,
  Close: 5,
  CloseSend: 6,
  InvokeMetadata: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const MAX_FRAME_DATA = 64 * 1024;
export const MAX_PACKET_DATA = 4 * 1024 * 1024;

export interface Frame {
  kind: number;
  done: boolean;
  /** Frames for extensions; a receiver that does not know them ignores them. */
  control: boolean;
  streamId: number;
  messageId: number;
  data: Buffer;
}

export interface Packet {
  kind: number;
  streamId: number;
  messageId: number;
  data: Buffer;
}

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

export function encodeFrame(frame: Omit<Frame, "control"> & { control?: boolean }): Buffer {
  const control = (frame.done ? 1 : 0) | ((frame.kind & 0x3f) << 1) | (frame.control ? 0x80 : 0);
  return Buffer.concat([
    Buffer.of(control),
    uvarint(frame.streamId),
    uvarint(frame.messageId),
    uvarint(frame.data.length),
    frame.data,
  ]);
}

/** The frames of one packet: data cut at 64 KiB, the last frame done (one empty frame if none). */
export function encodePacket(packet: Packet): Buffer[] {
  const frames: Buffer[] = [];
  let offset = 0;
  do {
    const end = Math.min(offset + MAX_FRAME_DATA, packet.data.length);
    frames.push(
      encodeFrame({
        kind: packet.kind,
        done: end === packet.data.length,
        streamId: packet.streamId,
        messageId: packet.messageId,
        data: packet.data.subarray(offset, end),
      }),
    );
    offset = end;
  } while (offset < packet.data.length);
  return frames;
}

/** Reads an unsigned LEB128 value; undefined when `bytes` ends first. */
function readUvarint(bytes: Buffer, start: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (start + i >= bytes.length) return undefined;
    const byte = bytes[start + i] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(value)) throw new ProtocolError("dRPC: varint out of range");
      return { value, next: start + i + 1 };
    }
    scale *= 0x80;
  }
  throw new ProtocolError("dRPC: varint longer than 10 bytes");
}

/** Parses one frame at `offset`; undefined when the bytes end before it does. */
export function decodeFrame(bytes: Buffer, offset = 0): { frame: Frame; next: number } | undefined {
  if (offset >= bytes.length) return undefined;
  const control = bytes[offset] as number;
  const stream = readUvarint(bytes, offset + 1);
  if (stream === undefined) return undefined;
  const message = readUvarint(bytes, stream.next);
  if (message === undefined) return undefined;
  const length = readUvarint(bytes, message.next);
  if (length === undefined) return undefined;
  if (length.value > MAX_PACKET_DATA) {
    throw new ProtocolError(`dRPC: a frame of ${length.value} bytes exceeds the packet limit`);
  }
  const end = length.next + length.value;
  if (end > bytes.length) return undefined;
  return {
    frame: {
      kind: (control >> 1) & 0x3f,
      done: (control & 1) === 1,
      control: (control & 0x80) !== 0,
      streamId: stream.value,
      messageId: message.value,
      data: bytes.subarray(length.next, end),
    },
    next: end,
  };
}

/**
 * Turns a byte stream into packets: frames are parsed as bytes arrive (they need not align with
 * anything below), reassembled per (stream, message) id, extension frames skipped.
 */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);
  private current: { kind: number; streamId: number; messageId: number; parts: Buffer[] } | null =
    null;
  private currentSize = 0;
  private lastStreamId = 0;
  private lastMessageId = 0;
  private readonly maxPacket: number;

  constructor(maxPacket = MAX_PACKET_DATA) {
    this.maxPacket = maxPacket;
  }

  /** Feeds bytes; returns the packets they complete, in order. */
  push(bytes: Buffer): Packet[] {
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const packets: Packet[] = [];
    let offset = 0;
    for (;;) {
      const parsed = decodeFrame(this.pending, offset);
      if (parsed === undefined) break;
      offset = parsed.next;
      const packet = this.accept(parsed.frame);
      if (packet !== undefined) packets.push(packet);
    }
    // Received buffers are never written to, so keeping a view of the tail is safe.
    this.pending = this.pending.subarray(offset);
    return packets;
  }

  private accept(frame: Frame): Packet | undefined {
    if (frame.control) return undefined;
    if (
      frame.streamId < this.lastStreamId ||
      (frame.streamId === this.lastStreamId && frame.messageId < this.lastMessageId)
    ) {
      throw new ProtocolError("dRPC: id monotonicity violation");
    }
    this.lastStreamId = frame.streamId;
    this.lastMessageId = frame.messageId;
    const current = this.current;
    if (
      current === null ||
      current.streamId !== frame.streamId ||
      current.messageId !== frame.messageId
    ) {
      // A frame with a new id drops an unfinished packet, as drpc's reader does.
      this.current = {
        kind: frame.kind,
        streamId: frame.streamId,
        messageId: frame.messageId,
        parts: [],
      };
      this.currentSize = 0;
    } else if (current.kind !== frame.kind) {
      throw new ProtocolError("dRPC: packet kind changed within a packet");
    }
    const packet = this.current as NonNullable<typeof this.current>;
    this.currentSize += frame.data.length;
    if (this.currentSize > this.maxPacket) {
      throw new ProtocolError(
        `dRPC: data overflow (a packet over ${this.maxPacket} bytes; the limit is 4 MiB)`,
      );
    }
    packet.parts.push(frame.data);
    if (!frame.done) return undefined;
    this.current = null;
    return {
      kind: packet.kind,
      streamId: packet.streamId,
      messageId: packet.messageId,
      data: Buffer.concat(packet.parts),
    };
  }
}

/** The body of an Error packet: 8-byte big-endian code, then the UTF-8 text. */
export function encodeErrorData(code: bigint, message: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(code);
  return Buffer.concat([head, Buffer.from(message, "utf8")]);
}

export function decodeErrorData(data: Buffer): { code: bigint; message: string } {
  if (data.length < 8) return { code: 0n, message: data.toString("utf8") };
  return { code: data.readBigUInt64BE(0), message: data.subarray(8).toString("utf8") };
}
