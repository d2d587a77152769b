// A WebSocket server that serves dRPC over yamux the way coderd does (server role, 256 KiB read
// limit, no compression), with a hook to refuse the upgrade and a record of message sizes.
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type WebSocket from "ws";
import { WebSocketServer } from "ws";
import type { DrpcServer } from "../../src/coderd/transport/drpc.js";
import { MAX_WEBSOCKET_MESSAGE, webSocketLink } from "../../src/coderd/transport/websocket.js";
import { YamuxSession } from "../../src/coderd/transport/yamux.js";

export interface Refusal {
  status: number;
  body: { message: string; detail?: string; validations?: { field: string; detail: string }[] };
}

export interface ServedConnection {
  request: IncomingMessage;
  ws: WebSocket;
  session: YamuxSession;
}

export interface WsDrpcServer {
  port: number;
  url: URL;
  /** Sizes of every WebSocket message each way. */
  sizes: { c2s: number[]; s2c: number[] };
  connections: ServedConnection[];
  close(): Promise<void>;
}

export function writeRefusal(
  response: ServerResponse | import("node:stream").Duplex,
  refusal: Refusal,
) {
  // coderd's JSON writer escapes HTML characters and ends the body with a newline.
  const body = `${JSON.stringify(refusal.body)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")}\n`;
  const head = [
    `HTTP/1.1 ${refusal.status} ${refusal.status === 401 ? "Unauthorized" : refusal.status === 403 ? "Forbidden" : refusal.status === 404 ? "Not Found" : "Bad Request"}`,
    "Content-Type: application/json; charset=utf-8",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "Connection: close",
    "",
    "",
  ].join("\r\n");
  (response as import("node:stream").Duplex).end(head + body);
}

export async function startWsDrpcServer(options: {
  /** The dRPC server for a connection (one per connection, so handlers can know who called). */
  serverFor: (connection: ServedConnection) => DrpcServer;
  /** Checks the upgrade request; a refusal is answered as coderd does, with its JSON body. */
  check?: (request: IncomingMessage) => Refusal | undefined;
  /** The JSON body of GET /api/v2/buildinfo; 404 when absent. */
  buildInfo?: () => Record<string, unknown>;
  keepaliveIntervalMs?: number;
  /** Listen on this port (a restarted coderd comes back where it was); a free one by default. */
  port?: number;
  /** Serve wss:// with this certificate; with clientCa, require a client certificate it signed. */
  tls?: { key: string; cert: string; clientCa?: string };
}): Promise<WsDrpcServer> {
  const sizes = { c2s: [] as number[], s2c: [] as number[] };
  const connections: ServedConnection[] = [];
  const notFound = (request: IncomingMessage, response: ServerResponse) => {
    const info = options.buildInfo;
    if (info !== undefined && request.method === "GET" && request.url === "/api/v2/buildinfo") {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify(info()));
      return;
    }
    response.statusCode = 404;
    response.end();
  };
  const { tls } = options;
  const http =
    tls === undefined
      ? createServer(notFound)
      : createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.clientCa === undefined
              ? {}
              : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }),
          },
          notFound,
        );
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_WEBSOCKET_MESSAGE,
    perMessageDeflate: false,
  });
  http.on("upgrade", (request, socket, head) => {
    const refusal = options.check?.(request);
    if (refusal !== undefined) {
      writeRefusal(socket, refusal);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => {
      const send = ws.send.bind(ws);
      ws.send = ((data: Buffer, ...rest: never[]) => {
        sizes.s2c.push(data.length);
        return send(data, ...rest);
      }) as typeof ws.send;
      ws.on("message", (data: Buffer) => sizes.c2s.push(data.length));
      const { link, attach } = webSocketLink(ws);
      let drpc: DrpcServer | undefined;
      const session = new YamuxSession(link, {
        role: "server",
        keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0,
        onStream: (stream) => void drpc?.serve(stream),
      });
      const connection = { request, ws, session };
      drpc = options.serverFor(connection);
      connections.push(connection);
      attach(session);
    });
  });
  http.listen(options.port ?? 0, "127.0.0.1");
  await once(http, "listening");
  const port = (http.address() as AddressInfo).port;
  return {
    port,
    url: new URL(`${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`),
    sizes,
    connections,
    async close() {
      for (const c of connections) c.session.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
