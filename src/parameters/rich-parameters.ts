// Rich parameters (`data "coder_parameter"`): the checks coderd makes on a build's values
// against the template version's parameters and the previous build,
// and which values the build then stores. Deliberate differences from the reference, each
// fixing a reference quirk: monotonic rules compare numbers, not strings; a min or max of 0
// is still a bound (validation_min_set / validation_max_set); an immutable parameter is only
// refused when the value actually changes, with a message that says it is immutable.
import { z } from "zod";
import { type RichParameter, RichParameterValue } from "../provisioner/model.js";
import { compileGoRegexp, RegexSyntaxError } from "./go-regexp.js";

export type RichParameterRule =
  | "name"
  | "duplicate"
  | "undefined"
  | "type"
  | "options"
  | "regex"
  | "min"
  | "max"
  | "monotonic"
  | "immutable"
  | "definition";

export interface RichParameterIssue {
  /** The parameter's name ("" when the value had none). */
  parameter: string;
  rule: RichParameterRule;
  /** Names the parameter and the rule. */
  message: string;
}

/** A build's values broke one or more rules; `issues` has one entry per broken rule. */
export class RichParameterValidationError extends Error {
  override readonly name = "RichParameterValidationError";
  constructor(readonly issues: readonly RichParameterIssue[]) {
    super(issues.map((i) => i.message).join("\n"));
  }
}

/** A build asked for legacy parameter values while the template uses rich parameters. */
export class RichParameterMixingError extends Error {
  override readonly name = "RichParameterMixingError";
  constructor() {
    super("invalid use of rich parameters: they cannot be used together with legacy parameters");
  }
}

export interface RichParameterValuesInput {
  /** The target template version's parameters. */
  parameters: readonly RichParameter[];
  /** The values this build request gives. */
  values: readonly RichParameterValue[];
  /** The previous build's stored values; absent when the build creates the workspace. */
  previousValues?: readonly RichParameterValue[];
}

const valueSchema = z.object({ name: z.string(), value: z.string() });

const quote = (s: string) => JSON.stringify(s);

/** Every rule a build's values break, in request order; [] when the values are acceptable. */
export function richParameterIssues(input: RichParameterValuesInput): RichParameterIssue[] {
  const issues: RichParameterIssue[] = [];
  const definitions = new Map(input.parameters.map((p) => [p.name, p]));
  const previous = new Map((input.previousValues ?? []).map((v) => [v.name, v.value] as const));
  const seen = new Set<string>();

  input.values.forEach((raw, index) => {
    const parsed = valueSchema.safeParse(raw);
    if (!parsed.success || parsed.data.name === "") {
      issues.push({
        parameter: "",
        rule: "name",
        message: `workspace build parameter #${index + 1}: the parameter name is missing`,
      });
      return;
    }
    const { name, value } = parsed.data;
    if (seen.has(name)) {
      issues.push({
        parameter: name,
        rule: "duplicate",
        message: `parameter ${quote(name)}: a value is given more than once`,
      });
      return;
    }
    seen.add(name);
    const parameter = definitions.get(name);
    if (!parameter) {
      issues.push({
        parameter: name,
        rule: "undefined",
        message: `parameter ${quote(name)} is not defined in the template ("coder_parameter")`,
      });
      return;
    }
    const previousValue = input.previousValues ? previous.get(name) : undefined;
    issues.push(...richParameterValueIssues(parameter, value, previousValue));
  });
  return issues;
}

/** Throws RichParameterValidationError listing every broken rule. */
export function validateRichParameterValues(input: RichParameterValuesInput): void {
  const issues = richParameterIssues(input);
  if (issues.length > 0) throw new RichParameterValidationError(issues);
}

/**
 * Validates a build's values and returns the values the build stores: a new workspace stores
 * exactly what was given; a later build stores, for each parameter of the version, the given
 * value, else the previous build's value (parameters nobody set keep their default).
 */
export function resolveRichParameterValues(input: RichParameterValuesInput): RichParameterValue[] {
  validateRichParameterValues(input);
  if (!input.previousValues) {
    return input.values.map((v) => RichParameterValue.create({ name: v.name, value: v.value }));
  }
  const given = new Map(input.values.map((v) => [v.name, v.value] as const));
  const previous = new Map(input.previousValues.map((v) => [v.name, v.value] as const));
  const stored: RichParameterValue[] = [];
  for (const parameter of input.parameters) {
    const value = given.get(parameter.name) ?? previous.get(parameter.name);
    if (value !== undefined)
      stored.push(RichParameterValue.create({ name: parameter.name, value }));
  }
  return stored;
}

/** Rich parameters and legacy parameter values cannot be used in the same run. */
export function assertNoParameterMixing(
  richParameters: readonly RichParameter[],
  legacyValueCount: number,
): void {
  if (richParameters.length > 0 && legacyValueCount > 0) throw new RichParameterMixingError();
}

/**
 * The rules for one value of one parameter. `previous` is the previous build's value, when the
 * workspace has one. An empty value stands for the parameter's default.
 */
