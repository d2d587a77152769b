// The whole stack over a real WebSocket: a 1 MiB message and a 1 MiB log batch cross with no
// WebSocket message over 256 KiB, and a connection that ends (1001, 1009, text) ends the session
// and every call on it with a typed error.
import { afterEach, describe, expect, it } from "vitest";
import { connectCoderd } from "../../src/coderd/connection.js";
import { v017ServeRequest } from "../../src/coderd/handshake.js";
import { DrpcServer } from "../../src/coderd/transport/drpc.js";
import { SessionClosedError, WebSocketClosedError } from "../../src/coderd/transport/errors.js";
import { MAX_WEBSOCKET_MESSAGE } from "../../src/coderd/transport/websocket.js";
import { CoderdV017Client } from "../../src/coderd/v017/client.js";
import { LogLevel } from "../../src/coderd/v017/gen/provisioner.js";
import {
  LogSource,
  UpdateJobRequest,
  UpdateJobResponse,
} from "../../src/coderd/v017/gen/provisionerd.js";
import { startWsDrpcServer, type WsDrpcServer } from "./ws-drpc-server.js";

const ORG = "8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab";
let server: WsDrpcServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function request(url: URL) {
  return v017ServeRequest({ coderUrl: url, organization: ORG, sessionToken: "t", tags: {} });
}

describe("coderd transport over a real WebSocket", () => {
  it("carries a 1 MiB message and a 1 MiB log batch with every WebSocket message at most 64 KiB", async () => {
    const received: UpdateJobRequest[] = [];
    server = await startWsDrpcServer({
      serverFor: () =>
        new DrpcServer()
          .unary("/t.S/Echo", async (r) => r)
          .unary("/provisionerd.ProvisionerDaemon/UpdateJob", async (bytes) => {
            received.push(UpdateJobRequest.decode(bytes));
            return UpdateJobResponse.encode(UpdateJobResponse.fromPartial({})).finish();
          }),
    });
    const connection = await connectCoderd(request(server.url), { credential: "session-token" });
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
    const echoed = await connection.drpc.unary("/t.S/Echo", big);
    expect(echoed.equals(big)).toBe(true);

    const line = "x".repeat(1023);
    const logs = Array.from({ length: 1024 }, (_, i) => ({
      source: LogSource.PROVISIONER,
      level: LogLevel.INFO,
      createdAt: 1_712_345_678_901 + i,
      stage: "Planning",
      output: `${line}${i % 10}`,
    }));
    const client = new CoderdV017Client(connection.drpc);
    const answer = await client.updateJob(
      UpdateJobRequest.fromPartial({ jobId: "5d3f5c1e-7a52-4b8e-9c61-0f6a2d1b3e47", logs }),
    );
    expect(answer.canceled).toBe(false);
    expect(received[0]?.logs).toHaveLength(1024);
    expect(received[0]?.logs.map((l) => l.output)).toEqual(logs.map((l) => l.output));
    const batchBytes = received[0]?.logs.reduce((n, l) => n + l.output.length, 0) ?? 0;
    expect(batchBytes).toBe(1024 * 1024);
    connection.close();

    expect(server.sizes.c2s.reduce((a, b) => a + b, 0)).toBeGreaterThan(2 * 1024 * 1024);
    expect(Math.max(...server.sizes.c2s)).toBeLessThanOrEqual(64 * 1024);
    expect(Math.max(...server.sizes.s2c)).toBeLessThanOrEqual(64 * 1024);
  });

  it("a message over 256 KiB from the peer closes the connection with 1009", async () => {
    server = await startWsDrpcServer({ serverFor: () => new DrpcServer() });
    const connection = await connectCoderd(request(server.url), { credential: "session-token" });
    const stream = connection.session.openStream();
    const pending = stream.read();
    server.connections[0]?.ws.send(Buffer.alloc(MAX_WEBSOCKET_MESSAGE + 1), { binary: true });
    const reason = await connection.closed;
    expect(reason).toBeInstanceOf(SessionClosedError);
    expect(reason.cause).toBeInstanceOf(WebSocketClosedError);
    expect((reason.cause as WebSocketClosedError).code).toBe(1009);
    await expect(pending).rejects.toBeInstanceOf(SessionClosedError);
  });

  it("coderd going away (1001) fails the call in flight and every later call", async () => {
    let started: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    server = await startWsDrpcServer({
      serverFor: () =>
        new DrpcServer().unary("/t.S/Hang", async (_, signal) => {
          started();
          await new Promise((resolve) => signal.addEventListener("abort", resolve));
          return Buffer.alloc(0);
        }),
    });
    const connection = await connectCoderd(request(server.url), { credential: "session-token" });
    const call = connection.drpc.unary("/t.S/Hang", Buffer.alloc(0));
    await inFlight;
    server.connections[0]?.ws.close(1001);
    await expect(call).rejects.toBeInstanceOf(SessionClosedError);
    const reason = await connection.closed;
    expect((reason.cause as WebSocketClosedError).code).toBe(1001);
    await expect(connection.drpc.unary("/t.S/Hang", Buffer.alloc(0))).rejects.toBeInstanceOf(
      SessionClosedError,
    );
  });

  it("a text message is refused with 1003, as coderd does", async () => {
    server = await startWsDrpcServer({ serverFor: () => new DrpcServer() });
    const connection = await connectCoderd(request(server.url), { credential: "session-token" });
    const peer = server.connections[0]?.ws;
    const closed = new Promise<number>((resolve) => peer?.once("close", (code) => resolve(code)));
    peer?.send("hello");
    expect(await closed).toBe(1003);
    expect((await connection.closed).cause).toMatchObject({ code: 1003 });
  });
});
