// Input variables for `terraform plan` through a var file instead of `-var name=value`.
// Why: argv is readable by every user on the host (`ps`, /proc/<pid>/cmdline), and these values
// include sensitive parameters and template variables. A 0600 file in the job's private work dir
// keeps them out of the process list.
//
// The file must mean exactly what the `-var` arguments meant. Terraform reads a `-var` value
// literally (a string, then converted to the declared type) when the variable has no type or a
// primitive one (string, number, bool), and as an HCL expression otherwise (`decodeVariableType`
// in terraform's configs package). A var file always holds expressions, so literal-mode values
// are written as quoted HCL strings with every special sequence escaped, and HCL-mode values as
// their own expression text, checked to be one expression and nothing more.
import { parseHcl } from "../parameters/hcl-parser.js";
import { TerraformInputError } from "../parameters/index.js";

/** Not `*.auto.tfvars`: terraform must read it only where we pass it, never on its own. */
export const varFileName = "provisionerd-inputs.tfvars";

/** Type text of a declared variable: "" when it has no `type`. */
export type VariableTypes = ReadonlyMap<string, string>;

/** Whether terraform parses a `-var` value for a variable of this type literally. */
export function parsesLiterally(typeText: string): boolean {
  const type = typeText.replace(/\s+/g, "");
  // Legacy quoted `"string"` is literal as well; quoted "list"/"map" are HCL (terraform rejects
  // quoted types today, but the mode is kept faithful).
  return (
    type === "" || type === "string" || type === "number" || type === "bool" || type === '"string"'
  );
}

/** An HCL quoted string whose value is exactly `value` (no escape or template is interpreted). */
export function hclQuoted(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const next = value[i + 1];
    if (c === "\\") out += "\\\\";
    else if (c === '"') out += '\\"';
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    // `${` and `%{` would start an interpolation or directive; `$${` / `%%{` are their escapes.
    else if ((c === "$" || c === "%") && next === "{") out += `${c}${c}`;
    else if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) {
      out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    } else out += c;
  }
  return `${out}"`;
}

/**
 * The var file's text for `name=value` pairs (as `toTerraformInputs` gives them), in the same
 * order as the `-var` arguments would have been. A later value of a name wins, as with `-var`.
 * Throws TerraformInputError for an undeclared name (`-var` fails on it too, while a var file
 * would only warn) and for an HCL-mode value that is not exactly one expression.
 */
export async function varFileText(vars: readonly string[], types: VariableTypes): Promise<string> {
  const values = new Map<string, string>();
  for (const pair of vars) {
    const at = pair.indexOf("=");
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    if (!types.has(name)) {
      throw new TerraformInputError(
        `Value for undeclared variable: a variable named "${name}" was given a value, but the root module does not declare a variable of that name`,
      );
    }
    values.delete(name);
    values.set(name, value);
  }
  const lines: string[] = [];
  for (const [name, value] of values) {
    if (parsesLiterally(types.get(name) ?? "")) {
      lines.push(`${name} = ${hclQuoted(value)}`);
    } else {
      lines.push(await expressionLine(name, value));
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

// Parentheses let the expression start on a later line or span lines, as it may in `-var`.
// Text that closes them and goes on (`[1])\nother = (2`) would set a second variable, where
// `-var` would have failed; so the line is parsed alone and must hold exactly this attribute.
async function expressionLine(name: string, value: string): Promise<string> {
  const line = `${name} = (\n${value}\n)`;
  const parsed = await parseHcl(`${line}\n`);
  const keys = parsed.ok ? Object.keys(parsed.body) : [];
  if (!parsed.ok || keys.length !== 1 || keys[0] !== name) {
    // Never the value itself: it may be a secret.
    throw new TerraformInputError(
      `Invalid value for input variable: the value given for variable "${name}" is not a valid HCL expression`,
    );
  }
  return line;
}
