// A `.tf` file parsed by the native fast path (hcl-native.ts) → variables and the coder
// provider's feature flag. Here the exact semantics of the reference hold: a default is the
// value of a constant expression (anything else is an error, as in Terraform), a type is the
// expression's source text (or the string of the legacy quoted form), a condition is its
// exact source text.
import {
  type HclAttribute,
  type HclBlock,
  type HclBody,
  type HclExpression,
  NOT_CONSTANT,
} from "./hcl-native.js";
import type { ConfigFile } from "./template-files.js";
import {
  asBool,
  type ConfigFileContents,
  type FileDiagnostic,
  invalidNameMessage,
  labelDiagnostics,
  MANAGED_FLAG_MESSAGE,
  VARIABLE_NAME,
  type VariableBlock,
} from "./variable-rules.js";

const attribute = (body: HclBody, name: string): HclAttribute | undefined =>
  body.attributes.find((a) => a.name === name);

/** Text of a constant scalar (HCL converts numbers and bools to strings where one is needed). */
function constantText(expr: HclExpression): string | undefined {
  const v = expr.value;
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean"
    ? String(v)
    : undefined;
}

export function readNativeConfig(file: ConfigFile, root: HclBody): ConfigFileContents {
  const diagnostics: FileDiagnostic[] = labelDiagnostics(file, root.blocks);
  const variables: VariableBlock[] = [];
  let managedVariables: ConfigFileContents["managedVariables"];
  for (const block of root.blocks) {
    if (block.type === "variable" && block.labels.length === 1) {
      const variable = toVariableBlock(file, block, diagnostics);
      if (variable) variables.push(variable);
    } else if (block.type === "provider" && block.labels[0] === "coder" && !managedVariables) {
      const flag = attribute(block.body, "feature_use_managed_variables");
      if (!flag) continue;
      const value = flag.expr.value === NOT_CONSTANT ? undefined : asBool(flag.expr.value);
      if (value === undefined) {
        diagnostics.push({ file: file.name, line: block.line, message: MANAGED_FLAG_MESSAGE });
      } else {
        managedVariables = { value, line: block.line };
      }
    }
  }
  const contents: ConfigFileContents = { variables, diagnostics };
  if (managedVariables) contents.managedVariables = managedVariables;
  return contents;
}

function toVariableBlock(
  file: ConfigFile,
  block: HclBlock,
  diagnostics: FileDiagnostic[],
): VariableBlock | undefined {
  const name = block.labels[0] as string;
  const problem = (message: string, line = block.line) =>
    diagnostics.push({ file: file.name, line, message: `variable "${name}": ${message}` });
  if (!VARIABLE_NAME.test(name)) {
    diagnostics.push({ file: file.name, line: block.line, message: invalidNameMessage(name) });
    return undefined;
  }
  const before = diagnostics.length;
  const variable: VariableBlock = { name, file: file.name, line: block.line };
  const body = block.body;

  const description = attribute(body, "description");
  if (description) {
    const text = constantText(description.expr);
    if (text === undefined) problem("description must be a string", description.line);
    else variable.description = text;
  }
  const type = attribute(body, "type");
  if (type) {
    // The legacy quoted form (`type = "string"`) names the type as a string.
    variable.type = typeof type.expr.value === "string" ? type.expr.value : type.expr.source;
  }
  const sensitive = attribute(body, "sensitive");
  if (sensitive) {
    const value = sensitive.expr.value === NOT_CONSTANT ? undefined : asBool(sensitive.expr.value);
    if (value === undefined) problem("sensitive must be true or false", sensitive.line);
    else variable.sensitive = value;
  }
  const defaultAttr = attribute(body, "default");
  if (defaultAttr) {
    if (defaultAttr.expr.value === NOT_CONSTANT) {
      problem(
        "default must be a constant value (variables, function calls and references are not allowed here)",
        defaultAttr.line,
      );
    } else {
      variable.default = { value: defaultAttr.expr.value };
    }
  }
  const validationAttr = attribute(body, "validation");
  if (validationAttr) problem("validation must be a block", validationAttr.line);
  const validations = body.blocks.filter((b) => b.type === "validation");
  if (validations.length > 0) {
    variable.validations = validations.map((v) => {
      const condition = attribute(v.body, "condition");
      const error = attribute(v.body, "error_message");
      return {
        condition: condition?.expr.source ?? "",
        // A non-constant message (Terraform allows references there) is kept as written.
        errorMessage: error ? (constantText(error.expr) ?? error.expr.source) : "",
      };
    });
  }
  return diagnostics.length === before ? variable : undefined;
}
