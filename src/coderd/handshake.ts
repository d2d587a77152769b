// The HTTP request that opens a provisioner daemon connection to coderd, for both generations,
// and what its refusals mean. coderd serves daemons on
// GET /api/v2/organizations/{organization}/provisionerdaemons/serve as a WebSocket upgrade.
// Query keys are sorted, as Go's client writes them.
import type { HttpRefusal } from "./transport/websocket.js";

export const PROVISIONER_TYPE = "terraform";
/** The provisioner daemon API minor whose message layout src/coderd/v2 implements. */
export const V2_API_VERSION = "1.18";

export const SESSION_TOKEN_HEADER = "Coder-Session-Token";
export const PSK_HEADER = "Coder-Provisioner-Daemon-PSK";
export const PROVISIONER_KEY_HEADER = "Coder-Provisioner-Daemon-Key";
export const BUILD_VERSION_HEADER = "X-Coder-Build-Version";

/** How the daemon proves itself to a v2 coderd; v0.17 knows session tokens only. */
export type CoderdCredential =
  | { kind: "session-token"; token: string }
  | { kind: "psk"; psk: string }
  | { kind: "provisioner-key"; key: string };

/** Names of the credentials as an operator knows them, for error messages. */
export const CREDENTIAL_NAMES: Record<CoderdCredential["kind"], string> = {
  "session-token": "session token",
  psk: "provisioner daemon PSK",
  "provisioner-key": "provisioner key",
};

