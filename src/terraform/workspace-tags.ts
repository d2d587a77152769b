// Workspace tags: the `tags` map of a template's `data "coder_workspace_tags"` blocks. coderd
// stores each tag's value as the expression written in the template and evaluates it for every
// workspace build with that build's variable and parameter values, to route the build to
// provisioners carrying those tags. A template import reports the expressions, and evaluates
// them here with the defaults (variables' `default`, `coder_parameter`s' `default`), as coderd
// does before it accepts a template version, so that a tag coderd could never evaluate fails
// the import with the file and tag named instead of every later build.
//
// As in Coder, only the root module's `.tf` files are read, a value may refer to variables
// (`var.x`) and to `coder_parameter` data sources (`data.coder_parameter.x.value`) and to
// nothing else, and the result must be a string, number or bool. Function calls are left to
// coderd (it knows Terraform's functions; this evaluator does not): such a tag is reported with
// its expression and no default value.
import type { FileDiagnostic } from "../parameters/config-file.js";
import { evaluate, HclEvalError, type HclNode, type HclValue } from "../parameters/hcl-eval.js";
import {
  type HclBlock,
  type HclExpression,
  HclNativeSyntaxError,
  parseHclNative,
} from "../parameters/hcl-native.js";
import { formatDiagnostic, readConfigSource } from "../parameters/parse-template.js";
import { listConfigFiles } from "../parameters/template-files.js";
import type { WorkspaceTag } from "../provisioner/provisioner.js";

/** A `coder_workspace_tags` block coderd could not use; the message names file, line and tag. */
export class WorkspaceTagError extends Error {
  override readonly name = "WorkspaceTagError";
}

const DATA_SOURCE = "coder_workspace_tags";

interface Located<T> {
  file: string;
  block: HclBlock;
  value: T;
}

/**
 * The template's workspace tags in file and declaration order. `variableDefaults` holds each
 * declared variable's default as text ("" when it has none).
 */
export async function readWorkspaceTags(
  directory: string,
  variableDefaults: ReadonlyMap<string, string>,
  signal?: AbortSignal,
): Promise<WorkspaceTag[]> {
  const tagBlocks: Located<undefined>[] = [];
  const parameters = new Map<string, Located<HclExpression | undefined>>();
  for (const file of await listConfigFiles(directory)) {
    if (file.syntax !== "hcl") continue;
    signal?.throwIfAborted();
    const diagnostics: FileDiagnostic[] = [];
    const source = await readConfigSource(directory, file, diagnostics, signal);
    if (source === undefined) {
      throw new WorkspaceTagError(diagnostics.map(formatDiagnostic).join("\n"));
    }
    if (!source.includes(DATA_SOURCE) && !source.includes("coder_parameter")) continue;
    let blocks: HclBlock[];
    try {
      blocks = parseHclNative(source).blocks;
    } catch (error) {
      if (!(error instanceof HclNativeSyntaxError)) throw error;
      throw new WorkspaceTagError(`${file.name}:${error.line}: ${error.message}`);
    }
    for (const block of blocks) {
      if (block.type !== "data" || block.labels.length !== 2) continue;
      const [type, name] = block.labels as [string, string];
      if (type === DATA_SOURCE) tagBlocks.push({ file: file.name, block, value: undefined });
      else if (type === "coder_parameter") {
        const attr = block.body.attributes.find((a) => a.name === "default");
        parameters.set(name, { file: file.name, block, value: attr?.expr });
      }
    }
  }
  if (tagBlocks.length === 0) return [];

  const vars = new Map<string, HclValue>();
  for (const [name, value] of variableDefaults) vars.set(name, text(value));
  const varScope = new Map<string, HclValue>([["var", object(vars)]]);
  const parameterDefault = (name: string): HclValue => {
    const declared = parameters.get(name);
    if (declared === undefined) return { kind: "null" };
    if (declared.value === undefined) return text("");
    const where = `${declared.file}:${declared.block.line}: data "coder_parameter" "${name}"`;
    try {
      return text(scalarText(evaluate(declared.value.node, varScope), "its default"));
    } catch (error) {
      throw new WorkspaceTagError(`${where}: default: ${reason(error)}`);
    }
  };

  const tags: WorkspaceTag[] = [];
  const seen = new Set<string>();
  for (const { file, block } of tagBlocks) {
    const where = `${file}:${block.line}: data "${DATA_SOURCE}" "${block.labels[1]}"`;
    const attr = block.body.attributes.find((a) => a.name === "tags");
    if (attr === undefined)
      throw new WorkspaceTagError(`${where}: the "tags" attribute is required`);
    const node = attr.expr.node;
    if (node.t !== "object") {
      throw new WorkspaceTagError(`${where}: "tags" must be a map written as { key = value, ... }`);
    }
    for (const item of node.items) {
      const key = (item.source?.key ?? "").replace(/^"+|"+$/g, "");
      const expression = item.source?.value ?? "";
      const line = item.source?.line ?? attr.line;
      if (seen.has(key)) {
        throw new WorkspaceTagError(
          `${file}:${line}: workspace tag "${key}" is defined multiple times`,
        );
      }
      seen.add(key);
      let defaultValue: string | undefined;
      if (!callsFunction(item.value)) {
        try {
          const scope = new Map(varScope);
          scope.set("data", dataScope(item.value, parameterDefault));
          defaultValue = scalarText(evaluate(item.value, scope), "a workspace tag");
        } catch (error) {
          throw new WorkspaceTagError(
            `${file}:${line}: workspace tag "${key}" = ${expression}: ${reason(error)}`,
          );
        }
      }
      tags.push({ key, expression, defaultValue, file, line });
    }
  }
  return tags;
}

