// wss:// to coderd: trusting a CA bundle, presenting a client certificate, and reaching coderd
// through an HTTP CONNECT proxy (from HTTPS_PROXY / HTTP_PROXY, NO_PROXY as Go reads them).
// Certificates are made at run time, so no private key is committed.
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connectCoderd } from "../../src/coderd/connection.js";
import { v017ServeRequest } from "../../src/coderd/handshake.js";
import { DrpcServer } from "../../src/coderd/transport/drpc.js";
import { ProxyError, proxyFor } from "../../src/coderd/transport/proxy.js";
import { createSelfSignedCertificate } from "../fixtures/coder-provider/src/cert.js";
import { startWsDrpcServer, type WsDrpcServer } from "./ws-drpc-server.js";

const ORG = "8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab";
const coderd = createSelfSignedCertificate();
const client = createSelfSignedCertificate({ commonName: "provisionerd" });
const stranger = createSelfSignedCertificate();

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function echoServer(tls?: {
  key: string;
  cert: string;
  clientCa?: string;
}): Promise<WsDrpcServer> {
  const server = await startWsDrpcServer({
    tls,
    serverFor: () => new DrpcServer().unary("/t.S/Echo", async (r) => r),
  });
  cleanups.push(() => server.close());
  return server;
}

async function echoOver(server: WsDrpcServer, options: Parameters<typeof connectCoderd>[1]) {
  const connection = await connectCoderd(
    v017ServeRequest({ coderUrl: server.url, organization: ORG, sessionToken: "t", tags: {} }),
    options,
  );
  try {
    return (await connection.drpc.unary("/t.S/Echo", Buffer.from("ping ü"))).toString();
  } finally {
    connection.close();
  }
}

/** A CONNECT proxy that records the targets it tunnelled to. */
async function connectProxy(refuse = false) {
  const targets: string[] = [];
  const sockets: Socket[] = [];
  const proxy = createServer((socket) => {
    sockets.push(socket);
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const target = head.split(" ")[1] as string;
      targets.push(target);
      if (refuse) {
        socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
      }
      const [host, port] = target.split(":");
      const upstream = connect(Number(port), host as string, () => {
        socket.write("HTTP/1.1 200 Connection established\r\n\r\n");
        const rest = Buffer.from(head.slice(end + 4), "latin1");
        if (rest.length > 0) upstream.write(rest);
        socket.pipe(upstream).pipe(socket);
      });
      sockets.push(upstream);
      upstream.on("error", () => socket.destroy());
    };
    socket.on("data", onData);
    socket.on("error", () => undefined);
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    proxy.close();
  });
  return { url: new URL(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`), targets };
}

describe("TLS to coderd", () => {
  const serverTls = { key: coderd.keyPem, cert: coderd.certPem };

  it("trusts coderd through the CA bundle, and refuses it without", async () => {
    const server = await echoServer(serverTls);
    expect(
      await echoOver(server, {
        credential: "session-token",
        proxy: null,
        tls: { ca: Buffer.from(coderd.certPem) },
      }),
    ).toBe("ping ü");
    await expect(
      echoOver(server, {
        credential: "session-token",
        proxy: null,
        tls: { ca: Buffer.from(stranger.certPem) },
      }),
    ).rejects.toThrow(/certificate/i);
  });

  it("presents a client certificate when coderd requires one", async () => {
    const server = await echoServer({ ...serverTls, clientCa: client.certPem });
    const ca = Buffer.from(coderd.certPem);
    expect(
      await echoOver(server, {
        credential: "session-token",
        proxy: null,
        tls: { ca, cert: Buffer.from(client.certPem), key: Buffer.from(client.keyPem) },
      }),
    ).toBe("ping ü");
    await expect(
      echoOver(server, { credential: "session-token", proxy: null, tls: { ca } }),
    ).rejects.toThrow();
  });
});

describe("HTTP proxy", () => {
  it("tunnels ws:// and wss:// through CONNECT", async () => {
    const proxy = await connectProxy();
    const plain = await echoServer();
    expect(await echoOver(plain, { credential: "session-token", proxy: proxy.url })).toBe("ping ü");
    const secure = await echoServer({ key: coderd.keyPem, cert: coderd.certPem });
    expect(
      await echoOver(secure, {
        credential: "session-token",
        proxy: proxy.url,
        tls: { ca: Buffer.from(coderd.certPem) },
      }),
    ).toBe("ping ü");
    expect(proxy.targets).toEqual([`127.0.0.1:${plain.port}`, `127.0.0.1:${secure.port}`]);
  });

  it("a proxy that refuses the tunnel is a ProxyError naming the proxy", async () => {
    const proxy = await connectProxy(true);
    const server = await echoServer();
    const failure = await echoOver(server, { credential: "session-token", proxy: proxy.url }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ProxyError);
    expect(String((failure as Error).message)).toContain("403");
  });

  it("picks the proxy from the environment as Go does", () => {
    const env = {
      HTTPS_PROXY: "http://proxy:3128",
      HTTP_PROXY: "http://plain:80",
      NO_PROXY: ".internal,exact.example:8443",
    };
    expect(proxyFor(new URL("wss://coder.example.com/x"), env)?.host).toBe("proxy:3128");
    expect(proxyFor(new URL("ws://coder.example.com/x"), env)?.host).toBe("plain");
    expect(proxyFor(new URL("wss://coder.internal/x"), env)).toBeUndefined();
    expect(proxyFor(new URL("wss://exact.example:8443/x"), env)).toBeUndefined();
    expect(proxyFor(new URL("wss://exact.example:9443/x"), env)?.host).toBe("proxy:3128");
    expect(proxyFor(new URL("wss://127.0.0.1:1/x"), env)).toBeUndefined();
    expect(proxyFor(new URL("wss://coder.example.com/x"), {})).toBeUndefined();
  });
});
