// One configuration file → the `variable` blocks and the coder provider's feature flag it
// declares, in a syntax-neutral form, so that parse-template.ts applies a single set of rules.
// `.tf` files are read by the native parser (hcl-native.ts, native-config.ts), which alone
// decides what a file means; HashiCorp's parser (WebAssembly) only words the errors of a file
// the native parser rejects. `.tf.json` files go through a line-aware JSON reader.
import { z } from "zod";
import { type HclBody, HclNativeSyntaxError, parseHclNative } from "./hcl-native.js";
import { parseHcl, TOO_DEEP } from "./hcl-parser.js";
import { JsonSyntaxError, parseJsonWithLines } from "./json-config.js";
import { readNativeConfig } from "./native-config.js";
import type { ConfigFile } from "./template-files.js";
import {
  asBool,
  type ConfigFileContents,
  type FileDiagnostic,
  invalidNameMessage,
  MANAGED_FLAG_MESSAGE,
  VARIABLE_NAME,
  type VariableBlock,
} from "./variable-rules.js";

export type {
  ConfigFileContents,
  FileDiagnostic,
  VariableBlock,
  VariableValidation,
} from "./variable-rules.js";

/** A string that is exactly one interpolation: how JSON syntax writes an expression. */
function unwrapExpression(text: string): string {
  const match = /^\$\{([\s\S]*)\}$/.exec(text);
  return match ? (match[1] as string) : text;
}

const textLike = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const boolLike = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
const conditionSource = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => (typeof v === "string" ? unwrapExpression(v) : JSON.stringify(v)));

const validationBody = z.object({
  condition: conditionSource.optional(),
  error_message: textLike.optional(),
});

const variableBody = z.object({
  description: textLike.optional(),
  type: z.string().transform(unwrapExpression).optional(),
  sensitive: boolLike.optional(),
  // Always a list of blocks: readJsonConfig normalises a single block object to a list.
  validation: z.array(validationBody).optional(),
  default: z.unknown().optional(),
});

function issueText(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join(".");
      const expected: Record<string, string> = {
        description: "a string",
        type: "a type expression",
        sensitive: "true or false",
        validation: "a block",
      };
      const top = String(issue.path[0] ?? "");
      if (top === "validation" && issue.path.includes("condition")) {
        return "validation condition must be an expression";
      }
      if (top === "validation" && issue.path.includes("error_message")) {
        return "validation error_message must be a string";
      }
      return `${field || "body"} must be ${expected[top] ?? "valid"}`;
    })
    .join("; ");
}

function toVariableBlock(
  name: string,
  body: unknown,
  file: string,
  line: number,
  diagnostics: FileDiagnostic[],
): VariableBlock | undefined {
  if (!VARIABLE_NAME.test(name)) {
    diagnostics.push({ file, line, message: invalidNameMessage(name) });
    return undefined;
  }
  const parsed = variableBody.safeParse(body ?? {});
  if (!parsed.success) {
    diagnostics.push({ file, line, message: `variable "${name}": ${issueText(parsed.error)}` });
    return undefined;
  }
  const b = parsed.data;
  const block: VariableBlock = { name, file, line };
  if (b.description !== undefined) block.description = b.description;
  if (b.type !== undefined) block.type = b.type;
  if (b.sensitive !== undefined) block.sensitive = b.sensitive;
  if (body !== null && typeof body === "object" && Object.hasOwn(body, "default")) {
    block.default = { value: b.default ?? null };
  }
  if (b.validation !== undefined) {
    block.validations = b.validation.map((v) => ({
      condition: v.condition ?? "",
      errorMessage: v.error_message ?? "",
    }));
  }
  return block;
}

