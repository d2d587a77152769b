// Parameters and variables: the values a job brings, and what a template import finds.
import { nameOf, withDefaults } from "./construct.js";

/** Where a legacy parameter's default value comes from. */
export interface ParameterSource {
  /** How to read `value`. */
  scheme: ParameterSource_Scheme;
  /** The literal value. */
  value: string;
}

export const ParameterSource = {
  create(fields: Partial<ParameterSource> = {}): ParameterSource {
    return withDefaults({ scheme: 0, value: "" }, fields);
  },
};

export const ParameterSource_Scheme = {
  /** DATA - The value is literal data. */
  DATA: 0,
} as const;
export type ParameterSource_Scheme =
  (typeof ParameterSource_Scheme)[keyof typeof ParameterSource_Scheme];

/** The name of each ParameterSource_Scheme value, for people and for JSON output. */
export function parameterSource_SchemeToJSON(value: ParameterSource_Scheme): string {
  return nameOf(ParameterSource_Scheme, value);
}

/** Where a legacy parameter's value goes when Terraform runs. */
export interface ParameterDestination {
  /** The destination kind. */
  scheme: ParameterDestination_Scheme;
}

export const ParameterDestination = {
  create(fields: Partial<ParameterDestination> = {}): ParameterDestination {
    return withDefaults({ scheme: 0 }, fields);
  },
};

export const ParameterDestination_Scheme = {
  /** ENVIRONMENT_VARIABLE - An environment variable of the terraform process, named after the parameter. */
  ENVIRONMENT_VARIABLE: 0,
  /** PROVISIONER_VARIABLE - A Terraform input variable (`-var name=value`). */
  PROVISIONER_VARIABLE: 1,
} as const;
export type ParameterDestination_Scheme =
  (typeof ParameterDestination_Scheme)[keyof typeof ParameterDestination_Scheme];

/** The name of each ParameterDestination_Scheme value, for people and for JSON output. */
export function parameterDestination_SchemeToJSON(value: ParameterDestination_Scheme): string {
  return nameOf(ParameterDestination_Scheme, value);
}

/** A resolved legacy parameter value, ready to hand to the provisioner. */
export interface ParameterValue {
  /** Where the value goes. */
  destinationScheme: ParameterDestination_Scheme;
  /** Environment variable or Terraform variable name. */
  name: string;
  /** The value, as text. */
  value: string;
  /** True when the value must never appear in a log line or an error (our addition). */
  sensitive: boolean;
}

export const ParameterValue = {
  create(fields: Partial<ParameterValue> = {}): ParameterValue {
    return withDefaults({ destinationScheme: 0, name: "", value: "", sensitive: false }, fields);
  },
};

/** A legacy parameter definition, derived from a Terraform `variable` block. */
export interface ParameterSchema {
  /** Variable name. */
  name: string;
  /** Variable description. */
  description: string;
  /** The default value, set only when the variable has a default. */
  defaultSource?: ParameterSource | undefined;
  /** Whether workspaces may override the value (`!sensitive`). */
  allowOverrideSource: boolean;
  /** Where the value goes (always a Terraform variable from the terraform provisioner). */
  defaultDestination?: ParameterDestination | undefined;
  /** Whether the destination may be overridden (always false from terraform). */
  allowOverrideDestination: boolean;
  /** Whether the value may be shown again (`!sensitive`). */
  redisplayValue: boolean;
  /** The validation language of `validation_condition`. */
  validationTypeSystem: ParameterSchema_TypeSystem;
  /** The variable's type expression as source text (e.g. `list(string)`), "" when absent. */
  validationValueType: string;
  /** `error_message` of the first validation block. */
  validationError: string;
  /** Source text of the first validation block's condition. */
  validationCondition: string;
  /** Allowed values read from a `contains([...], var.x)` condition, sorted (our addition). */
  validationContains: string[];
}

export const ParameterSchema = {
  create(fields: Partial<ParameterSchema> = {}): ParameterSchema {
    return withDefaults(
      {
        name: "",
        description: "",
        defaultSource: undefined,
        allowOverrideSource: false,
        defaultDestination: undefined,
        allowOverrideDestination: false,
        redisplayValue: false,
        validationTypeSystem: 0,
        validationValueType: "",
        validationError: "",
        validationCondition: "",
        validationContains: [],
      },
      fields,
    );
  },
};

export const ParameterSchema_TypeSystem = {
  /** None - No validation. */
  None: 0,
  /** HCL - `validation_condition` is an HCL expression. */
  HCL: 1,
} as const;
export type ParameterSchema_TypeSystem =
  (typeof ParameterSchema_TypeSystem)[keyof typeof ParameterSchema_TypeSystem];

