// Template import, first half: the root module's `variable` blocks become legacy parameter
// schemas or, when the template opts in with
// `provider "coder" { feature_use_managed_variables = true }`, managed template variables.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { orAbort } from "../daemon/abort.js";
import {
  ParameterDestination_Scheme,
  ParameterSchema,
  ParameterSchema_TypeSystem,
  ParameterSource_Scheme,
  TemplateVariable,
} from "../provisioner/model.js";
import type { ParseResult } from "../provisioner/provisioner.js";
import {
  type ConfigFileContents,
  type FileDiagnostic,
  readHclConfig,
  readJsonConfig,
  type VariableBlock,
} from "./config-file.js";
import { containsValues } from "./contains.js";
import { defaultAsText } from "./go-json.js";
import { type ConfigFile, listConfigFiles } from "./template-files.js";

/** Every problem found in a template's configuration, each as `file:line: message`. */
export class TemplateParseError extends Error {
  override readonly name = "TemplateParseError";
  readonly diagnostics: readonly FileDiagnostic[];

  constructor(diagnostics: FileDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.diagnostics = diagnostics;
  }
}

export function formatDiagnostic(d: FileDiagnostic): string {
  return d.line > 0 ? `${d.file}:${d.line}: ${d.message}` : `${d.file}: ${d.message}`;
}

export interface ParseTemplateOptions {
  signal?: AbortSignal;
}

/** Anything larger is not a hand-written template; refuse it rather than stall the parser. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** A variable after override files were merged in, ready to become a schema or variable. */
export type TemplateVariableDefinition = VariableBlock;

export async function parseTemplate(
  directory: string,
  options: ParseTemplateOptions = {},
): Promise<ParseResult> {
  const { variables, managedVariables } = await readTemplateVariables(directory, options);
  if (managedVariables) {
    return { templateVariables: variables.map(toTemplateVariable), parameterSchemas: [] };
  }
  return { templateVariables: [], parameterSchemas: variables.map(toParameterSchema) };
}

/**
 * The module's variables ordered by (file, line), and whether managed variables are on.
 * Throws TemplateParseError with every diagnostic of every file.
 */
export async function readTemplateVariables(
  directory: string,
  { signal }: ParseTemplateOptions = {},
): Promise<{ variables: TemplateVariableDefinition[]; managedVariables: boolean }> {
  signal?.throwIfAborted();
  let files: ConfigFile[];
  try {
    files = await listConfigFiles(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TemplateParseError([
      { file: ".", line: 0, message: `cannot read the template directory (${code})` },
    ]);
  }

  const diagnostics: FileDiagnostic[] = [];
  const contents: { file: ConfigFile; contents: ConfigFileContents }[] = [];
  for (const file of files) {
    signal?.throwIfAborted();
    const source = await readConfigSource(directory, file, diagnostics, signal);
    if (source === undefined) continue;
    const parsed =
      file.syntax === "hcl"
        ? await orAbort(readHclConfig(file, source), signal)
        : readJsonConfig(file, source);
    diagnostics.push(...parsed.diagnostics);
    contents.push({ file, contents: parsed });
  }

  const variables = mergeVariables(contents, diagnostics);
  if (diagnostics.length > 0) throw new TemplateParseError(diagnostics);

  // The first file (in name order) that sets the flag decides, as in the reference.
  const flag = contents.find((c) => c.contents.managedVariables)?.contents.managedVariables;
  return { variables, managedVariables: flag?.value ?? false };
}

/** A configuration file's text; a problem (not a file, too large, not UTF-8) is a diagnostic. */
export async function readConfigSource(
  directory: string,
  file: ConfigFile,
  diagnostics: FileDiagnostic[],
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const path = join(directory, file.name);
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      diagnostics.push({ file: file.name, line: 0, message: "not a regular file" });
      return undefined;
    }
    if (info.size > MAX_FILE_BYTES) {
      diagnostics.push({
        file: file.name,
        line: 0,
        message: `file is too large (${info.size} bytes, at most ${MAX_FILE_BYTES})`,
      });
      return undefined;
    }
    const bytes = await readFile(path, signal ? { signal } : {});
    return decodeUtf8(bytes, file.name, diagnostics);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    diagnostics.push({ file: file.name, line: 0, message: `cannot read file (${code})` });
    return undefined;
  }
}

