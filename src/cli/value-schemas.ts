// Zod schemas for the kinds of values flags carry. Each failure message says what is expected
// and echoes what was given (never for secrets), so one line is enough to fix the input.
import { accessSync, constants, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { parseDuration } from "./durations.js";
import { parseKeyValue } from "./key-values.js";

const shown = (value: string) => JSON.stringify(value);

/** A string that must be present; `missing` explains what to give. */
export function requiredString(missing: string) {
  return z.string({ error: missing }).refine((value) => value.trim() !== "", { error: missing });
}

export const durationMs = z.string().transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration such as 500ms, 1s, 1m30s or 10m, got ${shown(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A whole number; `min` only for limits of the CLI's own (the daemon's come from its schema). */
export function integer(what: string, min = Number.MIN_SAFE_INTEGER) {
  return z.string().transform((value, ctx) => {
    const trimmed = value.trim();
    const parsed = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min) {
      ctx.addIssue({ code: "custom", message: `expected ${what}, got ${shown(value)}` });
      return z.NEVER;
    }
    return parsed;
  });
}

export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.string().transform((value, ctx) => {
    const match = values.find((candidate) => candidate === value.trim().toLowerCase());
    if (match === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `expected one of ${values.join(", ")}, got ${shown(value)}`,
      });
      return z.NEVER;
    }
    return match as Values[number];
  });
}

/** Repeatable `key=value` flags into a record; a repeated key keeps the last value. */
export function keyValues(what: string) {
  return z
    .array(z.string())
    .default([])
    .transform((items, ctx) => {
      const record: Record<string, string> = {};
      for (const item of items) {
        const pair = parseKeyValue(item);
        if (!pair) {
          ctx.addIssue({
            code: "custom",
            message: `expected ${what} as key=value, got ${shown(item)}`,
          });
          return z.NEVER;
        }
        record[pair.key] = pair.value;
      }
      return record;
    });
}

/** A URL with a host and one of `schemes` (without "://"), named in the error as written. */
function urlWithScheme(schemes: readonly string[], example: string) {
  const names = schemes.map((scheme) => `${scheme}://`);
  const expected =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
  return z.string().transform((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value.trim());
    } catch {
      url = undefined;
    }
    if (!url || !schemes.includes(url.protocol.slice(0, -1)) || url.hostname === "") {
      ctx.addIssue({
        code: "custom",
        message: `expected an ${expected} URL such as ${example}, got ${shown(value)}`,
      });
      return z.NEVER;
    }
    return url;
  });
}

/** coderd's URL: http(s):// for a real coderd, grpc(s):// for our own gRPC protocol. */
export const coordinatorUrl = (example: string) =>
  urlWithScheme(["http", "https", "grpc", "grpcs"], example);

export const httpUrl = (example: string) => urlWithScheme(["http", "https"], example);

export interface ListenAddress {
  host: string;
  port: number;
}

/** `host:port`, `:port` (all interfaces) or `[v6]:port`; port 0 picks a free port. */
export const listenAddress = z.string().transform((value, ctx): ListenAddress => {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65_535) {
    ctx.addIssue({
      code: "custom",
      message: `expected host:port such as 127.0.0.1:2112 or :2112, got ${shown(value)}`,
    });
    return z.NEVER;
  }
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
});

export type ProviderMirror =
  | { kind: "filesystem"; path: string }
  | { kind: "network"; url: string };

/** A directory laid out as a Terraform filesystem mirror, or the URL of a network mirror. */
export const providerMirror = z.string().transform((value, ctx): ProviderMirror => {
  const trimmed = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    let url: URL | undefined;
    try {
      url = new URL(trimmed);
    } catch {
      url = undefined;
    }
    if (url?.protocol !== "https:") {
      // Terraform itself only accepts https network mirrors.
      ctx.addIssue({
        code: "custom",
        message: `expected a directory or an https:// network mirror URL, got ${shown(value)}`,
      });
      return z.NEVER;
    }
    // Terraform requires the trailing slash on a network mirror's base URL.
    const href = url.href.endsWith("/") ? url.href : `${url.href}/`;
    return { kind: "network", url: href };
  }
  const absolute = path.resolve(trimmed);
  if (!isDirectory(absolute)) {
    ctx.addIssue({
      code: "custom",
      message: `expected a provider mirror directory or an https:// URL, but ${shown(value)} is not a directory`,
    });
    return z.NEVER;
  }
  return { kind: "filesystem", path: absolute };
});

/** A readable file, returned as an absolute path. */
export const readableFile = z.string().transform((value, ctx) => {
  const absolute = path.resolve(value.trim());
  try {
    if (!statSync(absolute).isFile()) throw new Error("not a file");
    accessSync(absolute, constants.R_OK);
  } catch {
    ctx.addIssue({ code: "custom", message: `expected a readable file, got ${shown(value)}` });
    return z.NEVER;
  }
  return absolute;
});

/**
 * A readable PEM file whose content `check` accepts (see the daemon's pem*Problem), so a wrong
 * file is named with its flag before the daemon starts.
 */
export function pemFile(what: string, check: (pem: Buffer) => string | undefined) {
  return readableFile.transform((file, ctx) => {
    const problem = check(readFileSync(file));
    if (problem === undefined) return file;
    ctx.addIssue({ code: "custom", message: `expected ${what}, got ${shown(file)}: ${problem}` });
    return z.NEVER;
  });
}

/** A directory path (created later if missing), returned absolute. */
export const directoryPath = z.string().transform((value, ctx) => {
  const trimmed = value.trim();
  if (trimmed === "") {
    ctx.addIssue({ code: "custom", message: "expected a directory path, got an empty value" });
    return z.NEVER;
  }
  const absolute = path.resolve(trimmed);
  if (exists(absolute) && !isDirectory(absolute)) {
    ctx.addIssue({
      code: "custom",
      message: `expected a directory, but ${shown(value)} is a file`,
    });
    return z.NEVER;
  }
  return absolute;
});

/** A file path that may not exist yet (it is written later), returned absolute. */
export const filePath = z.string().transform((value, ctx) => {
  const trimmed = value.trim();
  if (trimmed === "") {
    ctx.addIssue({ code: "custom", message: "expected a file path, got an empty value" });
    return z.NEVER;
  }
  const absolute = path.resolve(trimmed);
  if (isDirectory(absolute)) {
    ctx.addIssue({
      code: "custom",
      message: `expected a file, but ${shown(value)} is a directory`,
    });
    return z.NEVER;
  }
  return absolute;
});

/** A program name looked up on PATH, or a path to an executable; returned as an absolute path. */
export function executable(searchPath: string | undefined) {
  return z.string().transform((value, ctx) => {
    const found = findExecutable(value.trim(), searchPath);
    if (found === undefined) {
      const where = value.includes("/") ? "is not an executable file" : "was not found on PATH";
      ctx.addIssue({ code: "custom", message: `${shown(value)} ${where}` });
      return z.NEVER;
    }
    return found;
  });
}

export function findExecutable(name: string, searchPath: string | undefined): string | undefined {
  if (name === "") return undefined;
  const candidates = name.includes("/")
    ? [path.resolve(name)]
    : (searchPath ?? "")
        .split(path.delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => path.join(dir, name));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  });
}

function exists(target: string): boolean {
  try {
    statSync(target);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(target: string): boolean {
  try {
    return statSync(target).isDirectory();
  } catch {
    return false;
  }
}
