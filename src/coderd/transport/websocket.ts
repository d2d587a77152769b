// The WebSocket under yamux. coderd reads binary messages only, concatenated into one byte stream,
// and closes the connection (1009) on any message over 256 KiB, so every write is cut into
// messages of at most 64 KiB. No compression is offered: coderd never negotiates it.
import type { IncomingMessage } from "node:http";
import WebSocket from "ws";
import { z } from "zod";
import { abortError, WebSocketClosedError } from "./errors.js";
import { proxyFor, tunnelAgent } from "./proxy.js";
import type { ByteLink, YamuxSession } from "./yamux.js";

/** coderd's read limit per WebSocket message, on both ends. */
export const MAX_WEBSOCKET_MESSAGE = 256 * 1024;
/** The largest message we write. */
export const WRITE_CHUNK = 64 * 1024;

export interface TlsMaterial {
  /** PEM CA bundle to trust instead of the system store. */
  ca?: Buffer | undefined;
  /** PEM client certificate (chain) and its key, for deployments that require one. */
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

export interface DialOptions {
  /** ws:// or wss:// URL with the query. */
  url: URL;
  headers: Record<string, string>;
  tls?: TlsMaterial | undefined;
  handshakeTimeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** An HTTP proxy to tunnel through; undefined = from the environment, null = none. */
  proxy?: URL | null | undefined;
}

const errorBody = z.object({
  message: z.string(),
  detail: z.string().optional(),
  validations: z.array(z.object({ field: z.string(), detail: z.string() })).optional(),
});

/** What coderd said when it refused the upgrade (its JSON error body, or the raw text). */
export interface HttpRefusal {
  status: number;
  statusText: string;
  message: string;
  detail: string | undefined;
  validations: { field: string; detail: string }[];
}

/** The HTTP upgrade was answered with something other than 101. */
export class UpgradeRefusedError extends Error {
  override readonly name = "UpgradeRefusedError";
  readonly refusal: HttpRefusal;
  constructor(refusal: HttpRefusal) {
    const detail = refusal.detail === undefined ? "" : `: ${refusal.detail}`;
    const validations = refusal.validations.map((v) => ` (${v.field}: ${v.detail})`).join("");
    super(
      `coderd refused the connection with ${refusal.status} ${refusal.statusText}: ${refusal.message}${detail}${validations}`,
    );
    this.refusal = refusal;
  }
}

/** Parses coderd's error body; a body that is not its JSON shape is kept as text. */
export function parseRefusal(status: number, statusText: string, body: string): HttpRefusal {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = errorBody.safeParse(json);
  if (parsed.success) {
    return {
      status,
      statusText,
      message: parsed.data.message,
      detail: parsed.data.detail,
      validations: parsed.data.validations ?? [],
    };
  }
  const text = body.trim().slice(0, 500);
  return {
    status,
    statusText,
    message: text === "" ? "(empty body)" : text,
    detail: undefined,
    validations: [],
  };
}

function readBody(response: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    response.on("data", (chunk: Buffer) => {
      if (size < limit) parts.push(chunk);
      size += chunk.length;
    });
    response.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    response.on("error", () => resolve(Buffer.concat(parts).toString("utf8")));
  });
}

/** Opens the WebSocket; rejects with UpgradeRefusedError when coderd answers with an error. */
export function dialWebSocket(options: DialOptions): Promise<WebSocket> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const proxy = options.proxy === undefined ? proxyFor(options.url) : options.proxy;
  const agent =
    proxy === null || proxy === undefined
      ? undefined
      : tunnelAgent(proxy, options.url.protocol === "wss:", options.tls ?? {});
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(options.url, {
      agent,
      headers: options.headers,
      perMessageDeflate: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE,
      followRedirects: false,
      handshakeTimeout: options.handshakeTimeoutMs ?? 30_000,
      ca: options.tls?.ca,
      cert: options.tls?.cert,
      key: options.tls?.key,
    });
    ws.binaryType = "nodebuffer";
    let settled = false;
    const onAbort = () => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(abortError(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    ws.once("unexpected-response", (request, response) => {
      void readBody(response).then((body) => {
        request.destroy();
        settle(() =>
          reject(
            new UpgradeRefusedError(
              parseRefusal(response.statusCode ?? 0, response.statusMessage ?? "", body),
            ),
          ),
        );
      });
    });
    ws.once("open", () => settle(() => resolve(ws)));
    ws.once("error", (error) => settle(() => reject(error)));
  });
}

/**
 * Joins a WebSocket (client or server end) to a yamux session: yamux writes go out as binary
 * messages of at most 64 KiB, received binary messages feed the session, a text message or the
 * socket closing ends it.
 */
export function webSocketLink(ws: WebSocket): {
  link: ByteLink;
  attach(session: YamuxSession): void;
} {
  const link: ByteLink = {
    send(bytes) {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let offset = 0; offset < bytes.length; offset += WRITE_CHUNK) {
        ws.send(bytes.subarray(offset, offset + WRITE_CHUNK), { binary: true });
      }
    },
    close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
        ws.close(1000);
      }
    },
  };
  return {
    link,
    attach(session) {
      ws.on("message", (data: Buffer, isBinary: boolean) => {
        if (!isBinary) {
          ws.close(1003, "unexpected frame type read (expected MessageBinary): MessageText");
          session.terminate(new WebSocketClosedError(1003, "text message received"));
          return;
        }
        session.receive(data);
      });
      ws.on("close", (code: number, reason: Buffer) => {
        session.terminate(new WebSocketClosedError(code, reason.toString("utf8")));
      });
      ws.on("error", (error: Error & { code?: string }) => {
        // ws closes with 1009 itself when a message exceeds the read limit; name it as such.
        session.terminate(
          error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
            ? new WebSocketClosedError(1009, error.message)
            : error,
        );
      });
    },
  };
}