/** The name of each ParameterSchema_TypeSystem value, for people and for JSON output. */
export function parameterSchema_TypeSystemToJSON(value: ParameterSchema_TypeSystem): string {
  return nameOf(ParameterSchema_TypeSystem, value);
}

/**
 * A managed template variable (used instead of ParameterSchema when the template opts in
 * with `provider "coder" { feature_use_managed_variables = true }`).
 */
export interface TemplateVariable {
  /** Variable name. */
  name: string;
  /** Variable description. */
  description: string;
  /** Type expression text. */
  type: string;
  /** Default rendered as text (strings verbatim, other values JSON); "" when none. */
  defaultValue: string;
  /** True when the variable has no default. */
  required: boolean;
  /** `sensitive = true`. */
  sensitive: boolean;
}

export const TemplateVariable = {
  create(fields: Partial<TemplateVariable> = {}): TemplateVariable {
    return withDefaults(
      { name: "", description: "", type: "", defaultValue: "", required: false, sensitive: false },
      fields,
    );
  },
};

/** A value for a managed template variable. */
export interface VariableValue {
  /** Variable name. */
  name: string;
  /** The value, as text. */
  value: string;
  /** Redact the value from every log line and error. */
  sensitive: boolean;
}

export const VariableValue = {
  create(fields: Partial<VariableValue> = {}): VariableValue {
    return withDefaults({ name: "", value: "", sensitive: false }, fields);
  },
};

/** One `option` block of a rich parameter. */
export interface RichParameterOption {
  /** Display name. */
  name: string;
  /** Description (markdown). */
  description: string;
  /** Value stored when this option is chosen. */
  value: string;
  /** Icon URL. */
  icon: string;
}

export const RichParameterOption = {
  create(fields: Partial<RichParameterOption> = {}): RichParameterOption {
    return withDefaults({ name: "", description: "", value: "", icon: "" }, fields);
  },
};

/** A `data "coder_parameter"` found by the start plan of a template import. */
export interface RichParameter {
  /** Parameter name (the key of RichParameterValue). */
  name: string;
  /** Description (markdown). */
  description: string;
  /** "string", "number", "bool" or "list(string)". */
  type: string;
  /** May change after the workspace was created. */
  mutable: boolean;
  /** The `default` value. */
  defaultValue: string;
  /** Icon URL. */
  icon: string;
  /** The `option` blocks, in state order. */
  options: RichParameterOption[];
  /** `validation[0].regex`. */
  validationRegex: string;
  /** `validation[0].error`. */
  validationError: string;
  /** `validation[0].min` (meaningful only when `validation_min_set`). */
  validationMin: number;
  /** `validation[0].max` (meaningful only when `validation_max_set`). */
  validationMax: number;
  /** `validation[0].monotonic`: "", "increasing" or "decreasing". */
  validationMonotonic: string;
  /** Whether `validation[0].min` was given (0 is a valid bound; our addition). */
  validationMinSet: boolean;
  /** Whether `validation[0].max` was given (our addition). */
  validationMaxSet: boolean;
  /** Not `optional`: a value must be given when creating a workspace. */
  required: boolean;
  /** Name shown in the UI. */
  displayName: string;
  /** Position among the template's parameters (lower first). */
  order: number;
  /** The value applies to one build only. */
  ephemeral: boolean;
  /** Which input control the UI shows. */
  formType: ParameterFormType;
}

/** The input control of a rich parameter (`form_type`). */
export const ParameterFormType = {
  DEFAULT: 0,
  FORM_ERROR: 1,
  RADIO: 2,
  DROPDOWN: 3,
  INPUT: 4,
  TEXTAREA: 5,
  SLIDER: 6,
  CHECKBOX: 7,
  SWITCH: 8,
  TAGSELECT: 9,
  MULTISELECT: 10,
} as const;
export type ParameterFormType = (typeof ParameterFormType)[keyof typeof ParameterFormType];

export const RichParameter = {
  create(fields: Partial<RichParameter> = {}): RichParameter {
    return withDefaults(
      {
        name: "",
        description: "",
        type: "",
        mutable: false,
        defaultValue: "",
        icon: "",
        options: [],
        validationRegex: "",
        validationError: "",
        validationMin: 0,
        validationMax: 0,
        validationMonotonic: "",
        validationMinSet: false,
        validationMaxSet: false,
        required: false,
        displayName: "",
        order: 0,
        ephemeral: false,
        formType: 0,
      },
      fields,
    );
  },
};

/** The value of a rich parameter for one build. */
export interface RichParameterValue {
  /** Parameter name. */
  name: string;
  /** The value, as text. */
  value: string;
}

export const RichParameterValue = {
  create(fields: Partial<RichParameterValue> = {}): RichParameterValue {
    return withDefaults({ name: "", value: "" }, fields);
  },
};
