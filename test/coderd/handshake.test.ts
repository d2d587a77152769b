// The upgrade request we send matches what coderd's own Go client sends (route, sorted query,
// credential and version headers, no compression offered), and every refusal coderd is known to
// answer reaches the caller as a typed error carrying coderd's text.
import { once } from "node:events";
import { readdirSync, readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { connectCoderd } from "../../src/coderd/connection.js";
import {
  type CoderdCredential,
  CoderdRefusedError,
  HandshakeConfigError,
  v2ServeRequest,
  v017ServeRequest,
} from "../../src/coderd/handshake.js";
import { sharedData } from "../helpers/shared-data.js";

interface HttpLine {
  dir: "c2s" | "s2c";
  layer: string;
  hex: string;
  decoded: {
    start_line: string;
    headers: [string, string][] | null;
    status: number | null;
    body_json?: {
      message: string;
      detail?: string;
      validations?: { field: string; detail: string }[];
    };
  };
}

function httpLines(path: string): HttpLine[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as HttpLine)
    .filter((l) => l.layer === "http");
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A server that accepts the upgrade and hands back the request it saw. */
async function upgradeRecorder(): Promise<{ port: number; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createHttpServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request, socket, head) => {
    requests.push(request);
    wss.handleUpgrade(request, socket, head, (ws) => ws.close(1000));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => {
    wss.close();
    server.close();
    server.closeAllConnections();
  });
  return { port: (server.address() as AddressInfo).port, requests };
}

/** A server that answers any request with recorded bytes. */
async function replayServer(response: Buffer): Promise<number> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let seen = "";
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1");
      if (seen.includes("\r\n\r\n")) socket.end(response);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

function requestTarget(startLine: string): URL {
  return new URL(startLine.split(" ")[1] as string, "http://x");
}

/** Our request for the inputs the recorded request carries. */
function ourRequest(layout: string, recorded: HttpLine, port: number) {
  const target = requestTarget(recorded.decoded.start_line);
  const headers = recorded.decoded.headers ?? [];
  const organization = target.pathname.split("/")[4] as string;
  const tags = Object.fromEntries(
    target.searchParams
      .getAll("tag")
      .map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]),
  );
  const coderUrl = new URL(`http://127.0.0.1:${port}`);
  const token =
    header(headers, "Coder-Session-Token") ??
    target.searchParams.get("coder_session_token") ??
    header(headers, "Cookie")?.replace(/^coder_session_token=/, "");
  if (layout === "v0.17.4") {
    return {
      request: v017ServeRequest({ coderUrl, organization, sessionToken: token as string, tags }),
      credential: "session-token" as const,
    };
  }
  const key = header(headers, "Coder-Provisioner-Daemon-Key");
  const psk = header(headers, "Coder-Provisioner-Daemon-Psk");
  const credential: CoderdCredential =
    key !== undefined
      ? { kind: "provisioner-key", key }
      : psk !== undefined
        ? { kind: "psk", psk }
        : { kind: "session-token", token: token as string };
  return {
    request: v2ServeRequest({
      coderUrl,
      organization,
      credential,
      tags,
      name: target.searchParams.get("name") ?? "daemon",
      buildVersion: header(headers, "X-Coder-Build-Version") ?? "v0",
    }),
    credential: credential.kind,
  };
}

