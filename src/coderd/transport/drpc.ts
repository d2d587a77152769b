// dRPC calls over yamux, as coderd and its Go daemon use them: every call opens its own yamux
// stream carrying its own dRPC connection (so the dRPC stream id is always 1 and calls never
// wait for each other). Cancelling a call closes its yamux stream without any dRPC frame, which
// is how coderd learns that the caller gave up.

import {
  decodeErrorData,
  encodeErrorData,
  encodePacket,
  Kind,
  MAX_PACKET_DATA,
  type Packet,
  PacketReader,
} from "./drpc-wire.js";
import { abortError, DrpcRemoteError, ProtocolError, StreamResetError } from "./errors.js";
import type { YamuxSession, YamuxStream } from "./yamux.js";

const STREAM_ID = 1;

/** One dRPC connection on one yamux stream: packets in, packets out. */
class PacketStream {
  readonly yamux: YamuxStream;
  private readonly reader: PacketReader;
  private readonly queue: Packet[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiters: (() => void)[] = [];
  private nextMessageId = 1;
  /** Settles when the peer closed the yamux stream (FIN), reset it, or the session ended. */
  readonly peerDone: Promise<void>;

  constructor(yamux: YamuxStream, maxPacket: number) {
    this.yamux = yamux;
    this.reader = new PacketReader(maxPacket);
    this.peerDone = this.pump();
  }

  /** Fails pending and later reads with `error` (the caller gave up). */
  fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.yamux.read();
        if (chunk === null) break;
        this.queue.push(...this.reader.push(chunk));
        this.wake();
      }
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      if (error instanceof ProtocolError) this.yamux.reset(error.message);
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The next packet; null once the peer closed the yamux stream and everything was read. */
  async next(): Promise<Packet | null> {
    for (;;) {
      const packet = this.queue.shift();
      if (packet !== undefined) return packet;
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
      });
    }
  }

  /** Sends packets in one yamux write (drpc buffers small frames the same way). */
  send(...packets: { kind: number; data?: Uint8Array }[]): Promise<void> {
    const frames = packets.flatMap((p) =>
      encodePacket({
        kind: p.kind,
        streamId: STREAM_ID,
        messageId: this.nextMessageId++,
        data: p.data === undefined ? Buffer.alloc(0) : Buffer.from(p.data),
      }),
    );
    return this.yamux.write(Buffer.concat(frames));
  }
}

/** Options shared by client and server. */
export interface DrpcOptions {
  /** Largest packet accepted; coderd's is 4 MiB. */
  maxPacketBytes?: number;
}

/**
 * One call from the client's side. Unary and streaming helpers on DrpcClient are built on it;
 * a bidirectional call is used directly.
 */
export class DrpcClientCall {
  readonly method: string;
  private readonly stream: PacketStream;
  private remoteDone: "close-send" | "close" | "error" | "ended" | undefined;
  private sentClose = false;
  private finished = false;
  private readonly onAbort: () => void;
  private readonly signal: AbortSignal | undefined;

