// The values a local build gives the template, from the command line, the previous build's
// record, and (on a terminal) the user. What the template needs and nobody gave is collected
// and asked for in one go, or reported in one error naming every missing flag.
import {
  computeParameterValues,
  missingParameters,
  RichParameterValidationError,
  resolveRichParameterValues,
  resolveTemplateVariables,
  templateVariableValues,
  toParameterValues,
} from "../parameters/index.js";
import type { UpdateJobRequest } from "../provisioner/model.js";
import {
  ParameterDestination_Scheme,
  type ParameterSchema,
  type ParameterValue,
  type RichParameter,
  type RichParameterValue,
  type TemplateVariable,
  type VariableValue,
} from "../provisioner/model.js";
import type { Question } from "./prompt.js";
import { UsageError } from "./usage-error.js";

export type ValueFlag = "--var" | "--param" | "--rich-param";

export interface MissingValue extends Question {
  flag: ValueFlag;
  name: string;
}

/** Values the template needs that were not given and cannot be asked for. */
export class MissingValuesError extends UsageError {
  readonly missing: readonly MissingValue[];

  constructor(missing: readonly MissingValue[]) {
    const listed = missing.map((value) => `${value.flag} ${value.name}`).join(", ");
    super(
      `missing values: ${listed} (give each as <flag> name=value, or run in a terminal to be asked)`,
      { missing: missing.map(({ flag, name }) => ({ flag, name })) },
    );
    this.missing = missing;
  }
}

/** Gets answers for missing values, in order; rejects (MissingValuesError) when it cannot. */
export type AskForValues = (missing: readonly MissingValue[]) => Promise<string[]>;

export const refuseToAsk: AskForValues = async (missing) => {
  throw new MissingValuesError(missing);
};

function variableQuestion(variable: TemplateVariable): MissingValue {
  const type = variable.type !== "" ? `(${variable.type}) ` : "";
  return {
    flag: "--var",
    name: variable.name,
    label: `--var ${variable.name}`,
    description: `${type}${variable.description}`.trim(),
    sensitive: variable.sensitive,
  };
}

function parameterQuestion(schema: ParameterSchema): MissingValue {
  return {
    flag: "--param",
    name: schema.name,
    label: `--param ${schema.name}`,
    description: schema.description,
    sensitive: !schema.redisplayValue,
    ...(schema.validationContains.length > 0 ? { options: schema.validationContains } : {}),
  };
}

function richQuestion(parameter: RichParameter): MissingValue {
  return {
    flag: "--rich-param",
    name: parameter.name,
    label: `--rich-param ${parameter.name}`,
    description: `(${parameter.type}) ${parameter.description}`.trim(),
    ...(parameter.options.length > 0 ? { options: parameter.options.map((o) => o.value) } : {}),
  };
}

function legacyRows(schemas: readonly ParameterSchema[], given: Record<string, string>) {
  return schemas
    .filter((schema) => given[schema.name] !== undefined)
    .map((schema) => ({
      name: schema.name,
      sourceValue: given[schema.name] as string,
      destinationScheme:
        schema.defaultDestination?.scheme === ParameterDestination_Scheme.ENVIRONMENT_VARIABLE
          ? ("environment_variable" as const)
          : ("provisioner_variable" as const),
    }));
}

export interface ImportValues {
  parameterValues: ParameterValue[];
  variableValues: VariableValue[];
}

/** What a template's parse declares: managed variables or legacy parameter schemas. */
export interface DeclaredImportInputs {
  templateVariables: readonly TemplateVariable[];
  parameterSchemas: readonly ParameterSchema[];
}

/** Managed variables and legacy parameters the template needs that `vars`/`params` lack. */
function missingImportValues(
  declared: DeclaredImportInputs,
  vars: Record<string, string>,
  params: Record<string, string>,
): MissingValue[] {
  const missingVariables = declared.templateVariables.filter(
    (variable) =>
      variable.required && variable.defaultValue === "" && (vars[variable.name] ?? "") === "",
  );
  const computed = computeParameterValues({
    schemas: [...declared.parameterSchemas],
    workspaceValues: legacyRows(declared.parameterSchemas, params),
  });
  const missingSchemas = missingParameters([...declared.parameterSchemas], computed).map(
    (name) => declared.parameterSchemas.find((schema) => schema.name === name) as ParameterSchema,
  );
  return [...missingVariables.map(variableQuestion), ...missingSchemas.map(parameterQuestion)];
}

/** Rich parameters without a default that neither `given` nor the previous build has. */
function missingRichValues(
  parameters: readonly RichParameter[],
  given: Record<string, string>,
  previous: readonly RichParameterValue[] | undefined,
): MissingValue[] {
  const previousNames = new Set((previous ?? []).map((value) => value.name));
  return parameters
    .filter(
      (p) => p.defaultValue === "" && given[p.name] === undefined && !previousNames.has(p.name),
    )
    .map(richQuestion);
}

const WHAT: Record<ValueFlag, [one: string, all: string]> = {
  "--var": ["variable", "variables"],
  "--param": ["parameter", "parameters"],
  "--rich-param": ["rich parameter", "rich parameters (coder_parameter)"],
};

/** Edits (insert, delete, replace) between two names, to suggest the one that was meant. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const replace = (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min(replace, (row[j] as number) + 1, (next[j - 1] as number) + 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

/**
 * The error line for a value given under `flag` whose name the template does not declare there,
 * with a hint: the same name under another flag, else the closest declared spelling.
 */