for (const layout of ["v0.17.4", "v2-api-1.18"] as const) {
  const dir = sharedData(`coderd-wire/transcripts/${layout}`);
  describe.skipIf(!dir.ok)(`coderd ${layout} handshake`, () => {
    const files = dir.ok ? readdirSync(dir.path).sort() : [];
    for (const file of files.filter((f) => f.startsWith("upgrade"))) {
      it(`sends what the Go client sent: ${file}`, async () => {
        const [recorded] = httpLines(join(dir.path, file));
        if (recorded === undefined) throw new Error("no request line");
        const { port, requests } = await upgradeRecorder();
        const { request, credential } = ourRequest(layout, recorded, port);
        const connection = await connectCoderd(request, { credential, keepaliveIntervalMs: 0 });
        connection.close();
        const seen = requests[0] as IncomingMessage;
        const expected = requestTarget(recorded.decoded.start_line);
        const got = new URL(seen.url as string, "http://x");
        expect(got.pathname).toBe(expected.pathname);
        // Go sends version twice (coderd reads the first); once is what we send. We always send
        // the token as a header, where the Go client may use the query.
        const dedupe = (u: URL) => [
          ...new Set(
            [...u.searchParams]
              .filter(([k]) => k !== "coder_session_token")
              .map(([k, v]) => `${k}=${v}`),
          ),
        ];
        expect(dedupe(got)).toEqual(dedupe(expected));
        if (!file.includes("query") && !(layout === "v0.17.4" && file === "upgrade.jsonl")) {
          expect(got.search).toBe(expected.search.replace(/&version=1\.18(?=&version)/, ""));
        }
        for (const name of [
          "Coder-Session-Token",
          "Coder-Provisioner-Daemon-Key",
          "Coder-Provisioner-Daemon-Psk",
          "X-Coder-Build-Version",
        ]) {
          const want = header(recorded.decoded.headers ?? [], name);
          if (want !== undefined) expect(seen.headers[name.toLowerCase()]).toBe(want);
        }
        expect(seen.headers["sec-websocket-version"]).toBe("13");
        expect(seen.headers["sec-websocket-extensions"]).toBeUndefined();
      });
    }
    for (const file of files.filter((f) => f.startsWith("refusal-"))) {
      it(`reports coderd's refusal: ${file}`, async () => {
        const [request, response] = httpLines(join(dir.path, file));
        if (request === undefined || response === undefined) throw new Error("incomplete");
        const port = await replayServer(Buffer.from(response.hex, "hex"));
        const credential: CoderdCredential["kind"] = file.includes("psk")
          ? "psk"
          : file.includes("provisioner-key")
            ? "provisioner-key"
            : "session-token";
        const failure = await connectCoderd(
          {
            url: new URL(`ws://127.0.0.1:${port}/api/v2/organizations/o/provisionerdaemons/serve`),
            headers: {},
          },
          { credential, apiVersion: "1.18", keepaliveIntervalMs: 0 },
        ).catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(CoderdRefusedError);
        const refused = failure as CoderdRefusedError;
        const body = response.decoded.body_json;
        expect(refused.status).toBe(response.decoded.status);
        expect(refused.refusal.message).toBe(body?.message);
        expect(refused.refusal.detail).toBe(body?.detail);
        expect(refused.refusal.validations).toEqual(body?.validations ?? []);
        expect(refused.message).toContain(body?.message);
        expect(refused.fatal).toBe(true);
        if (refused.status === 400) expect(refused.field).toBeDefined();
        if (file.includes("version")) {
          expect(refused.field).toBe("version");
          expect(refused.message).toContain("we asked for provisioner API 1.18");
        }
        if (refused.status === 401) {
          expect(refused.message).toMatch(
            /we sent a (session token|provisioner daemon PSK|provisioner key)/,
          );
          if (credential === "psk") expect(refused.message).toContain("provisioner daemon PSK");
        }
      });
    }
  });
}

describe("serve request settings", () => {
  const coderUrl = new URL("https://coder.example.com/");
  it("v2: tags with a provisioner key are refused before dialling", () => {
    expect(() =>
      v2ServeRequest({
        coderUrl,
        credential: { kind: "provisioner-key", key: "k" },
        tags: { pool: "gpu" },
        name: "d",
        buildVersion: "v1",
      }),
    ).toThrow(HandshakeConfigError);
  });
  it("a credential Node cannot put in a header is named", () => {
    const error = (() => {
      try {
        v2ServeRequest({
          coderUrl,
          credential: { kind: "psk", psk: "clé" },
          tags: {},
          name: "d",
          buildVersion: "v1",
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HandshakeConfigError);
    expect(error).toMatchObject({ field: "psk" });
    expect(String((error as Error).message)).not.toContain("clé");
  });
  it("v0.17 needs the organization's UUID, and https becomes wss under the URL's path", () => {
    expect(() =>
      v017ServeRequest({ coderUrl, organization: "default", sessionToken: "t", tags: {} }),
    ).toThrow(/not a UUID/);
    const { url } = v017ServeRequest({
      coderUrl: new URL("https://coder.example.com/base/"),
      organization: "8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab",
      sessionToken: "t",
      tags: { scope: "organization", "owner name": "a b" },
    });
    expect(url.href).toBe(
      "wss://coder.example.com/base/api/v2/organizations/8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab/provisionerdaemons/serve?provisioner=terraform&tag=scope%3Dorganization&tag=owner+name%3Da+b",
    );
  });
});
