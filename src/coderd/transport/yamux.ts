// A yamux session (hashicorp's multiplexer, protocol version 0), both roles: coderd is the server
// and the daemon the client, which opens every stream. Each stream has 256 KiB of credit per
// direction; the receiver returns credit once half of it has been read, computed as Go's yamux
// does, because coderd kills the whole session when a sender exceeds it. Both sides ping every
// 30 s; an unanswered ping tears the session down, which is how a dead connection is noticed.
import { GoAwayError, ProtocolError, SessionClosedError, StreamResetError } from "./errors.js";

export const YAMUX_HEADER_SIZE = 12;
/** Credit of each stream and direction, and the most we ever return at once. */
export const YAMUX_WINDOW = 256 * 1024;

export const FrameType = { Data: 0, WindowUpdate: 1, Ping: 2, GoAway: 3 } as const;
export const Flag = { SYN: 1, ACK: 2, FIN: 4, RST: 8 } as const;
/** GoAway codes. */
export const GoAwayCode = { Normal: 0, ProtocolError: 1, InternalError: 2 } as const;

export interface YamuxHeader {
  version: number;
  type: number;
  flags: number;
  streamId: number;
  length: number;
}

export function encodeHeader(type: number, flags: number, streamId: number, length: number) {
  const header = Buffer.alloc(YAMUX_HEADER_SIZE);
  header.writeUInt8(0, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(flags, 2);
  header.writeUInt32BE(streamId, 4);
  header.writeUInt32BE(length, 8);
  return header;
}

export function decodeHeader(bytes: Uint8Array, offset = 0): YamuxHeader {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset + offset, YAMUX_HEADER_SIZE);
  return {
    version: view.readUInt8(0),
    type: view.readUInt8(1),
    flags: view.readUInt16BE(2),
    streamId: view.readUInt32BE(4),
    length: view.readUInt32BE(8),
  };
}

/** The byte pipe under a session (a WebSocket in production, a pair of queues in tests). */
export interface ByteLink {
  /** Sends bytes to the peer, in order. */
  send(bytes: Buffer): void;
  /** Ends the underlying connection; called once, when the session closes. */
  close(): void;
}

export interface YamuxOptions {
  role: "client" | "server";
  /** Interval between our keepalive pings; 0 turns them off. Go's default is 30 s. */
  keepaliveIntervalMs?: number;
  /** How long a ping may go unanswered before the session is torn down (Go: 10 s). */
  keepaliveTimeoutMs?: number;
  /** How long an opened stream may wait for the peer's ACK before the session is torn down. */
  streamOpenTimeoutMs?: number;
  /** How long a stream we half-closed waits for the peer's FIN before it is reset. */
  streamCloseTimeoutMs?: number;
  /** Streams the peer opens; without it they are refused with RST. */
  onStream?: (stream: YamuxStream) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class YamuxStream {
  readonly id: number;
  private readonly session: YamuxSession;
  private sendWindow = YAMUX_WINDOW;
  private recvWindow = YAMUX_WINDOW;
  private readonly recvChunks: Buffer[] = [];
  private recvLength = 0;
  private localFin = false;
  private remoteFin = false;
  private failure: Error | undefined;
  private readWaiter: Waiter | undefined;
  private windowWaiter: Waiter | undefined;
  private writeChain: Promise<void> = Promise.resolve();
  private closeTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private endedResolve!: () => void;
  /** Settles when the stream is over: both FINs seen, reset, or the session gone. */
  readonly ended: Promise<void>;

  /** @internal Streams are made by YamuxSession.openStream or delivered to onStream. */
  constructor(session: YamuxSession, id: number) {
    this.session = session;
    this.id = id;
    this.ended = new Promise((resolve) => {
      this.endedResolve = resolve;
    });
  }

  /** Bytes buffered for read() right now. */
  get buffered(): number {
    return this.recvLength;
  }

  /**
   * Sends `data`, waiting for credit whenever the peer's window is used up. Writes on one stream
   * go out in call order.
   */
  write(data: Uint8Array): Promise<void> {
    if (data.length === 0)
      return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
    const run = this.writeChain.then(() => this.writeNow(data));
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private async writeNow(data: Uint8Array): Promise<void> {
    let offset = 0;
    do {
      if (this.failure !== undefined) throw this.failure;
      if (this.localFin) throw new StreamResetError(`yamux stream ${this.id}: write after close`);
      if (this.sendWindow === 0) {
        await new Promise<void>((resolve, reject) => {
          this.windowWaiter = { resolve, reject };
        });
        continue;
      }
      const size = Math.min(this.sendWindow, data.length - offset);
      this.sendWindow -= size;
      const body = Buffer.from(data.buffer, data.byteOffset + offset, size);
      this.session.sendFrame(encodeHeader(FrameType.Data, 0, this.id, size), body);
      offset += size;
    } while (offset < data.length);
  }

  /**
   * Everything received so far (at least one byte), or null once the peer half-closed (FIN) and
   * all is read. Taking all that is buffered lets credit go back in one WindowUpdate.
   */
  async read(): Promise<Buffer | null> {
    for (;;) {
      if (this.recvChunks.length > 0) {
        const chunks = this.recvChunks.splice(0);
        const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
        this.recvLength = 0;
        this.returnCredit();
        return bytes;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.remoteFin) return null;
      await new Promise<void>((resolve, reject) => {
        this.readWaiter = { resolve, reject };
      });
    }
  }

  /** Half-closes: the peer reads end-of-stream after what we wrote. Idempotent. */
  async close(): Promise<void> {
    await this.writeChain;
    if (this.localFin || this.failure !== undefined) return;
    this.localFin = true;
    this.session.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.FIN, this.id, 0));
    if (this.remoteFin) {
      this.finish();
      return;
    }
    const timeout = this.session.streamCloseTimeoutMs;
    if (timeout > 0) {
      this.closeTimer = setTimeout(() => {
        this.reset(`yamux stream ${this.id}: the peer did not close within ${timeout} ms`);
      }, timeout);
      this.closeTimer.unref();
    }
  }