function managedFlag(
  providerBodies: unknown[],
  file: string,
  line: number,
  diagnostics: FileDiagnostic[],
): ConfigFileContents["managedVariables"] {
  for (const body of providerBodies) {
    if (body === null || typeof body !== "object") continue;
    if (!Object.hasOwn(body, "feature_use_managed_variables")) continue;
    const raw = (body as Record<string, unknown>).feature_use_managed_variables;
    const value = asBool(raw);
    if (value === undefined) {
      diagnostics.push({ file, line, message: MANAGED_FLAG_MESSAGE });
      return undefined;
    }
    return { value, line };
  }
  return undefined;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

export async function readHclConfig(file: ConfigFile, source: string): Promise<ConfigFileContents> {
  let body: HclBody;
  try {
    body = parseHclNative(source);
  } catch (error) {
    return { variables: [], diagnostics: await syntaxDiagnostics(file, source, error) };
  }
  return readNativeConfig(file, body);
}

/**
 * A file the native parser rejected. HashiCorp's parser words the errors (HCL's own
 * diagnostics, one per problem); should it accept the file, or fail without saying where, the
 * native parser's own message stands, as the native parser decides what a file means.
 */
async function syntaxDiagnostics(
  file: ConfigFile,
  source: string,
  error: unknown,
): Promise<FileDiagnostic[]> {
  const own: FileDiagnostic =
    error instanceof HclNativeSyntaxError
      ? { file: file.name, line: error.line, message: error.message }
      : error instanceof RangeError
        ? { file: file.name, line: 0, message: TOO_DEEP }
        : (() => {
            throw error;
          })();
  const worded = await parseHcl(source);
  if (worded.ok || worded.diagnostics.some((d) => d.line === 0)) return [own];
  return worded.diagnostics.map((d) => ({ file: file.name, line: d.line, message: d.message }));
}

export function readJsonConfig(file: ConfigFile, source: string): ConfigFileContents {
  let parsed: ReturnType<typeof parseJsonWithLines>;
  try {
    parsed = parseJsonWithLines(source);
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      return {
        variables: [],
        diagnostics: [{ file: file.name, line: error.line, message: error.message }],
      };
    }
    throw error;
  }
  const { value: root, keyLines } = parsed;
  const diagnostics: FileDiagnostic[] = [];
  const lineOf = (obj: object, key: string) => keyLines.get(obj)?.get(key) ?? 0;
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    return {
      variables: [],
      diagnostics: [
        { file: file.name, line: 1, message: "the root of a .tf.json file must be an object" },
      ],
    };
  }
  const variables: VariableBlock[] = [];
  const rootObject = root as Record<string, unknown>;
  for (const group of asList(rootObject.variable ?? [])) {
    if (group === null || typeof group !== "object" || Array.isArray(group)) {
      diagnostics.push({
        file: file.name,
        line: lineOf(rootObject, "variable"),
        message: '"variable" must be an object of variable names',
      });
      continue;
    }
    for (const [name, bodies] of Object.entries(group)) {
      for (const body of asList(bodies)) {
        const block = toVariableBlock(
          name,
          jsonVariableBody(body),
          file.name,
          lineOf(group, name),
          diagnostics,
        );
        if (block) variables.push(block);
      }
    }
  }
  let managedVariables: ConfigFileContents["managedVariables"];
  for (const group of asList(rootObject.provider ?? [])) {
    if (managedVariables || group === null || typeof group !== "object") continue;
    if (!Object.hasOwn(group, "coder")) continue;
    managedVariables = managedFlag(
      asList((group as Record<string, unknown>).coder),
      file.name,
      lineOf(group, "coder"),
      diagnostics,
    );
  }
  const contents: ConfigFileContents = { variables, diagnostics };
  if (managedVariables) contents.managedVariables = managedVariables;
  return contents;
}

// In JSON syntax a validation block may be an object or a list of objects; normalise to the
// list that `variableBody` reads.
function jsonVariableBody(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return body;
  const copy = { ...(body as Record<string, unknown>) };
  if (Object.hasOwn(copy, "validation")) copy.validation = asList(copy.validation);
  return copy;
}
