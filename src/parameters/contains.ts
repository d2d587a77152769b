// `contains([...], var.x)` validation conditions name the allowed values of a legacy parameter;
// the UI and CLI offer them as choices. Only a condition that is exactly one `contains(<list>,
// ...)` call, its list a constant, yields values (sorted, strings only, as the reference does);
// any other condition yields none. The condition is read by the template parser's own HCL
// reader, so strings, escapes and comments follow one set of rules. Synchronous on purpose:
// callers use it while rendering schemas.
import { evaluateNode, HclNativeSyntaxError, parseHclExpression } from "./hcl-native.js";

/** The condition looked like `contains(...)` but could not be read. Never carries a value. */
export class ContainsConditionError extends Error {
  override readonly name = "ContainsConditionError";
}

/** Allowed values of a `contains([...], var.x)` condition, sorted; [] for any other condition. */
export function containsValues(condition: string): string[] {
  let node: ReturnType<typeof parseHclExpression>["node"];
  try {
    node = parseHclExpression(condition).node;
  } catch (error) {
    if (!(error instanceof HclNativeSyntaxError)) throw error;
    // Only a membership test that is broken is an error; other conditions are Terraform's.
    if (!/^\s*contains\s*\(/.test(condition)) return [];
    throw new ContainsConditionError(`parse condition: ${error.message} (line ${error.line})`);
  }
  // Fewer than two arguments is not a membership test.
  if (node.t !== "call" || node.name !== "contains" || node.args.length < 2) return [];
  const list = evaluateNode(node.args[0] as (typeof node.args)[number]);
  if (!list.ok) {
    throw new ContainsConditionError(
      "parse value: the first argument of contains() must be a list of literal values",
    );
  }
  if (!Array.isArray(list.value)) return [];
  return list.value
    .filter((v): v is string => typeof v === "string")
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
