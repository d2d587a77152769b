// The WebSocket to coderd through an HTTP proxy, chosen from the environment as Go's client does
// (HTTPS_PROXY for wss://, HTTP_PROXY for ws://, NO_PROXY exceptions, never for loopback): an HTTP
// CONNECT tunnel, with TLS to coderd inside it for wss://.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { TlsMaterial } from "./websocket.js";

/** The proxy could not open a tunnel to coderd. */
export class ProxyError extends Error {
  override readonly name = "ProxyError";
}

function env(names: string[], source: NodeJS.ProcessEnv): string | undefined {
  for (const name of names) {
    const value = source[name];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || bare === "::1" || /^127\./.test(bare);
}

function excluded(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = target.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  const port = target.port;
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    const [entryHost, entryPort] = entry.startsWith("[")
      ? [entry.slice(1, entry.indexOf("]")), entry.split("]:")[1]]
      : (entry.split(":") as [string, string | undefined]);
    if (entryPort !== undefined && entryPort !== port) continue;
    const suffix = entryHost.replace(/^\*?\./, "");
    if (host === suffix || host.endsWith(`.${suffix}`)) return true;
  }
  return false;
}

/** The proxy to use for a ws:// or wss:// URL, if any. */
export function proxyFor(target: URL, source: NodeJS.ProcessEnv = process.env): URL | undefined {
  const secure = target.protocol === "wss:" || target.protocol === "https:";
  const value = secure
    ? env(["HTTPS_PROXY", "https_proxy"], source)
    : env(["HTTP_PROXY", "http_proxy"], source);
  if (value === undefined || isLoopback(target.hostname)) return undefined;
  if (excluded(target, env(["NO_PROXY", "no_proxy"], source))) return undefined;
  try {
    return new URL(value.includes("://") ? value : `http://${value}`);
  } catch {
    throw new ProxyError(`the proxy URL in the environment cannot be parsed`);
  }
}

/** Opens a CONNECT tunnel through `proxy` to host:port. */
function connectTunnel(proxy: URL, host: string, port: number, tlsOptions: TlsMaterial) {
  return new Promise<net.Socket>((resolve, reject) => {
    const headers: Record<string, string> = { Host: `${host}:${port}` };
    if (proxy.username !== "") {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers["Proxy-Authorization"] = `Basic ${Buffer.from(credentials).toString("base64")}`;
    }
    const request = (proxy.protocol === "https:" ? https : http).request({
      host: proxy.hostname,
      port: proxy.port === "" ? (proxy.protocol === "https:" ? 443 : 80) : Number(proxy.port),
      method: "CONNECT",
      path: `${host}:${port}`,
      headers,
      ca: tlsOptions.ca,
      agent: false,
    });
    request.once("connect", (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(
          new ProxyError(
            `the proxy ${proxy.host} refused a tunnel to ${host}:${port}: ${response.statusCode} ${response.statusMessage ?? ""}`.trim(),
          ),
        );
        return;
      }
      resolve(socket);
    });
    request.once("error", (error) =>
      reject(new ProxyError(`the proxy ${proxy.host}: ${error.message}`, { cause: error })),
    );
    request.end();
  });
}

type Callback = (error: Error | null, socket?: net.Socket) => void;

/** An agent for `ws` that reaches coderd through the proxy (TLS inside the tunnel for wss). */
export function tunnelAgent(proxy: URL, secure: boolean, tlsOptions: TlsMaterial): http.Agent {
  const createConnection = (
    options: http.ClientRequestArgs & tls.ConnectionOptions,
    callback: Callback,
  ) => {
    const host = String(options.host ?? options.hostname ?? "localhost");
    const port = Number(options.port ?? (secure ? 443 : 80));
    connectTunnel(proxy, host, port, tlsOptions).then(
      (socket) => {
        if (!secure) {
          callback(null, socket);
          return;
        }
        const secured = tls.connect({
          socket,
          servername: options.servername ?? (net.isIP(host) === 0 ? host : undefined),
          ca: tlsOptions.ca,
          cert: tlsOptions.cert,
          key: tlsOptions.key,
        });
        secured.once("secureConnect", () => callback(null, secured));
        secured.once("error", (error) => callback(error));
      },
      (error: Error) => callback(error),
    );
    return undefined;
  };
  const agent = secure
    ? new https.Agent({ keepAlive: false })
    : new http.Agent({ keepAlive: false });
  // Node's agents accept a createConnection that answers through its callback.
  (agent as unknown as { createConnection: typeof createConnection }).createConnection =
    createConnection;
  return agent;
}
