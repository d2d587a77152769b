// Template variables, parameter schemas, value resolution and validation.
// Parse: a template directory → legacy ParameterSchemas or managed TemplateVariables.
// Resolve: the values a plan gets (legacy scopes, managed variables, rich parameters).
// Validate: a build's rich parameter values. Inputs are plain data, no database.

export type { FileDiagnostic } from "./config-file.js";
export { ContainsConditionError, containsValues } from "./contains.js";
export { compileGoRegexp, RegexSyntaxError } from "./go-regexp.js";
export {
  assertNoMissingParameters,
  type ComputedParameterValue,
  type ComputeParameterValuesInput,
  computeParameterValues,
  type DestinationScheme,
  MissingParametersError,
  missingParameters,
  ParameterComputeError,
  type ParameterScope,
  type ParameterValueRow,
  toParameterValues,
} from "./legacy-parameters.js";
export {
  buildVariableValues,
  importVariableValues,
  RequiredTemplateVariablesError,
  type ResolvedTemplateVariable,
  resolveTemplateVariables,
  templateVariableValues,
  VariableValueError,
} from "./managed-variables.js";
export {
  formatDiagnostic,
  type ParseTemplateOptions,
  parseTemplate,
  readTemplateVariables,
  TemplateParseError,
  type TemplateVariableDefinition,
  toParameterSchema,
  toTemplateVariable,
} from "./parse-template.js";
export {
  assertNoParameterMixing,
  type RichParameterIssue,
  RichParameterMixingError,
  type RichParameterRule,
  RichParameterValidationError,
  type RichParameterValuesInput,
  resolveRichParameterValues,
  richParameterIssues,
  richParameterValueIssues,
  validateRichParameterValues,
} from "./rich-parameters.js";
export {
  type ResolvedValues,
  richParameterEnvName,
  TerraformInputError,
  type TerraformInputs,
  toTerraformInputs,
} from "./terraform-inputs.js";
