// One connection to coderd: the WebSocket upgrade, a yamux client session on it and a dRPC
// client for calls. Both coderd generations use it; they differ only in the request.
import { type CoderdCredential, explainRefusal, type ServeRequest } from "./handshake.js";
import { DrpcClient } from "./transport/drpc.js";
import {
  dialWebSocket,
  type TlsMaterial,
  UpgradeRefusedError,
  webSocketLink,
} from "./transport/websocket.js";
import { YamuxSession } from "./transport/yamux.js";

export interface ConnectOptions {
  tls?: TlsMaterial | undefined;
  /** An HTTP proxy; undefined = HTTPS_PROXY / HTTP_PROXY / NO_PROXY, null = none. */
  proxy?: URL | null | undefined;
  signal?: AbortSignal | undefined;
  handshakeTimeoutMs?: number | undefined;
  /** yamux keepalive; the defaults are Go's (30 s interval, 10 s timeout). */
  keepaliveIntervalMs?: number | undefined;
  keepaliveTimeoutMs?: number | undefined;
  /** Which credential the request carries, so a 401 can say so. */
  credential: CoderdCredential["kind"];
  /** The API version the request claims (v2), so a version refusal can say so. */
  apiVersion?: string | undefined;
}

export interface CoderdConnection {
  readonly drpc: DrpcClient;
  readonly session: YamuxSession;
  /** Settles with the reason once the connection is over (closed, lost, keepalive timeout). */
  readonly closed: Promise<Error>;
  close(): void;
}

/**
 * Opens the connection. An HTTP refusal rejects with CoderdRefusedError (coderd's text, fatal or
 * not, the setting at fault); network errors reject as they come from the socket.
 */
export async function connectCoderd(
  request: ServeRequest,
  options: ConnectOptions,
): Promise<CoderdConnection> {
  let ws: Awaited<ReturnType<typeof dialWebSocket>>;
  try {
    ws = await dialWebSocket({
      url: request.url,
      headers: request.headers,
      tls: options.tls,
      proxy: options.proxy,
      signal: options.signal,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
    });
  } catch (error) {
    if (error instanceof UpgradeRefusedError) {
      throw explainRefusal(error.refusal, {
        credential: options.credential,
        apiVersion: options.apiVersion,
      });
    }
    throw error;
  }
  const { link, attach } = webSocketLink(ws);
  const session = new YamuxSession(link, {
    role: "client",
    keepaliveIntervalMs: options.keepaliveIntervalMs,
    keepaliveTimeoutMs: options.keepaliveTimeoutMs,
  });
  attach(session);
  return {
    drpc: new DrpcClient(session),
    session,
    closed: session.closed,
    close: () => session.close(),
  };
}
