// A `.tf` file read by the HCL reader (hcl-native.ts) → variables and the coder
// provider's feature flag. Here the exact semantics of the reference hold: a default is the
// value of a constant expression (anything else is an error, as in Terraform), a type is the
// expression's source text (or the string of the legacy quoted form), a condition is its
// exact source text.
import type { HclAttribute, HclBlock, HclBody, HclExpression } from "./hcl-native.js";
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

/** The expression's constant value, undefined when it has none. */
function constant(expr: HclExpression): unknown {
  const result = expr.evaluate();
  return result.ok ? result.value : undefined;
}

/** Text of a constant scalar (HCL converts numbers and bools to strings where one is needed). */
function constantText(expr: HclExpression): string | undefined {
  const v = constant(expr);
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
      const value = asBool(constant(flag.expr));
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
    // Only a string can be a name; a type expression (`list(string)`) is never evaluated.
    const quoted = type.expr.node.t === "literal" || type.expr.node.t === "template";
    const named = quoted ? constant(type.expr) : undefined;
    variable.type = typeof named === "string" ? named : type.expr.source;
  }
  const sensitive = attribute(body, "sensitive");
  if (sensitive) {
    const value = asBool(constant(sensitive.expr));
    if (value === undefined) problem("sensitive must be true or false", sensitive.line);
    else variable.sensitive = value;
  }
  const defaultAttr = attribute(body, "default");
  if (defaultAttr) {
    const result = defaultAttr.expr.evaluate();
    if (result.ok) variable.default = { value: result.value };
    else if (result.notConstant) {
      problem(
        "default must be a constant value (variables, function calls and references are not allowed here)",
        defaultAttr.line,
      );
    } else problem(`default is invalid: ${result.message}`, defaultAttr.line);
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
