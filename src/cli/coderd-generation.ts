// Which coderd generation an http(s):// URL points at. Both generations answer
// GET /api/v2/buildinfo with their release version ("v0.17.4+…", "v2.18.0+…") without
// authentication, so the daemon can pick its adapter before it dials.
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { z } from "zod";
import type { CoderdApi } from "./start-config.js";

const BUILD_INFO_TIMEOUT_MS = 10_000;
const BUILD_INFO_MAX_BYTES = 64 * 1024;

const BuildInfo = z.object({ version: z.string() });

export type GenerationChoice =
  | { api: CoderdApi; version: string }
  | { api: "v2"; version: undefined; problem: string };

export interface BuildInfoTls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
}

/** The generation coderd's buildinfo names; v2 with the reason when it cannot be read. */
export async function detectCoderdApi(
  coderUrl: URL,
  tls: BuildInfoTls,
  signal?: AbortSignal,
): Promise<GenerationChoice> {
  let version: string;
  try {
    const url = buildInfoUrl(coderUrl);
    const info = BuildInfo.safeParse(await getJson(url, tls, signal));
    if (!info.success) throw new Error(`${url.href} did not name a version`);
    version = info.data.version;
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    return { api: "v2", version: undefined, problem };
  }
  const major = /^v?(\d+)\./.exec(version)?.[1];
  if (major === "0") return { api: "v0.17", version };
  if (major === "2") return { api: "v2", version };
  return { api: "v2", version: undefined, problem: `unknown coderd version "${version}"` };
}

function buildInfoUrl(coderUrl: URL): URL {
  const url = new URL(coderUrl.href);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/api/v2/buildinfo`;
  url.search = "";
  url.hash = "";
  return url;
}

function getJson(url: URL, tls: BuildInfoTls, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(BUILD_INFO_TIMEOUT_MS);
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { method: "GET", signal: combined, ca: tls.ca, cert: tls.cert, key: tls.key },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > BUILD_INFO_MAX_BYTES) {
            request.destroy(
              new Error(`${url.href}: answer larger than ${BUILD_INFO_MAX_BYTES} bytes`),
            );
            return;
          }
          chunks.push(chunk);
        });
        response.on("end", () => {
          if (response.statusCode !== 200) {
            reject(new Error(`${url.href} answered HTTP ${response.statusCode}`));
            return;
          }
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          } catch {
            reject(new Error(`${url.href} did not answer JSON`));
          }
        });
        response.on("error", reject);
      },
    );
    request.on("error", (error) =>
      reject(
        timeout.aborted
          ? new Error(`${url.href}: no answer within ${BUILD_INFO_TIMEOUT_MS / 1000} s`)
          : error,
      ),
    );
    request.end();
  });
}