export function richParameterValueIssues(
  parameter: RichParameter,
  value: string,
  previous?: string,
): RichParameterIssue[] {
  const name = parameter.name;
  const issue = (rule: RichParameterRule, text: string): RichParameterIssue => ({
    parameter: name,
    rule,
    message: `parameter ${quote(name)}: ${text}`,
  });
  const v = value === "" ? parameter.defaultValue : value;

  if (previous !== undefined && !parameter.mutable && v !== previous) {
    return [
      issue(
        "immutable",
        "the parameter is immutable and cannot be changed after the workspace was created",
      ),
    ];
  }

  const definitionIssues = definitionProblems(parameter).map((text) => issue("definition", text));
  if (definitionIssues.length > 0) return definitionIssues;

  const typeProblem = typeCheck(parameter.type, v);
  if (typeProblem) return [issue("type", typeProblem)];

  if (parameter.options.length > 0) {
    const allowed = parameter.options.map((o) => o.value);
    const chosen = parameter.type === "list(string)" ? (JSON.parse(v) as string[]) : [v];
    const wrong = chosen.filter((c) => !allowed.includes(c));
    if (wrong.length === 0) return [];
    return [
      issue(
        "options",
        `value ${wrong.map(quote).join(", ")} must be one of the options: ${allowed.map(quote).join(", ")}`,
      ),
    ];
  }

  const issues: RichParameterIssue[] = [];
  if (parameter.validationRegex !== "") {
    const re = compileGoRegexp(parameter.validationRegex); // checked in definitionProblems
    if (!re.test(v)) {
      const detail = `value ${quote(v)} does not match ${quote(parameter.validationRegex)}`;
      const text = parameter.validationError ? `${parameter.validationError} (${detail})` : detail;
      issues.push(issue("regex", text));
    }
  }
  if (parameter.type === "number") {
    const n = Number(v);
    const { min, max } = bounds(parameter);
    if (min !== undefined && n < min) {
      issues.push(issue("min", `value ${v} is less than the minimum ${min}`));
    }
    if (max !== undefined && n > max) {
      issues.push(issue("max", `value ${v} is more than the maximum ${max}`));
    }
    const monotonic = parameter.validationMonotonic;
    const before = previous === undefined || previous === "" ? Number.NaN : Number(previous);
    if (monotonic !== "" && !Number.isNaN(before)) {
      if (monotonic === "increasing" && n < before) {
        issues.push(
          issue(
            "monotonic",
            `value ${v} must be equal or greater than the previous value ${previous} (monotonic increasing)`,
          ),
        );
      }
      if (monotonic === "decreasing" && n > before) {
        issues.push(
          issue(
            "monotonic",
            `value ${v} must be equal or lower than the previous value ${previous} (monotonic decreasing)`,
          ),
        );
      }
    }
  }
  return issues;
}

function bounds(parameter: RichParameter): { min?: number; max?: number } {
  // Rows stored before the *_set flags existed only know non-zero bounds.
  const result: { min?: number; max?: number } = {};
  if (parameter.validationMinSet || parameter.validationMin !== 0) {
    result.min = parameter.validationMin;
  }
  if (parameter.validationMaxSet || parameter.validationMax !== 0) {
    result.max = parameter.validationMax;
  }
  return result;
}

/** Problems of the parameter's own definition (the template's fault, not the value's). */
function definitionProblems(parameter: RichParameter): string[] {
  const problems: string[] = [];
  const type = parameter.type;
  if (!["string", "number", "bool", "list(string)"].includes(type)) {
    problems.push(
      `unsupported type ${quote(type)} (one of "string", "number", "bool", "list(string)")`,
    );
    return problems;
  }
  // The provider stores `min = 0` for every validation block (its default), so for types
  // without bounds only a non-zero bound is a mistake (as the reference checks it).
  if (type !== "number" && parameter.validationMin !== 0) {
    problems.push(`a min cannot be specified for a ${type} type`);
  }
  if (type !== "number" && parameter.validationMax !== 0) {
    problems.push(`a max cannot be specified for a ${type} type`);
  }
  if (type !== "string" && parameter.validationRegex !== "") {
    problems.push(`a regex cannot be specified for a ${type} type`);
  }
  if (!["", "increasing", "decreasing"].includes(parameter.validationMonotonic)) {
    problems.push('number monotonicity can be either "increasing" or "decreasing"');
  } else if (type !== "number" && parameter.validationMonotonic !== "") {
    problems.push(`monotonic cannot be specified for a ${type} type`);
  }
  if (parameter.validationRegex !== "") {
    try {
      compileGoRegexp(parameter.validationRegex);
    } catch (error) {
      if (!(error instanceof RegexSyntaxError)) throw error;
      problems.push(
        `invalid validation regex ${quote(parameter.validationRegex)}: ${error.message}`,
      );
    }
  }
  return problems;
}

// A plain decimal number, as the provider's ParseFloat reads them (no hex, no padding).
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function typeCheck(type: string, v: string): string | undefined {
  switch (type) {
    case "bool":
      return v === "true" || v === "false"
        ? undefined
        : 'boolean value can be either "true" or "false"';
    case "number":
      return DECIMAL.test(v) ? undefined : `value ${quote(v)} is not a number`;
    case "list(string)": {
      let list: unknown;
      try {
        list = JSON.parse(v);
      } catch {
        list = undefined;
      }
      return Array.isArray(list) && list.every((item) => typeof item === "string")
        ? undefined
        : 'value must be a JSON list of strings, e.g. ["a","b"]';
    }
    default:
      return undefined;
  }
}
