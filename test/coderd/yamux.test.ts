// The yamux session in both roles: stream open/ACK, flow control exactly as Go computes credit,
// FIN and RST, GoAway, keepalive, protocol errors, and errors once the session is gone.
import { describe, expect, it } from "vitest";
import {
  GoAwayError,
  SessionClosedError,
  StreamResetError,
} from "../../src/coderd/transport/errors.js";
import {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  YAMUX_HEADER_SIZE,
  YAMUX_WINDOW,
  YamuxSession,
  type YamuxStream,
} from "../../src/coderd/transport/yamux.js";
import { type LinkEnd, linkPair } from "./link-pair.js";

interface Pair {
  client: YamuxSession;
  server: YamuxSession;
  clientLink: LinkEnd;
  serverLink: LinkEnd;
  accepted: YamuxStream[];
  nextAccepted(): Promise<YamuxStream>;
}

function sessionPair(options: { keepaliveIntervalMs?: number } = {}): Pair {
  const [clientLink, serverLink] = linkPair();
  const accepted: YamuxStream[] = [];
  const waiters: ((s: YamuxStream) => void)[] = [];
  const client = new YamuxSession(clientLink, {
    role: "client",
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0,
  });
  const server = new YamuxSession(serverLink, {
    role: "server",
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0,
    onStream: (stream) => {
      const waiter = waiters.shift();
      if (waiter) waiter(stream);
      else accepted.push(stream);
    },
  });
  clientLink.deliver = (bytes) => client.receive(bytes);
  serverLink.deliver = (bytes) => server.receive(bytes);
  clientLink.onPeerClose = () => client.terminate(new Error("peer closed"));
  serverLink.onPeerClose = () => server.terminate(new Error("peer closed"));
  return {
    client,
    server,
    clientLink,
    serverLink,
    accepted,
    nextAccepted: () => {
      const ready = accepted.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

/** Every yamux frame in what one side sent (headers, with the body length for Data). */
function framesOf(chunks: Buffer[]) {
  const all = Buffer.concat(chunks);
  const frames: { type: number; flags: number; streamId: number; length: number }[] = [];
  let offset = 0;
  while (offset < all.length) {
    const header = decodeHeader(all, offset);
    frames.push(header);
    offset += YAMUX_HEADER_SIZE + (header.type === FrameType.Data ? header.length : 0);
  }
  return frames;
}

async function readAll(stream: YamuxStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await stream.read();
    if (chunk === null) return Buffer.concat(parts);
    parts.push(chunk);
  }
}

describe("yamux session", () => {
  it("opens odd client streams with SYN, the server ACKs, data flows, FINs close both ways", async () => {
    const pair = sessionPair();
    const a = pair.client.openStream();
    const b = pair.client.openStream();
    expect([a.id, b.id]).toEqual([1, 3]);
    await a.write(Buffer.from("hello"));
    await a.close();
    const served = await pair.nextAccepted();
    expect(served.id).toBe(1);
    expect((await readAll(served)).toString()).toBe("hello");
    await served.write(Buffer.from("world"));
    await served.close();
    expect((await readAll(a)).toString()).toBe("world");
    await a.ended;
    await served.ended;
    const clientFrames = framesOf(pair.clientLink.sent);
    expect(clientFrames[0]).toMatchObject({
      type: FrameType.WindowUpdate,
      flags: Flag.SYN,
      streamId: 1,
      length: 0,
    });
    expect(clientFrames).toContainEqual({
      version: 0,
      type: FrameType.WindowUpdate,
      flags: Flag.FIN,
      streamId: 1,
      length: 0,
    });
    const serverFrames = framesOf(pair.serverLink.sent);
    expect(serverFrames[0]).toMatchObject({
      type: FrameType.WindowUpdate,
      flags: Flag.ACK,
      streamId: 1,
      length: 0,
    });
    expect(pair.client.streamCount).toBe(1); // b is still open
    pair.client.close();
  });

  it("never sends more than 256 KiB before credit comes back, and returns credit as Go computes it", async () => {
    const pair = sessionPair();
    const stream = pair.client.openStream();
    const payload = Buffer.alloc(1024 * 1024, 7);
    const written = stream.write(payload);
    const served = await pair.nextAccepted();
    // Wait until the sender is out of credit: exactly one window of body bytes sent.
    const dataBytes = () =>
      framesOf(pair.clientLink.sent)
        .filter((f) => f.type === FrameType.Data)
        .reduce((n, f) => n + f.length, 0);
    while (served.buffered < YAMUX_WINDOW) await new Promise((r) => setImmediate(r));
    expect(dataBytes()).toBe(YAMUX_WINDOW);
    // Reading one chunk of 256 KiB leaves 0 buffered: delta = 256 KiB - 0 - 0.
    let received = 0;
    while (received < payload.length) {
      const chunk = await served.read();
      if (chunk === null) throw new Error("early end");
      received += chunk.length;
    }
    await written;
    const updates = framesOf(pair.serverLink.sent).filter(
      (f) => f.type === FrameType.WindowUpdate && f.flags === 0,
    );
    expect(updates.length).toBeGreaterThanOrEqual(3);
    for (const update of updates) expect(update.length).toBeGreaterThanOrEqual(YAMUX_WINDOW / 2);
    expect(updates.reduce((n, u) => n + u.length, 0)).toBeLessThanOrEqual(payload.length);
    pair.client.close();
  });

  it("tears the session down with GoAway(protocol error) when the peer exceeds the window", async () => {
    const [clientLink, rawLink] = linkPair();
    const client = new YamuxSession(clientLink, { role: "client", keepaliveIntervalMs: 0 });
    clientLink.deliver = (bytes) => client.receive(bytes);
    const stream = client.openStream();
    const over = YAMUX_WINDOW + 1;
    rawLink.send(
      Buffer.concat([encodeHeader(FrameType.Data, Flag.ACK, stream.id, over), Buffer.alloc(over)]),
    );
    const reason = await client.closed;
    expect(reason).toBeInstanceOf(SessionClosedError);
    expect(reason.message).toContain("credit");
    expect(framesOf(clientLink.sent).at(-1)).toMatchObject({
      type: FrameType.GoAway,
      length: GoAwayCode.ProtocolError,
    });
    await expect(stream.read()).rejects.toBeInstanceOf(SessionClosedError);
  });

  it("RST fails the peer's reads and writes with StreamResetError", async () => {
    const pair = sessionPair();
    const stream = pair.client.openStream();
    await stream.write(Buffer.from("x"));
    const served = await pair.nextAccepted();
    served.reset();
    await expect(stream.read()).rejects.toBeInstanceOf(StreamResetError);
    await expect(stream.write(Buffer.from("y"))).rejects.toBeInstanceOf(StreamResetError);
    pair.client.close();
  });

  it("after GoAway no stream can be opened, while open streams go on", async () => {
    const pair = sessionPair();
    const stream = pair.client.openStream();
    await stream.write(Buffer.from("before"));
    const served = await pair.nextAccepted();
    pair.server.goAway();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(() => pair.client.openStream()).toThrow(GoAwayError);
    await served.write(Buffer.from("still here"));
    expect((await stream.read())?.toString()).toBe("still here");
    pair.client.close();
  });

  it("answers pings, and a ping left unanswered closes the session (keepalive timeout)", async () => {
    const pair = sessionPair();
    const rtt = await pair.client.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);
    const serverFrames = framesOf(pair.serverLink.sent);
    expect(serverFrames).toContainEqual({
      version: 0,
      type: FrameType.Ping,
      flags: Flag.ACK,
      streamId: 0,
      length: 0,
    });
    pair.client.close();

    // A peer that never answers.
    const [link, silent] = linkPair();
    silent.deliver = () => undefined;
    const lonely = new YamuxSession(link, {
      role: "client",
      keepaliveIntervalMs: 20,
      keepaliveTimeoutMs: 30,
    });
    const stream = lonely.openStream();
    const reason = await lonely.closed;
    expect(reason.message).toMatch(/keepalive timeout/);
    expect(framesOf(link.sent)).toContainEqual({
      version: 0,
      type: FrameType.Ping,
      flags: Flag.SYN,
      streamId: 0,
      length: 0,
    });
    expect(link.closed).toBe(true);
    await expect(stream.read()).rejects.toBeInstanceOf(SessionClosedError);
    await expect(stream.write(Buffer.from("x"))).rejects.toBeInstanceOf(SessionClosedError);
    expect(() => lonely.openStream()).toThrow(SessionClosedError);
  });

  it("a stream the peer never acknowledges tears the session down", async () => {
    const [link, silent] = linkPair();
    silent.deliver = () => undefined;
    const session = new YamuxSession(link, {
      role: "client",
      keepaliveIntervalMs: 0,
      streamOpenTimeoutMs: 20,
    });
    session.openStream();
    expect((await session.closed).message).toMatch(/not acknowledged within 20 ms/);
  });

  it("a link that goes away fails every stream and every later call", async () => {
    const pair = sessionPair();
    const stream = pair.client.openStream();
    const pending = stream.read();
    pair.server.close();
    await expect(pending).rejects.toBeInstanceOf(SessionClosedError);
    expect(pair.client.isClosed).toBe(true);
    expect(() => pair.client.openStream()).toThrow(SessionClosedError);
  });
});