  /**
   * Half-closes now, without waiting for writes in progress (they fail): how a caller that gives
   * up on a call closes it, even while a write waits for credit.
   */
  closeNow(): void {
    if (this.localFin || this.failure !== undefined) return;
    this.localFin = true;
    const writer = this.windowWaiter;
    this.windowWaiter = undefined;
    writer?.reject(new StreamResetError(`yamux stream ${this.id}: closed while writing`));
    if (this.session.isClosed) return;
    this.session.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.FIN, this.id, 0));
    if (this.remoteFin) this.finish();
  }

  /** Aborts the stream both ways (RST); pending and later reads and writes fail. */
  reset(reason = `yamux stream ${this.id} reset by us`): void {
    if (this.failure !== undefined) return;
    if (!this.session.isClosed) {
      this.session.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.RST, this.id, 0));
    }
    this.fail(new StreamResetError(reason));
  }

  /** @internal */
  startOpenTimer(ms: number): void {
    if (ms <= 0) return;
    this.openTimer = setTimeout(() => {
      this.session.close(
        new SessionClosedError(`yamux stream ${this.id} was not acknowledged within ${ms} ms`),
      );
    }, ms);
    this.openTimer.unref();
  }

  /** @internal A frame's flags, as Go's yamux processes them (before the frame's payload). */
  processFlags(flags: number): void {
    if (flags & Flag.ACK) {
      clearTimeout(this.openTimer);
      this.openTimer = undefined;
    }
    if (flags & Flag.RST) {
      this.fail(new StreamResetError(`yamux stream ${this.id} reset by the peer`));
      return;
    }
    if (flags & Flag.FIN && !this.remoteFin) {
      this.remoteFin = true;
      this.wakeReader();
      if (this.localFin) this.finish();
    }
  }

  /** @internal */
  receiveData(body: Buffer): void {
    if (body.length > this.recvWindow) {
      throw new ProtocolError(
        `yamux stream ${this.id}: the peer sent ${body.length} bytes with ${this.recvWindow} bytes of credit`,
      );
    }
    if (body.length === 0) return;
    this.recvWindow -= body.length;
    if (this.failure !== undefined || this.remoteFin) return;
    this.recvChunks.push(body);
    this.recvLength += body.length;
    this.wakeReader();
  }

  /** @internal */
  receiveCredit(delta: number): void {
    this.sendWindow += delta;
    if (delta > 0) {
      const waiter = this.windowWaiter;
      this.windowWaiter = undefined;
      waiter?.resolve();
    }
  }

  /** @internal The session ended or the stream was reset. */
  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const reader = this.readWaiter;
    const writer = this.windowWaiter;
    this.readWaiter = undefined;
    this.windowWaiter = undefined;
    reader?.reject(error);
    writer?.reject(error);
    this.finish();
  }

  /**
   * Returns credit once at least half the window has been read, exactly as Go computes it:
   * delta = window - buffered - current credit.
   */
  private returnCredit(): void {
    if (this.failure !== undefined || this.session.isClosed) return;
    const delta = YAMUX_WINDOW - this.recvLength - this.recvWindow;
    if (delta < YAMUX_WINDOW / 2) return;
    this.recvWindow += delta;
    this.session.sendFrame(encodeHeader(FrameType.WindowUpdate, 0, this.id, delta));
  }

  private wakeReader(): void {
    const waiter = this.readWaiter;
    this.readWaiter = undefined;
    waiter?.resolve();
  }

  private finish(): void {
    clearTimeout(this.closeTimer);
    clearTimeout(this.openTimer);
    this.session.forget(this);
    this.endedResolve();
  }
}