/** The key → expression map coderd stores. */
export function workspaceTagExpressions(tags: readonly WorkspaceTag[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.key, t.expression]));
}

function text(value: string): HclValue {
  return { kind: "string", value };
}

function object(attrs: Map<string, HclValue>): HclValue {
  return { kind: "object", attrs };
}

/**
 * `data` with exactly the `coder_parameter`s the expression names, each `{ value = default }`;
 * any other data source is refused by name, as coderd refuses it.
 */
function dataScope(node: HclNode, parameterDefault: (name: string) => HclValue): HclValue {
  const parameters = new Map<string, HclValue>();
  for (const path of dataReferences(node)) {
    const [type, name] = path;
    if (type !== "coder_parameter") {
      throw new HclEvalError(
        `only the "coder_parameter" data source may be referred to here, not "data.${path.join(".")}"`,
      );
    }
    if (name === undefined || parameters.has(name)) continue;
    const value = parameterDefault(name);
    if (value.kind === "null") {
      throw new HclEvalError(`there is no data "coder_parameter" "${name}" in the template`);
    }
    parameters.set(name, object(new Map([["value", value]])));
  }
  return object(new Map([["coder_parameter", object(parameters)]]));
}

/** The attribute names after each `data` reference (`data.a.b.c` → ["a", "b"]). */
function dataReferences(node: HclNode): string[][] {
  const found: string[][] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const n = value as HclNode;
    if (n.t === "attr") {
      const names: string[] = [];
      let root: HclNode = n;
      while (root.t === "attr") {
        names.unshift(root.name);
        root = root.coll;
      }
      if (root.t === "ref" && root.name === "data") {
        found.push(names.slice(0, 2));
        return;
      }
    }
    for (const v of Object.values(value)) visit(v);
  };
  visit(node);
  return found;
}

function callsFunction(node: HclNode): boolean {
  let found = false;
  const visit = (value: unknown): void => {
    if (found || typeof value !== "object" || value === null) return;
    if ((value as { t?: unknown }).t === "call") {
      found = true;
      return;
    }
    for (const v of Object.values(value)) visit(v);
  };
  visit(node);
  return found;
}

/** A string, number or bool as text; a `{ value = ... }` object stands for its value. */
function scalarText(value: HclValue, what: string): string {
  switch (value.kind) {
    case "string":
    case "bool":
      return String(value.value);
    case "number":
      return value.value.toText();
    case "object": {
      const inner = value.attrs.get("value");
      if (inner !== undefined) return scalarText(inner, what);
      break;
    }
    default:
      break;
  }
  throw new HclEvalError(
    `${what} must be a string, number or bool, not ${value.kind === "null" ? "null" : `a ${value.kind}`}`,
  );
}

function reason(error: unknown): string {
  if (error instanceof HclEvalError) {
    // The evaluator words references for variable defaults, where none is allowed.
    return error.message.replace(
      /^Variables not allowed: "([^"]+)" is a reference$/,
      'only variables (var.<name>) and parameters (data.coder_parameter.<name>.value) may be referred to here, not "$1"',
    );
  }
  if (error instanceof RangeError) return "the expression is nested too deeply to evaluate";
  throw error;
}
