// Terraform's diagnostics (its errors and warnings): where they point, the lines a job log shows
// for them, and the one-line reason a failed command's error carries instead of its exit status.
// `-json` commands (plan, apply) give them as objects; `init` prints them as text, read back here.
import { basename } from "node:path";
import { z } from "zod";
import { varFileName } from "./var-file.js";

/** One diagnostic of terraform's `-json` output (the fields used here; malformed parts dropped). */
export const diagnosticSchema = z.object({
  severity: z.string().optional(),
  summary: z.string().optional(),
  detail: z.string().optional(),
  range: z
    .object({ filename: z.string(), start: z.object({ line: z.number().int() }) })
    .optional()
    .catch(undefined),
  snippet: z
    .object({
      code: z.string(),
      start_line: z.number().int(),
      values: z
        .array(z.object({ traversal: z.string(), statement: z.string() }))
        .nullish()
        .catch(undefined),
    })
    .optional()
    .catch(undefined),
});

export type Diagnostic = z.infer<typeof diagnosticSchema>;

/**
 * Where the diagnostic points: `main.tf:13`, or `variable "region"` when it points into the var
 * file the provisioner wrote for the plan's values (a file the template's author never sees,
 * and removed after the plan).
 */
export function diagnosticLocation(diagnostic: Diagnostic): string | undefined {
  const range = diagnostic.range;
  if (range === undefined) return undefined;
  if (isVarFile(range.filename)) {
    const name = /^\s*([A-Za-z_][\w-]*)\s*=/.exec(diagnostic.snippet?.code ?? "")?.[1];
    return name === undefined ? "a variable value" : `variable "${name}"`;
  }
  return `${range.filename}:${range.start.line}`;
}

/** `main.tf:13: Invalid value for variable` (the summary alone without a location). */
export function diagnosticHeadline(diagnostic: Diagnostic): string {
  const summary = diagnostic.summary ?? "";
  const location = diagnosticLocation(diagnostic);
  return location === undefined ? summary : `${location}: ${summary}`;
}

/**
 * The configuration lines a diagnostic points at (`  13:   default = "x"`) and the values
 * terraform found in them. Never for the var file: its lines are the given values themselves,
 * sensitive ones included (terraform prints them there unmasked).
 */
export function snippetLines(diagnostic: Diagnostic): string[] {
  const snippet = diagnostic.snippet;
  if (snippet === undefined || diagnostic.range === undefined) return [];
  if (isVarFile(diagnostic.range.filename)) return [];
  const lines = snippet.code
    .split("\n")
    .map((code, i) => `  ${snippet.start_line + i}: ${code}`.trimEnd());
  for (const value of snippet.values ?? []) lines.push(`    ${value.traversal} ${value.statement}`);
  return lines;
}

/** Longest first paragraph of a detail that a one-line error carries. */
const maxReasonDetail = 300;

/**
 * The reason a failed command's error carries: the first error's location, summary and the first
 * paragraph of its detail, and how many more errors the log holds. Undefined without errors.
 */
export function errorReason(diagnostics: readonly Diagnostic[]): string | undefined {
  const errors = diagnostics.filter((d) => d.severity === "error" && (d.summary ?? "") !== "");
  const first = errors[0];
  if (first === undefined) return undefined;
  let reason = diagnosticHeadline(first);
  const detail = firstParagraph(first.detail ?? "");
  if (detail !== "") {
    const cut = detail.length > maxReasonDetail ? `${detail.slice(0, maxReasonDetail)}…` : detail;
    reason += `: ${cut}`;
  }
  const more = errors.length - 1;
  if (more > 0) reason += ` (and ${more} more error${more === 1 ? "" : "s"} in the log)`;
  return reason;
}

/**
 * A module that could not be fetched from a remote source (git, https, a registry): terraform
 * downloads modules during init, and a provider mirror holds providers only, so on a host
 * without network such a module can only come from the template itself. Undefined for any
 * other diagnostic.
 */
export function moduleSourceHint(diagnostic: Diagnostic): string | undefined {
  const detail = (diagnostic.detail ?? "").replace(/\s+/g, " ");
  const download =
    /Could not download module "([^"]+)" \(([^)]+)\) source code from "([^"]+)"/.exec(detail);
  const registry =
    /Failed to retrieve available versions for module "([^"]+)" \(([^)]+)\) from ([^\s:]+)/.exec(
      detail,
    );
  const match = download ?? registry;
  if (match === null) return undefined;
  const [, name, location, from] = match;
  const source = download !== null ? `"${from}"` : `the module registry ${from}`;
  return (
    `Module "${name}" (${location}) is downloaded from ${source} by terraform init, and a ` +
    "provider mirror holds providers only, never modules: on a host without network access, put " +
    `the module's files into the template and use a local path (source = "./modules/${name}").`
  );
}

/**
 * Diagnostics from terraform's human-readable output (`-no-color`), as `init` prints them on
 * stderr: a `Error: <summary>` or `Warning: <summary>` line, an optional `on <file> line <n>`
 * location with the source lines, then the detail, wrapped at 78 columns.
 */
export function parsePlainDiagnostics(text: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  let current: { diagnostic: Diagnostic; paragraphs: string[][] } | undefined;
  const finish = () => {
    if (current === undefined) return;
    const detail = current.paragraphs
      .filter((p) => p.length > 0)
      .map((p) => p.join(" "))
      .join("\n\n");
    if (detail !== "") current.diagnostic.detail = detail;
    diagnostics.push(current.diagnostic);
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    const headline = /^(Error|Warning): (.+)$/.exec(line);
    if (headline !== null) {
      finish();
      current = {
        diagnostic: { severity: headline[1]?.toLowerCase(), summary: headline[2]?.trim() },
        paragraphs: [],
      };
      continue;
    }
    if (current === undefined) continue;
    const location = /^ {2}on (.+) line (\d+)(?:, in .*)?:$/.exec(line);
    if (location !== null && current.paragraphs.length === 0) {
      current.diagnostic.range = {
        filename: location[1] as string,
        start: { line: Number(location[2]) },
      };
      continue;
    }
    // The source lines and values under a location are not part of the detail.
    if (current.diagnostic.range !== undefined && current.paragraphs.length === 0) {
      if (/^\s+(\d+:|[├│])/.test(line)) continue;
    }
    if (line.trim() === "") {
      const last = current.paragraphs.at(-1);
      if (last !== undefined && last.length > 0) current.paragraphs.push([]);
      continue;
    }
    if (current.paragraphs.length === 0) current.paragraphs.push([]);
    current.paragraphs.at(-1)?.push(line.trim());
  }
  finish();
  return diagnostics;
}

function firstParagraph(detail: string): string {
  return (detail.trim().split(/\n\s*\n/)[0] ?? "").replace(/\s+/g, " ").trim();
}

function isVarFile(filename: string): boolean {
  return basename(filename) === varFileName;
}
