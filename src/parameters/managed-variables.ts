// Managed template variables: values set by the template admin per template
// version. Plain data in, plain data out, so a test coderd and the local build mode can do
// what coderd does at import (UpdateJob) and at build time.
import { z } from "zod";
import { type TemplateVariable, VariableValue } from "../provisioner/model.js";

/** A template variable with the value it resolved to (a `template_version_variables` row). */
export interface ResolvedTemplateVariable extends TemplateVariable {
  value: string;
}

/** Required variables ended without a value. Lists names only, never values. */
export class RequiredTemplateVariablesError extends Error {
  override readonly name = "RequiredTemplateVariablesError";
  constructor(readonly names: readonly string[]) {
    super(`required template variables need values: ${names.join(", ")}`);
  }
}

/** A value list that cannot be used (bad shape). Names the entry, never shows a value. */
export class VariableValueError extends Error {
  override readonly name = "VariableValueError";
}

const variableValueSchema = z.object({
  name: z.string().min(1),
  value: z.string(),
  sensitive: z.boolean().default(false),
});

function parseValues(values: readonly VariableValue[]): VariableValue[] {
  return values.map((v, index) => {
    const parsed = variableValueSchema.safeParse(v);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join(".") || "value";
      throw new VariableValueError(`invalid template variable value #${index + 1}: bad ${field}`);
    }
    return VariableValue.create(parsed.data);
  });
}

/**
 * Each variable's value is the user's value of the same name, else its default. Throws
 * RequiredTemplateVariablesError naming every required variable that ended up empty.
 */
export function resolveTemplateVariables(
  variables: readonly TemplateVariable[],
  userValues: readonly VariableValue[],
): ResolvedTemplateVariable[] {
  const given = new Map(parseValues(userValues).map((v) => [v.name, v.value]));
  const resolved = variables.map((variable) => ({
    ...variable,
    value: given.get(variable.name) ?? variable.defaultValue,
  }));
  const missing = resolved.filter((v) => v.required && v.value === "").map((v) => v.name);
  if (missing.length > 0) throw new RequiredTemplateVariablesError(missing);
  return resolved;
}

/** What an import's plans get: every variable's value, flagged sensitive as declared. */
export function templateVariableValues(
  resolved: readonly ResolvedTemplateVariable[],
): VariableValue[] {
  return resolved.map((v) =>
    VariableValue.create({ name: v.name, value: v.value, sensitive: v.sensitive }),
  );
}

/**
 * The values an import job starts with: those given for the new version, plus, for each
 * variable of the template's active version that was not given, the value stored there. All
 * are flagged sensitive, since at this point nobody knows yet which ones are.
 */
export function importVariableValues(
  given: readonly VariableValue[],
  activeVersion: readonly ResolvedTemplateVariable[] = [],
): VariableValue[] {
  const values = parseValues(given);
  const names = new Set(values.map((v) => v.name));
  for (const v of activeVersion) {
    if (!names.has(v.name)) values.push(VariableValue.create({ name: v.name, value: v.value }));
  }
  return values.map((v) => ({ ...v, sensitive: true }));
}

/**
 * What builds and dry runs of a version get: the stored value of each variable whose value or
 * default is non-empty, or that is required (the reference sends the stored value).
 */
export function buildVariableValues(stored: readonly ResolvedTemplateVariable[]): VariableValue[] {
  return stored
    .filter((v) => v.value !== "" || v.defaultValue !== "" || v.required)
    .map((v) => VariableValue.create({ name: v.name, value: v.value, sensitive: v.sensitive }));
}