export function unknownValueProblem(
  flag: ValueFlag,
  name: string,
  declared: Readonly<Record<ValueFlag, readonly string[]>>,
): string {
  const same = (known: string) => known.toLowerCase() === name.toLowerCase();
  const flags = [flag, ...(Object.keys(declared) as ValueFlag[]).filter((f) => f !== flag)];
  const exact = flags.find((other) => declared[other].some(same));
  const problem = `${flag} ${name}: the template declares no ${WHAT[flag][0]} of that name`;
  if (exact !== undefined) {
    return `${problem} (did you mean ${exact} ${declared[exact].find(same)}?)`;
  }
  if (declared[flag].length === 0) {
    return `${flag} ${name}: the template declares no ${WHAT[flag][1]} at all`;
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  const close = declared[flag]
    .map((known) => ({ known, distance: editDistance(name.toLowerCase(), known.toLowerCase()) }))
    .filter((candidate) => candidate.distance <= limit)
    .sort((a, b) => a.distance - b.distance)[0];
  return close === undefined ? problem : `${problem} (did you mean ${flag} ${close.known}?)`;
}

/** Values by flag: what the command line gave, and what the build has (record included). */
export interface GivenValues {
  flags: Readonly<Record<ValueFlag, Readonly<Record<string, string>>>>;
  /** Filled in place with answers to the questions asked. */
  vars: Record<string, string>;
  params: Record<string, string>;
  richParams: Record<string, string>;
}

/**
 * Checks every given value against what the template declares, before anything runs: names the
 * template does not declare are an error (with a hint), and every value it needs that is missing
 * is asked for in one go, or reported in one error naming every missing flag. `rich.complete`
 * false means the template may declare more rich parameters than its text shows: those are
 * checked after the import.
 */
export async function checkGivenValues(
  declared: DeclaredImportInputs,
  rich: { parameters: readonly RichParameter[]; complete: boolean },
  given: GivenValues,
  previousRich: readonly RichParameterValue[] | undefined,
  ask: AskForValues,
): Promise<void> {
  const names: Record<ValueFlag, string[]> = {
    "--var": declared.templateVariables.map((v) => v.name),
    "--param": declared.parameterSchemas.map((s) => s.name),
    "--rich-param": rich.parameters.map((p) => p.name),
  };
  const problems: string[] = [];
  for (const flag of Object.keys(names) as ValueFlag[]) {
    if (flag === "--rich-param" && !rich.complete) continue;
    for (const name of Object.keys(given.flags[flag])) {
      if (!names[flag].includes(name)) problems.push(unknownValueProblem(flag, name, names));
    }
  }
  const missing = [
    ...missingImportValues(declared, given.vars, given.params),
    ...missingRichValues(rich.parameters, given.richParams, previousRich),
  ];
  if (problems.length > 0) {
    const also = missing.length > 0 ? [new MissingValuesError(missing).message] : [];
    throw new UsageError([...problems, ...also]);
  }
  if (missing.length === 0) return;
  const answers = await ask(missing);
  const target: Record<ValueFlag, Record<string, string>> = {
    "--var": given.vars,
    "--param": given.params,
    "--rich-param": given.richParams,
  };
  missing.forEach((value, index) => {
    target[value.flag][value.name] = answers[index] ?? "";
  });
}

/**
 * What coderd does on the import's UpdateJob: managed variables from --var (else defaults),
 * legacy parameters from --param (else schema defaults).
 */
export async function resolveImportValues(
  request: UpdateJobRequest,
  given: { vars: Record<string, string>; params: Record<string, string> },
  ask: AskForValues,
): Promise<ImportValues> {
  const vars = { ...given.vars };
  const params = { ...given.params };
  const missing = missingImportValues(request, vars, params);
  if (missing.length > 0) {
    const answers = await ask(missing);
    missing.forEach((value, index) => {
      const target = value.flag === "--var" ? vars : params;
      target[value.name] = answers[index] ?? "";
    });
  }
  const variableValues = templateVariableValues(
    resolveTemplateVariables(
      request.templateVariables,
      Object.entries(vars).map(([name, value]) => ({ name, value, sensitive: false })),
    ),
  );
  const parameterValues = toParameterValues(
    computeParameterValues({
      schemas: request.parameterSchemas,
      workspaceValues: legacyRows(request.parameterSchemas, params),
    }),
  );
  return { parameterValues, variableValues };
}

/**
 * A build's rich parameter values: --rich-param, else the previous build's value, else the
 * parameter's default; parameters without a default must get a value. Validated as coderd does.
 */
export async function resolveRichValues(
  parameters: readonly RichParameter[],
  given: Record<string, string>,
  previous: readonly RichParameterValue[] | undefined,
  ask: AskForValues,
): Promise<RichParameterValue[]> {
  const values = { ...given };
  const known = parameters.map((p) => p.name);
  const unknown = Object.keys(given).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    const declared = { "--var": [], "--param": [], "--rich-param": known };
    throw new UsageError(
      unknown.map((name) => unknownValueProblem("--rich-param", name, declared)),
    );
  }
  const missing = missingRichValues(parameters, values, previous);
  if (missing.length > 0) {
    const answers = await ask(missing);
    missing.forEach((value, index) => {
      values[value.name] = answers[index] ?? "";
    });
  }
  try {
    return resolveRichParameterValues({
      parameters,
      values: Object.entries(values).map(([name, value]) => ({ name, value })),
      ...(previous ? { previousValues: previous } : {}),
    });
  } catch (error) {
    if (error instanceof RichParameterValidationError) {
      throw new UsageError(error.issues.map((issue) => `--rich-param: ${issue.message}`));
    }
    throw error;
  }
}