/** The daemon's own settings are unusable before anything is sent (tags with a key, …). */
export class HandshakeConfigError extends Error {
  override readonly name = "HandshakeConfigError";
  /** The setting at fault: "tag", "organization", "session-token", "psk", "provisioner-key". */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

export interface ServeRequest {
  url: URL;
  headers: Record<string, string>;
}

function serveUrl(coderUrl: URL, organization: string, query: [string, string][]): URL {
  if (coderUrl.protocol !== "http:" && coderUrl.protocol !== "https:") {
    throw new HandshakeConfigError(
      "coder-url",
      `coder URL "${coderUrl.href}" must start with http:// or https://`,
    );
  }
  const url = new URL(coderUrl.href);
  url.protocol = coderUrl.protocol === "https:" ? "wss:" : "ws:";
  const base = url.pathname.replace(/\/+$/, "");
  url.pathname = `${base}/api/v2/organizations/${encodeURIComponent(organization)}/provisionerdaemons/serve`;
  const sorted = [...query].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  url.search = new URLSearchParams(sorted).toString();
  url.hash = "";
  return url;
}

/** Node's HTTP client refuses header values outside visible ASCII; say which setting it was. */
function headerValue(field: string, what: string, value: string): string {
  if (value === "") throw new HandshakeConfigError(field, `the ${what} is empty`);
  if (/[^\t\x20-\x7e]/.test(value)) {
    throw new HandshakeConfigError(
      field,
      `the ${what} contains characters an HTTP header cannot carry (only printable ASCII)`,
    );
  }
  return value;
}

function tagQuery(tags: Record<string, string>): [string, string][] {
  return Object.entries(tags).map(([key, value]) => {
    if (key === "") throw new HandshakeConfigError("tag", `tag "=${value}" has an empty key`);
    return ["tag", `${key}=${value}`];
  });
}

export interface V017ServeOptions {
  coderUrl: URL;
  /** The organization's UUID (v0.17 accepts nothing else). */
  organization: string;
  sessionToken: string;
  tags: Record<string, string>;
}

/** coderd v0.17: session token, organization UUID, provisioner and tags; no name, no version. */
export function v017ServeRequest(options: V017ServeOptions): ServeRequest {
  if (
    !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(options.organization)
  ) {
    throw new HandshakeConfigError(
      "organization",
      `organization "${options.organization}" is not a UUID; coderd v0.17 needs the organization's id`,
    );
  }
  return {
    url: serveUrl(options.coderUrl, options.organization, [
      ["provisioner", PROVISIONER_TYPE],
      ...tagQuery(options.tags),
    ]),
    headers: {
      [SESSION_TOKEN_HEADER]: headerValue("session-token", "session token", options.sessionToken),
    },
  };
}

export interface V2ServeOptions {
  coderUrl: URL;
  /** Organization UUID or name; undefined = the default organization. */
  organization?: string | undefined;
  credential: CoderdCredential;
  tags: Record<string, string>;
  /** The daemon's name: coderd keeps one row per name, so reconnects keep their jobs. */
  name: string;
  /** Our build version, shown by coderd. */
  buildVersion: string;
  /** API version claimed; the layout we implement by default. */
  apiVersion?: string | undefined;
}

/** coderd v2 (provisioner API 1.x): one credential, daemon name and API version. */
export function v2ServeRequest(options: V2ServeOptions): ServeRequest {
  const { credential } = options;
  const headers: Record<string, string> = {
    [BUILD_VERSION_HEADER]: headerValue("build-version", "build version", options.buildVersion),
  };
  switch (credential.kind) {
    case "provisioner-key":
      if (Object.keys(options.tags).length > 0) {
        throw new HandshakeConfigError(
          "tag",
          "tags cannot be given with a provisioner key: coderd takes the tags from the key",
        );
      }
      headers[PROVISIONER_KEY_HEADER] = headerValue(
        "provisioner-key",
        "provisioner key",
        credential.key,
      );
      break;
    case "psk":
      headers[PSK_HEADER] = headerValue("psk", "provisioner daemon PSK", credential.psk);
      break;
    case "session-token":
      headers[SESSION_TOKEN_HEADER] = headerValue(
        "session-token",
        "session token",
        credential.token,
      );
      break;
  }
  return {
    url: serveUrl(options.coderUrl, options.organization ?? "default", [
      ["name", options.name],
      ["provisioner", PROVISIONER_TYPE],
      ...tagQuery(options.tags),
      ["version", options.apiVersion ?? V2_API_VERSION],
    ]),
    headers,
  };
}

/** Why coderd refused the connection, typed for the daemon: fatal or not, and which setting. */
export class CoderdRefusedError extends Error {
  override readonly name = "CoderdRefusedError";
  readonly status: number;
  /** coderd's own message, detail and validations, as it sent them. */
  readonly refusal: HttpRefusal;
  /** 400, 401, 403 and 404: the same request gets the same answer, so retrying cannot help. */
  readonly fatal: boolean;
  /** The setting coderd named or the message points at, for a 400. */
  readonly field: string | undefined;
  constructor(message: string, refusal: HttpRefusal, field: string | undefined) {
    super(message);
    this.status = refusal.status;
    this.refusal = refusal;
    this.fatal = [400, 401, 403, 404].includes(refusal.status);
    this.field = field;
  }
}

function fieldOf(refusal: HttpRefusal): string | undefined {
  const named = refusal.validations[0]?.field;
  if (named !== undefined) return named === "tags" ? "tag" : named;
  const text = refusal.message;
  if (/\btag\b/i.test(text)) return "tag";
  if (/provisioner (query parameter|type)/i.test(text)) return "provisioner";
  if (/"organization"/.test(text)) return "organization";
  if (/version/i.test(text)) return "version";
  if (/only one is allowed/.test(text)) return "credential";
  return undefined;
}

/**
 * Explains a refusal in one line with coderd's own text. A v2 coderd answers a wrong PSK, a wrong
 * key and a bad token with the same 401, so the line says which credential we sent; a refused
 * version says which one we asked for.
 */
export function explainRefusal(
  refusal: HttpRefusal,
  sent: { credential: CoderdCredential["kind"]; apiVersion?: string | undefined },
): CoderdRefusedError {
  const parts = [refusal.message];
  if (refusal.detail !== undefined) parts.push(refusal.detail);
  for (const v of refusal.validations) parts.push(`${v.field}: ${v.detail}`);
  let text = `coderd refused the provisioner daemon (${refusal.status}): ${parts.join(": ")}`;
  if (refusal.status === 401) {
    text += ` (we sent a ${CREDENTIAL_NAMES[sent.credential]}; check it)`;
  }
  const field = fieldOf(refusal);
  if (refusal.status === 400 && field === "version" && sent.apiVersion !== undefined) {
    text += ` (we asked for provisioner API ${sent.apiVersion})`;
  }
  return new CoderdRefusedError(text, refusal, field);
}
