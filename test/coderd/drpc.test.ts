// dRPC over our yamux, client against our own server side: every call shape, packets split at
// 64 KiB, the 4 MiB packet limit, Error packets, unknown methods and cancellation.
import { describe, expect, it } from "vitest";
import { DrpcClient, DrpcHandlerError, DrpcServer } from "../../src/coderd/transport/drpc.js";
import {
  decodeFrame,
  encodePacket,
  Kind,
  MAX_FRAME_DATA,
  PacketReader,
} from "../../src/coderd/transport/drpc-wire.js";
import { DrpcRemoteError, isUnknownRpc, ProtocolError } from "../../src/coderd/transport/errors.js";
import { YamuxSession } from "../../src/coderd/transport/yamux.js";
import { linkPair } from "./link-pair.js";

function connect(server: DrpcServer) {
  const [clientLink, serverLink] = linkPair();
  const client = new YamuxSession(clientLink, { role: "client", keepaliveIntervalMs: 0 });
  const serverSession = new YamuxSession(serverLink, {
    role: "server",
    keepaliveIntervalMs: 0,
    onStream: (stream) => void server.serve(stream),
  });
  clientLink.deliver = (b) => client.receive(b);
  serverLink.deliver = (b) => serverSession.receive(b);
  return { drpc: new DrpcClient(client), client, serverSession, clientLink };
}

describe("dRPC wire", () => {
  it("encodes frames with uvarints and splits packets at 64 KiB", () => {
    const frames = encodePacket({
      kind: Kind.Message,
      streamId: 1,
      messageId: 2,
      data: Buffer.alloc(70_000, 1),
    });
    expect(frames).toHaveLength(2);
    const first = decodeFrame(frames[0] as Buffer);
    expect(first?.frame).toMatchObject({
      kind: Kind.Message,
      done: false,
      streamId: 1,
      messageId: 2,
    });
    expect(first?.frame.data.length).toBe(MAX_FRAME_DATA);
    expect((frames[0] as Buffer).subarray(0, 6).toString("hex")).toBe("040102808004");
    expect(decodeFrame(frames[1] as Buffer)?.frame).toMatchObject({ done: true });
    expect(
      encodePacket({
        kind: Kind.CloseSend,
        streamId: 1,
        messageId: 3,
        data: Buffer.alloc(0),
      })[0]?.toString("hex"),
    ).toBe("0d010300");
  });

  it("reassembles packets from bytes cut anywhere, and refuses a packet over 4 MiB", () => {
    const bytes = Buffer.concat(
      encodePacket({
        kind: Kind.Message,
        streamId: 1,
        messageId: 1,
        data: Buffer.alloc(200_000, 9),
      }),
    );
    const reader = new PacketReader();
    const packets = [];
    for (let i = 0; i < bytes.length; i += 777)
      packets.push(...reader.push(bytes.subarray(i, i + 777)));
    expect(packets).toHaveLength(1);
    expect(packets[0]?.data.length).toBe(200_000);
    const huge = Buffer.concat(
      encodePacket({
        kind: Kind.Message,
        streamId: 1,
        messageId: 1,
        data: Buffer.alloc(4 * 1024 * 1024 + 1),
      }),
    );
    expect(() => new PacketReader().push(huge)).toThrow(/data overflow/);
    const exact = Buffer.concat(
      encodePacket({
        kind: Kind.Message,
        streamId: 1,
        messageId: 1,
        data: Buffer.alloc(4 * 1024 * 1024),
      }),
    );
    expect(new PacketReader().push(exact)).toHaveLength(1);
  });

  it("rejects ids that go backwards", () => {
    const reader = new PacketReader();
    reader.push(
      encodePacket({
        kind: Kind.Message,
        streamId: 2,
        messageId: 1,
        data: Buffer.alloc(1),
      })[0] as Buffer,
    );
    expect(() =>
      reader.push(
        encodePacket({
          kind: Kind.Message,
          streamId: 1,
          messageId: 5,
          data: Buffer.alloc(1),
        })[0] as Buffer,
      ),
    ).toThrow(ProtocolError);
  });
});