  /** @internal Made by DrpcClient.call. */
  constructor(stream: PacketStream, method: string, signal: AbortSignal | undefined) {
    this.stream = stream;
    this.method = method;
    this.signal = signal;
    this.onAbort = () => this.abort();
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Sends one request message (protobuf bytes). */
  async send(message: Uint8Array): Promise<void> {
    this.throwIfAborted();
    await this.stream.send({ kind: Kind.Message, data: message });
  }

  /** Tells the server we send no more messages. */
  async closeSend(): Promise<void> {
    this.throwIfAborted();
    await this.stream.send({ kind: Kind.CloseSend });
  }

  /** @internal Invoke, and for unary and server-streaming calls the request and CloseSend. */
  async start(request?: Uint8Array): Promise<void> {
    this.throwIfAborted();
    const packets: { kind: number; data?: Uint8Array }[] = [
      { kind: Kind.Invoke, data: Buffer.from(this.method, "utf8") },
    ];
    if (request !== undefined) packets.push({ kind: Kind.Message, data: request });
    if (request !== undefined) packets.push({ kind: Kind.CloseSend });
    await this.stream.send(...packets);
  }

  /**
   * The next response message, or undefined once the server is done sending (CloseSend or
   * Close). An Error packet rejects with DrpcRemoteError carrying coderd's code and text.
   */
  async receive(): Promise<Buffer | undefined> {
    this.throwIfAborted();
    if (this.remoteDone !== undefined) return undefined;
    let packet: Packet | null;
    try {
      packet = await this.stream.next();
    } catch (error) {
      this.throwIfAborted();
      throw error;
    }
    this.throwIfAborted();
    if (packet === null) {
      this.remoteDone = "ended";
      throw new StreamResetError(`${this.method}: coderd ended the call without an answer`);
    }
    switch (packet.kind) {
      case Kind.Message:
        return packet.data;
      case Kind.CloseSend:
        this.remoteDone = "close-send";
        return undefined;
      case Kind.Close:
        this.remoteDone = "close";
        return undefined;
      case Kind.Error: {
        this.remoteDone = "error";
        const { code, message } = decodeErrorData(packet.data);
        throw new DrpcRemoteError(this.method, code, message);
      }
      default:
        throw new ProtocolError(`${this.method}: unexpected dRPC packet kind ${packet.kind}`);
    }
  }

  /**
   * Ends the call: a dRPC Close unless the server already ended it (Close or Error), then the
   * yamux FIN, as drpc's client does. Idempotent.
   */
  async close(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    try {
      const serverEnded =
        this.remoteDone === "close" || this.remoteDone === "error" || this.remoteDone === "ended";
      if (!serverEnded && !this.sentClose) {
        this.sentClose = true;
        await this.stream.send({ kind: Kind.Close });
      }
    } catch {
      // The stream is already gone; closing it is all that is left.
    }
    await this.stream.yamux.close();
  }

  /** Gives up: the yamux stream is closed at once, with no dRPC frame (as Go's client does). */
  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.stream.fail(
      this.signal?.aborted
        ? abortError(this.signal)
        : new StreamResetError(`${this.method}: call abandoned`),
    );
    this.stream.yamux.closeNow();
  }

  private throwIfAborted(): void {
    if (this.signal?.aborted) throw abortError(this.signal);
  }
}

/** The client side of dRPC on a yamux session: one yamux stream per call. */
export class DrpcClient {
  private readonly session: YamuxSession;
  private readonly maxPacket: number;

  constructor(session: YamuxSession, options: DrpcOptions = {}) {
    this.session = session;
    this.maxPacket = options.maxPacketBytes ?? MAX_PACKET_DATA;
  }

  /** Opens a call (Invoke only): for bidirectional and client-streaming calls. */
  async call(method: string, signal?: AbortSignal): Promise<DrpcClientCall> {
    if (signal?.aborted) throw abortError(signal);
    const call = new DrpcClientCall(
      new PacketStream(this.session.openStream(), this.maxPacket),
      method,
      signal,
    );
    try {
      await call.start();
    } catch (error) {
      call.abort();
      throw error;
    }
    return call;
  }

  /** A unary call: one request, one response. */
  async unary(method: string, request: Uint8Array, signal?: AbortSignal): Promise<Buffer> {
    if (signal?.aborted) throw abortError(signal);
    const call = new DrpcClientCall(
      new PacketStream(this.session.openStream(), this.maxPacket),
      method,
      signal,
    );
    try {
      await call.start(request);
      const response = await call.receive();
      if (response === undefined) {
        throw new ProtocolError(`${method}: coderd closed the call without a response`);
      }
      // drpc's client closes as soon as it has the answer, without waiting for the server's
      // CloseSend.
      await call.close();
      return response;
    } catch (error) {
      if (error instanceof DrpcRemoteError) await call.close();
      else call.abort();
      // A write cut short by the abort fails with the stream's error; report the abort.
      if (signal?.aborted) throw abortError(signal);
      throw error;
    }
  }

  /** A server-streaming call: one request, then every response until the server is done. */
  async *serverStream(
    method: string,
    request: Uint8Array,
    signal?: AbortSignal,
  ): AsyncGenerator<Buffer, void, undefined> {
    if (signal?.aborted) throw abortError(signal);
    const call = new DrpcClientCall(
      new PacketStream(this.session.openStream(), this.maxPacket),
      method,
      signal,
    );
    let completed = false;
    try {
      await call.start(request);
      for (;;) {
        const message = await call.receive();
        if (message === undefined) break;
        yield message;
      }
      completed = true;
    } catch (error) {
      if (error instanceof DrpcRemoteError) completed = true;
      throw error;
    } finally {
      // Leaving early (break, throw) cancels the call.
      if (completed) await call.close();
      else call.abort();
    }
  }

