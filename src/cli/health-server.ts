// The operator endpoints: /healthz (the process answers), /readyz (connected to coderd and not
// draining, for Kubernetes readiness and load balancers) and /metrics (Prometheus).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ListenAddress } from "./value-schemas.js";

export interface Readiness {
  ready: boolean;
  /** Why not ready, shown in the /readyz body. */
  reason: string;
}

export interface HealthServerOptions {
  address: ListenAddress;
  readiness: () => Readiness;
  metrics: { text(): Promise<string>; contentType: string };
}

export interface HealthServer {
  /** e.g. http://127.0.0.1:2112 (the real port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

export class HealthServerError extends Error {
  override readonly name = "HealthServerError";
}

function send(response: ServerResponse, status: number, body: string, type = "text/plain") {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

async function handle(
  options: HealthServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, "method not allowed\n");
    return;
  }
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  switch (path) {
    case "/healthz":
      send(response, 200, "ok\n");
      return;
    case "/readyz": {
      const { ready, reason } = options.readiness();
      send(response, ready ? 200 : 503, ready ? "ready\n" : `not ready: ${reason}\n`);
      return;
    }
    case "/metrics":
      send(response, 200, await options.metrics.text(), options.metrics.contentType);
      return;
    default:
      send(response, 404, "not found: try /healthz, /readyz or /metrics\n");
  }
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      send(response, 500, `internal error: ${error instanceof Error ? error.message : error}\n`);
    });
  });
  // Probes should never hold the process open on shutdown.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const where = `${options.address.host}:${options.address.port}`;
      reject(
        new HealthServerError(
          `--metrics-address: cannot listen on ${where}: ${error.code ?? error.message}`,
        ),
      );
    });
    server.listen(options.address.port, options.address.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
