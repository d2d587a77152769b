// Template variables, parameter schemas, value resolution and validation (issue 5).

export type { FileDiagnostic } from "./config-file.js";
export { ContainsConditionError, containsValues } from "./contains.js";
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
  type ResolvedValues,
  richParameterEnvName,
  TerraformInputError,
  type TerraformInputs,
  toTerraformInputs,
} from "./terraform-inputs.js";