  /** A client-streaming call: every request, CloseSend, then one response. */
  async clientStream(
    method: string,
    requests: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const call = await this.call(method, signal);
    try {
      for await (const request of requests) await call.send(request);
      await call.closeSend();
      const response = await call.receive();
      if (response === undefined) {
        throw new ProtocolError(`${method}: coderd closed the call without a response`);
      }
      await call.close();
      return response;
    } catch (error) {
      if (error instanceof DrpcRemoteError) await call.close();
      else call.abort();
      // A write cut short by the abort fails with the stream's error; report the abort.
      if (signal?.aborted) throw abortError(signal);
      throw error;
    }
  }
}

/** A call as the server sees it. */
export interface DrpcServerCall {
  readonly method: string;
  /** Aborts when the client closes or drops the call. */
  readonly signal: AbortSignal;
  /** The next client message, or undefined after its CloseSend / Close / FIN. */
  receive(): Promise<Buffer | undefined>;
  send(message: Uint8Array): Promise<void>;
}

/** What a handler does when it returns: CloseSend (unary, streaming) or Close (coderd's bidi). */
export type DrpcHandler = (call: DrpcServerCall) => Promise<"close-send" | "close" | undefined>;

/** A handler error with an explicit dRPC code (other errors are sent with code 0, as coderd does). */
export class DrpcHandlerError extends Error {
  readonly code: bigint;
  constructor(code: bigint, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * The server side: every yamux stream the client opens is its own dRPC connection; its Invoke
 * names the handler. Enough for a fake coderd in tests.
 */
export class DrpcServer {
  private readonly handlers = new Map<string, DrpcHandler>();
  private readonly maxPacket: number;

  constructor(options: DrpcOptions = {}) {
    this.maxPacket = options.maxPacketBytes ?? MAX_PACKET_DATA;
  }

  register(method: string, handler: DrpcHandler): this {
    this.handlers.set(method, handler);
    return this;
  }

  /** Registers a unary handler: one request in, one response out. */
  unary(
    method: string,
    handle: (request: Buffer, signal: AbortSignal) => Promise<Uint8Array>,
  ): this {
    return this.register(method, async (call) => {
      const request = await call.receive();
      if (request === undefined) throw new Error("no request message");
      await call.send(await handle(request, call.signal));
      return "close-send";
    });
  }

  /** Serves one yamux stream the client opened (pass this to YamuxSession's onStream). */
  async serve(yamux: YamuxStream): Promise<void> {
    const stream = new PacketStream(yamux, this.maxPacket);
    const controller = new AbortController();
    let clientDone = false;
    try {
      const invoke = await stream.next();
      if (invoke === null) return;
      if (invoke.kind !== Kind.Invoke) {
        throw new ProtocolError(`dRPC: expected Invoke, got packet kind ${invoke.kind}`);
      }
      const method = invoke.data.toString("utf8");
      const handler = this.handlers.get(method);
      if (handler === undefined) {
        await stream.send({
          kind: Kind.Error,
          data: encodeErrorData(0n, `protocol error: unknown rpc: "${method}"`),
        });
        return;
      }
      const call: DrpcServerCall = {
        method,
        signal: controller.signal,
        receive: async () => {
          if (clientDone) return undefined;
          for (;;) {
            const packet = await stream.next();
            if (packet === null || packet.kind === Kind.Close) {
              clientDone = true;
              controller.abort(new StreamResetError(`${method}: the client closed the call`));
              return undefined;
            }
            if (packet.kind === Kind.CloseSend) {
              clientDone = true;
              return undefined;
            }
            if (packet.kind === Kind.Message) return packet.data;
          }
        },
        send: (message) => stream.send({ kind: Kind.Message, data: message }),
      };
      // A client that drops the stream cancels the handler even while it is not reading.
      void stream.peerDone.then(() =>
        controller.abort(new StreamResetError(`${method}: the client dropped the call`)),
      );
      try {
        const ending = await handler(call);
        // A client that dropped the call gets no more frames (coderd sends none either).
        if (controller.signal.aborted) return;
        await stream.send({ kind: ending === "close" ? Kind.Close : Kind.CloseSend });
      } catch (error) {
        if (controller.signal.aborted) return;
        const code = error instanceof DrpcHandlerError ? error.code : 0n;
        const text = error instanceof Error ? error.message : String(error);
        await stream.send({ kind: Kind.Error, data: encodeErrorData(code, text) });
      }
    } catch {
      // The stream broke (client gone, session closed): nothing left to answer.
    } finally {
      // Drain what the client still sends (its Close), then close our side after its FIN.
      try {
        while ((await stream.next()) !== null) {
          // discard
        }
      } catch {
        // already reset
      }
      controller.abort(new StreamResetError("call over"));
      await yamux.close().catch(() => undefined);
    }
  }
}