export class YamuxSession {
  private readonly link: ByteLink;
  private readonly options: YamuxOptions;
  private readonly streams = new Map<number, YamuxStream>();
  private nextStreamId: number;
  private pending: Buffer = Buffer.alloc(0);
  private closeReason: Error | undefined;
  private remoteGoAway = false;
  private nextPingId = 0;
  private readonly pings = new Map<number, NodeJS.Timeout>();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private closedResolve!: (reason: Error) => void;
  /** Settles with the reason once the session is over. */
  readonly closed: Promise<Error>;
  readonly streamCloseTimeoutMs: number;

  constructor(link: ByteLink, options: YamuxOptions) {
    this.link = link;
    this.options = options;
    this.nextStreamId = options.role === "client" ? 1 : 2;
    this.streamCloseTimeoutMs = options.streamCloseTimeoutMs ?? 5 * 60_000;
    this.closed = new Promise((resolve) => {
      this.closedResolve = resolve;
    });
    const interval = options.keepaliveIntervalMs ?? 30_000;
    if (interval > 0) {
      // A failed keepalive has already closed the session; nothing else waits for it.
      this.keepaliveTimer = setInterval(() => this.ping().catch(() => undefined), interval);
      this.keepaliveTimer.unref();
    }
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Streams currently open (not yet closed both ways). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Opens a stream: SYN now, data may follow before the peer's ACK. */
  openStream(): YamuxStream {
    if (this.closeReason !== undefined) throw this.closeReason;
    if (this.remoteGoAway) {
      throw new GoAwayError("coderd sent GoAway: it accepts no new calls on this connection");
    }
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new YamuxStream(this, id);
    this.streams.set(id, stream);
    this.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.SYN, id, 0));
    stream.startOpenTimer(this.options.streamOpenTimeoutMs ?? 75_000);
    return stream;
  }

  /** Tells the peer we open no more streams (and take none); existing streams go on. */
  goAway(code: number = GoAwayCode.Normal): void {
    if (this.closeReason === undefined) {
      this.sendFrame(encodeHeader(FrameType.GoAway, 0, 0, code));
    }
  }

  /** Sends a ping now; resolves with the round trip in ms, rejects when the session ends. */
  ping(): Promise<number> {
    if (this.closeReason !== undefined) return Promise.reject(this.closeReason);
    const id = this.nextPingId;
    this.nextPingId = (this.nextPingId + 1) >>> 0;
    const started = performance.now();
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(id);
        this.pingResolvers.delete(id);
        const error = new SessionClosedError(
          `yamux keepalive timeout: no answer to a ping within ${timeoutMs} ms`,
        );
        reject(error);
        this.close(error);
      }, timeoutMs);
      timer.unref();
      this.pings.set(id, timer);
      this.pingResolvers.set(id, () => resolve(performance.now() - started));
      this.closed.then(reject);
      this.sendFrame(encodeHeader(FrameType.Ping, Flag.SYN, 0, id));
    });
  }

  private readonly pingResolvers = new Map<number, () => void>();

  /** Feeds bytes read from the link. */
  receive(bytes: Uint8Array): void {
    if (this.closeReason !== undefined) return;
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      this.drain();
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.goAway(GoAwayCode.ProtocolError);
        this.close(error);
        return;
      }
      throw error;
    }
  }

  /** The link is gone (closed by the peer or failed). */
  terminate(reason: Error): void {
    this.close(reason);
  }

  /** Ends the session: every stream fails with `reason`, the link is closed. Idempotent. */
  close(reason: Error = new SessionClosedError("yamux session closed")): void {
    if (this.closeReason !== undefined) return;
    this.closeReason =
      reason instanceof SessionClosedError
        ? reason
        : new SessionClosedError(`yamux session closed: ${reason.message}`, { cause: reason });
    clearInterval(this.keepaliveTimer);
    for (const timer of this.pings.values()) clearTimeout(timer);
    this.pings.clear();
    this.pingResolvers.clear();
    for (const stream of [...this.streams.values()]) stream.fail(this.closeReason);
    this.streams.clear();
    this.link.close();
    this.closedResolve(this.closeReason);
  }

  /** @internal */
  sendFrame(header: Buffer, body?: Buffer): void {
    if (this.closeReason !== undefined) throw this.closeReason;
    // Header and body as two writes, as Go's yamux does: no copy of the body.
    this.link.send(header);
    if (body !== undefined && body.length > 0) this.link.send(body);
  }

  /** @internal */
  forget(stream: YamuxStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
  }

  private drain(): void {
    let offset = 0;
    while (this.pending.length - offset >= YAMUX_HEADER_SIZE) {
      const header = decodeHeader(this.pending, offset);
      if (header.version !== 0) {
        throw new ProtocolError(`yamux: unsupported protocol version ${header.version}`);
      }
      const bodyLength = header.type === FrameType.Data ? header.length : 0;
      if (this.pending.length - offset < YAMUX_HEADER_SIZE + bodyLength) break;
      const body = this.pending.subarray(
        offset + YAMUX_HEADER_SIZE,
        offset + YAMUX_HEADER_SIZE + bodyLength,
      );
      offset += YAMUX_HEADER_SIZE + bodyLength;
      this.handle(header, body);
      if (this.closeReason !== undefined) return;
    }
    // Keep the unread tail. Received buffers are never written to, so views are safe to keep.
    this.pending = offset === 0 ? this.pending : this.pending.subarray(offset);
  }

  private handle(header: YamuxHeader, body: Buffer): void {
    switch (header.type) {
      case FrameType.Data:
      case FrameType.WindowUpdate: {
        const stream = this.streamFor(header);
        if (stream === undefined) return;
        stream.processFlags(header.flags);
        if (header.type === FrameType.Data) stream.receiveData(body);
        else stream.receiveCredit(header.length);
        return;
      }
      case FrameType.Ping:
        if (header.flags & Flag.SYN) {
          this.sendFrame(encodeHeader(FrameType.Ping, Flag.ACK, 0, header.length));
        } else if (header.flags & Flag.ACK) {
          const timer = this.pings.get(header.length);
          clearTimeout(timer);
          this.pings.delete(header.length);
          const resolve = this.pingResolvers.get(header.length);
          this.pingResolvers.delete(header.length);
          resolve?.();
        }
        return;
      case FrameType.GoAway:
        if (header.length === GoAwayCode.Normal) {
          this.remoteGoAway = true;
          return;
        }
        this.close(
          new SessionClosedError(
            header.length === GoAwayCode.ProtocolError
              ? "yamux: the peer reported a protocol error (GoAway)"
              : "yamux: the peer reported an internal error (GoAway)",
          ),
        );
        return;
      default:
        throw new ProtocolError(`yamux: unknown frame type ${header.type}`);
    }
  }

  /** The stream a Data or WindowUpdate frame is for, opening it when the frame carries SYN. */
  private streamFor(header: YamuxHeader): YamuxStream | undefined {
    const existing = this.streams.get(header.streamId);
    if (!(header.flags & Flag.SYN)) return existing;
    if (existing !== undefined) {
      throw new ProtocolError(`yamux: duplicate stream id ${header.streamId}`);
    }
    const stream = new YamuxStream(this, header.streamId);
    if (this.options.onStream === undefined) {
      this.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.RST, header.streamId, 0));
      return undefined;
    }
    this.streams.set(header.streamId, stream);
    this.sendFrame(encodeHeader(FrameType.WindowUpdate, Flag.ACK, header.streamId, 0));
    this.options.onStream(stream);
    return stream;
  }
}