function decodeUtf8(
  bytes: Uint8Array,
  file: string,
  diagnostics: FileDiagnostic[],
): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const lossy = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    const bad = lossy.indexOf("\uFFFD");
    const line = bad < 0 ? 0 : lossy.slice(0, bad).split("\n").length;
    diagnostics.push({ file, line, message: "Invalid UTF-8: the file is not valid UTF-8 text" });
    return undefined;
  }
}

/**
 * Primary files declare variables (a second declaration of a name is an error, as in
 * Terraform); override files (`override.tf`, `*_override.tf`) replace the attributes they
 * mention of an existing declaration, which keeps its position.
 */
function mergeVariables(
  contents: { file: ConfigFile; contents: ConfigFileContents }[],
  diagnostics: FileDiagnostic[],
): TemplateVariableDefinition[] {
  const byName = new Map<string, TemplateVariableDefinition>();
  for (const { file, contents: c } of contents) {
    if (file.override) continue;
    for (const v of c.variables) {
      const existing = byName.get(v.name);
      if (existing) {
        diagnostics.push({
          file: v.file,
          line: v.line,
          message: `Duplicate variable declaration: a variable named "${v.name}" was already declared at ${existing.file}:${existing.line}; variable names must be unique within a module`,
        });
        continue;
      }
      byName.set(v.name, { ...v });
    }
  }
  for (const { file, contents: c } of contents) {
    if (!file.override) continue;
    for (const v of c.variables) {
      const base = byName.get(v.name);
      if (!base) {
        diagnostics.push({
          file: v.file,
          line: v.line,
          message: `Missing base variable declaration to override: there is no variable named "${v.name}"; an override file can only override a variable that was already declared in a primary configuration file`,
        });
        continue;
      }
      const { name: _n, file: _f, line: _l, ...attributes } = v;
      Object.assign(base, attributes);
    }
  }
  return [...byName.values()].sort((a, b) =>
    a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1,
  );
}

function nonNullDefault(v: VariableBlock): string | undefined {
  if (!v.default || v.default.value === null || v.default.value === undefined) return undefined;
  return defaultAsText(v.default.value);
}

export function toParameterSchema(v: TemplateVariableDefinition): ParameterSchema {
  const sensitive = v.sensitive ?? false;
  const defaultValue = nonNullDefault(v);
  const schema = ParameterSchema.create({
    name: v.name,
    description: v.description ?? "",
    allowOverrideSource: !sensitive,
    defaultDestination: { scheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE },
    allowOverrideDestination: false,
    redisplayValue: !sensitive,
    validationValueType: v.type ?? "",
  });
  if (defaultValue !== undefined) {
    schema.defaultSource = { scheme: ParameterSource_Scheme.DATA, value: defaultValue };
  }
  // Only the first validation block counts, and only if it has a condition (reference).
  const first = v.validations?.[0];
  if (first && first.condition !== "") {
    schema.validationCondition = first.condition;
    schema.validationError = first.errorMessage;
    schema.validationTypeSystem = ParameterSchema_TypeSystem.HCL;
    schema.validationContains = safeContainsValues(first.condition);
  }
  return schema;
}

function safeContainsValues(condition: string): string[] {
  try {
    return containsValues(condition);
  } catch {
    // e.g. `contains(local.regions, var.x)`: Terraform evaluates it; there is no list to offer.
    return [];
  }
}

export function toTemplateVariable(v: TemplateVariableDefinition): TemplateVariable {
  const defaultValue = nonNullDefault(v);
  return TemplateVariable.create({
    name: v.name,
    description: v.description ?? "",
    type: v.type ?? "",
    defaultValue: defaultValue ?? "",
    required: defaultValue === undefined,
    sensitive: v.sensitive ?? false,
  });
}