describe("dRPC client against our server", () => {
  const server = new DrpcServer()
    .unary("/t.S/Echo", async (request) => request)
    .unary("/t.S/Fail", async () => {
      throw new DrpcHandlerError(42n, "acquire job: database is unavailable · ü");
    })
    .unary("/t.S/Plain", async () => {
      throw new Error("job isn't running yet");
    })
    .register("/t.S/Count", async (call) => {
      const n = (await call.receive())?.readUInt8(0) ?? 0;
      for (let i = 0; i < n; i++) await call.send(Buffer.of(i));
      return "close-send";
    })
    .register("/t.S/Sum", async (call) => {
      let total = 0;
      for (;;) {
        const m = await call.receive();
        if (m === undefined) break;
        total += m.length;
      }
      const out = Buffer.alloc(4);
      out.writeUInt32BE(total);
      await call.send(out);
      return "close-send";
    });

  it("unary: a 1 MiB request and response cross intact", async () => {
    const { drpc, client } = connect(server);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    const answer = await drpc.unary("/t.S/Echo", big);
    expect(answer.equals(big)).toBe(true);
    await new Promise((r) => setImmediate(r));
    client.close();
  });

  it("many calls in parallel each get their own stream and answer, and every stream is closed after", async () => {
    const { drpc, client } = connect(server);
    const payloads = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1000 + i * 997, i));
    const answers = await Promise.all(payloads.map((p) => drpc.unary("/t.S/Echo", p)));
    answers.forEach((a, i) => {
      expect(a.equals(payloads[i] as Buffer)).toBe(true);
    });
    while (client.streamCount > 0) await new Promise((r) => setImmediate(r));
    client.close();
  });

  it("Error packets become DrpcRemoteError with coderd's code and text", async () => {
    const { drpc, client } = connect(server);
    const failed = await drpc.unary("/t.S/Fail", Buffer.alloc(0)).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(DrpcRemoteError);
    expect(failed).toMatchObject({
      code: 42n,
      message: "acquire job: database is unavailable · ü",
      method: "/t.S/Fail",
    });
    await expect(drpc.unary("/t.S/Plain", Buffer.alloc(0))).rejects.toMatchObject({
      code: 0n,
      message: "job isn't running yet",
    });
    const unknown = await drpc.unary("/t.S/Nope", Buffer.alloc(0)).catch((e: unknown) => e);
    expect(unknown).toMatchObject({
      code: 0n,
      message: 'protocol error: unknown rpc: "/t.S/Nope"',
    });
    expect(isUnknownRpc(unknown)).toBe(true);
    expect(isUnknownRpc(failed)).toBe(false);
    client.close();
  });

  it("server streaming and client streaming", async () => {
    const { drpc, client } = connect(server);
    const got: number[] = [];
    for await (const m of drpc.serverStream("/t.S/Count", Buffer.of(5))) got.push(m.readUInt8(0));
    expect(got).toEqual([0, 1, 2, 3, 4]);
    const sum = await drpc.clientStream("/t.S/Sum", [
      Buffer.alloc(3),
      Buffer.alloc(100_000),
      Buffer.alloc(0),
    ]);
    expect(sum.readUInt32BE(0)).toBe(100_003);
    client.close();
  });

  it("aborting a call whose 1 MiB request waits for credit rejects with the abort reason", async () => {
    // A server whose streams are never read: no credit ever comes back after 256 KiB.
    const [clientLink, serverLink] = linkPair();
    const client = new YamuxSession(clientLink, { role: "client", keepaliveIntervalMs: 0 });
    const server = new YamuxSession(serverLink, {
      role: "server",
      keepaliveIntervalMs: 0,
      onStream: () => undefined,
    });
    clientLink.deliver = (b) => client.receive(b);
    serverLink.deliver = (b) => server.receive(b);
    const controller = new AbortController();
    const pending = new DrpcClient(client).unary(
      "/t.S/Never",
      Buffer.alloc(1024 * 1024),
      controller.signal,
    );
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error("job canceled"));
    await expect(pending).rejects.toThrow("job canceled");
    client.close();
    server.close();
  });

  it("an aborted call closes its yamux stream without a dRPC frame, and the handler sees it", async () => {
    let handlerSignal: AbortSignal | undefined;
    const blocking = new DrpcServer().register("/t.S/Wait", async (call) => {
      handlerSignal = call.signal;
      await new Promise((resolve) => call.signal.addEventListener("abort", resolve));
      return "close";
    });
    const { drpc, client, clientLink } = connect(blocking);
    const controller = new AbortController();
    const call = await drpc.call("/t.S/Wait", controller.signal);
    const pending = call.receive();
    while (handlerSignal === undefined) await new Promise((r) => setImmediate(r));
    const sentBefore = Buffer.concat(clientLink.sent).length;
    controller.abort(new Error("drain"));
    await expect(pending).rejects.toThrow("drain");
    await new Promise((r) => setTimeout(r, 5));
    expect(handlerSignal.aborted).toBe(true);
    // Only the 12-byte FIN went out after the abort.
    const after = Buffer.concat(clientLink.sent).subarray(sentBefore);
    expect(after.toString("hex")).toBe("000100040000000100000000");
    client.close();
  });
});
