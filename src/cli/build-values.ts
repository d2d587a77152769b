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
import {
  ParameterDestination_Scheme,
  type ParameterSchema,
  type ParameterValue,
  type RichParameter,
  type RichParameterValue,
  type TemplateVariable,
  type VariableValue,
} from "../proto/provisioner.js";
import type { UpdateJobRequest } from "../proto/provisionerd.js";
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
  /** Given names the template does not declare (worth a warning, not an error). */
  unknown: string[];
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
  const missingVariables = request.templateVariables.filter(
    (variable) =>
      variable.required && variable.defaultValue === "" && (vars[variable.name] ?? "") === "",
  );
  const computed = computeParameterValues({
    schemas: request.parameterSchemas,
    workspaceValues: legacyRows(request.parameterSchemas, params),
  });
  const missingSchemas = missingParameters(request.parameterSchemas, computed).map(
    (name) => request.parameterSchemas.find((schema) => schema.name === name) as ParameterSchema,
  );
  const missing = [
    ...missingVariables.map(variableQuestion),
    ...missingSchemas.map(parameterQuestion),
  ];
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
  const variableNames = new Set(request.templateVariables.map((variable) => variable.name));
  const schemaNames = new Set(request.parameterSchemas.map((schema) => schema.name));
  const unknown = [
    ...Object.keys(given.vars)
      .filter((name) => !variableNames.has(name))
      .map(
        (name) => `--var ${name}${schemaNames.has(name) ? ` (did you mean --param ${name}?)` : ""}`,
      ),
    ...Object.keys(given.params)
      .filter((name) => !schemaNames.has(name))
      .map(
        (name) =>
          `--param ${name}${variableNames.has(name) ? ` (did you mean --var ${name}?)` : ""}`,
      ),
  ];
  return { parameterValues, variableValues, unknown };
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
  const previousNames = new Set((previous ?? []).map((value) => value.name));
  const missing = parameters
    .filter(
      (p) => p.defaultValue === "" && values[p.name] === undefined && !previousNames.has(p.name),
    )
    .map(richQuestion);
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
