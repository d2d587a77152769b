// Reading the captured transcripts: lines, the calls they hold, and a parser of what one side of
// our own stack sends, with progress counters a replay waits on.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import {
  decodeFrame,
  Kind,
  type Packet,
  PacketReader,
} from "../../src/coderd/transport/drpc-wire.js";
import {
  decodeHeader,
  Flag,
  FrameType,
  YAMUX_HEADER_SIZE,
} from "../../src/coderd/transport/yamux.js";

export interface Line {
  t: number;
  dir: "c2s" | "s2c";
  layer: "http" | "ws" | "yamux" | "drpc";
  hex: string;
  decoded: Record<string, unknown>;
}

export function load(path: string): Line[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Line);
}

/** What one side must have sent before the other side's next recorded line may be replayed. */
export interface Progress {
  drpc: Map<number, number>; // yamux stream -> dRPC frames
  fin: Set<number>;
  pingSyn: number;
  pingAck: number;
  /** yamux stream -> credit returned with WindowUpdate (flags 0). */
  credit: Map<number, number>;
}

export function emptyProgress(): Progress {
  return { drpc: new Map(), fin: new Set(), pingSyn: 0, pingAck: 0, credit: new Map() };
}

export function covers(have: Progress, need: Progress): boolean {
  for (const [stream, n] of need.drpc) if ((have.drpc.get(stream) ?? 0) < n) return false;
  for (const stream of need.fin) if (!have.fin.has(stream)) return false;
  for (const [stream, n] of need.credit) if ((have.credit.get(stream) ?? 0) < n) return false;
  return have.pingSyn >= need.pingSyn && have.pingAck >= need.pingAck;
}

export function cloneProgress(p: Progress): Progress {
  return {
    drpc: new Map(p.drpc),
    fin: new Set(p.fin),
    pingSyn: p.pingSyn,
    pingAck: p.pingAck,
    credit: new Map(p.credit),
  };
}

/** Parses everything one side sent: yamux control frames, and dRPC frames per stream. */
export class SideCapture {
  private pending = Buffer.alloc(0);
  private readonly streamBytes = new Map<number, Buffer>();
  readonly frames = new Map<number, string[]>();
  readonly control: string[] = [];
  readonly progress = emptyProgress();
  private waiters: (() => void)[] = [];

  push(bytes: Buffer): void {
    this.pending = Buffer.concat([this.pending, bytes]);
    for (;;) {
      if (this.pending.length < YAMUX_HEADER_SIZE) break;
      const header = decodeHeader(this.pending);
      const bodyLength = header.type === FrameType.Data ? header.length : 0;
      if (this.pending.length < YAMUX_HEADER_SIZE + bodyLength) break;
      const frame = this.pending.subarray(0, YAMUX_HEADER_SIZE + bodyLength);
      this.pending = Buffer.from(this.pending.subarray(YAMUX_HEADER_SIZE + bodyLength));
      if (header.type === FrameType.Data) {
        this.dataFor(header.streamId, frame.subarray(YAMUX_HEADER_SIZE));
        if (header.flags !== 0)
          this.control.push(frame.subarray(0, YAMUX_HEADER_SIZE).toString("hex"));
      } else {
        this.control.push(frame.toString("hex"));
      }
      if (header.flags & Flag.FIN) this.progress.fin.add(header.streamId);
      if (header.type === FrameType.WindowUpdate && header.flags === 0) {
        const credit = this.progress.credit;
        credit.set(header.streamId, (credit.get(header.streamId) ?? 0) + header.length);
      }
      if (header.type === FrameType.Ping && header.flags & Flag.SYN) this.progress.pingSyn++;
      if (header.type === FrameType.Ping && header.flags & Flag.ACK) this.progress.pingAck++;
    }
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private dataFor(stream: number, body: Buffer): void {
    let bytes = Buffer.concat([this.streamBytes.get(stream) ?? Buffer.alloc(0), body]);
    for (;;) {
      const parsed = decodeFrame(bytes);
      if (parsed === undefined) break;
      const list = this.frames.get(stream) ?? [];
      list.push(bytes.subarray(0, parsed.next).toString("hex"));
      this.frames.set(stream, list);
      this.progress.drpc.set(stream, list.length);
      bytes = bytes.subarray(parsed.next);
    }
    this.streamBytes.set(stream, Buffer.from(bytes));
  }

  async until(need: Progress, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!covers(this.progress, need)) {
      if (Date.now() > deadline) {
        const show = (p: Progress) =>
          JSON.stringify({
            drpc: [...p.drpc],
            fin: [...p.fin],
            credit: [...p.credit],
            pingSyn: p.pingSyn,
            pingAck: p.pingAck,
          });
        throw new Error(
          `timed out before ${what}: have ${show(this.progress)}, need ${show(need)}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
}

export interface RecordedCall {
  stream: number;
  method: string;
  requests: Buffer[];
  closeSend: boolean;
  responses: Packet[];
  fin: boolean;
}

export function recordedCalls(lines: Line[]): RecordedCall[] {
  const readers = new Map<string, PacketReader>();
  const calls = new Map<number, RecordedCall>();
  for (const line of lines) {
    if (line.layer === "yamux" && line.dir === "c2s") {
      const stream = line.decoded.stream_id as number;
      const flags = line.decoded.flags as number;
      const call = calls.get(stream);
      if (call && flags & Flag.FIN) call.fin = true;
    }
    if (line.layer !== "drpc") continue;
    const stream = line.decoded.yamux_stream as number;
    const key = `${line.dir}:${stream}`;
    const reader = readers.get(key) ?? new PacketReader();
    readers.set(key, reader);
    // Our frame parser reads each recorded frame as the capture decoded it.
    const frame = decodeFrame(Buffer.from(line.hex, "hex"));
    expect(frame?.frame).toMatchObject({
      kind: line.decoded.kind,
      done: line.decoded.done,
      streamId: line.decoded.stream,
      messageId: line.decoded.message,
    });
    for (const packet of reader.push(Buffer.from(line.hex, "hex"))) {
      const call = calls.get(stream) ?? {
        stream,
        method: "",
        requests: [],
        closeSend: false,
        responses: [],
        fin: false,
      };
      calls.set(stream, call);
      if (line.dir === "s2c") call.responses.push(packet);
      else if (packet.kind === Kind.Invoke) call.method = packet.data.toString("utf8");
      else if (packet.kind === Kind.Message) call.requests.push(packet.data);
      else if (packet.kind === Kind.CloseSend) call.closeSend = true;
    }
  }
  return [...calls.values()].sort((a, b) => a.stream - b.stream);
}
