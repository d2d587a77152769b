// coder_parameter data sources -> rich parameters, in the order the modules list them (child
// modules before their parent's own resources, modules in the order given).
import { ParameterFormType, RichParameter, RichParameterOption } from "../../provisioner/model.js";
import {
  ConversionError,
  decodeAttributes,
  type ParameterAttributes,
  parameterAttributesSchema,
} from "./attributes.js";
import type { Indexed } from "./indexed.js";

const formTypes: Record<string, ParameterFormType> = {
  "": ParameterFormType.DEFAULT,
  error: ParameterFormType.FORM_ERROR,
  radio: ParameterFormType.RADIO,
  dropdown: ParameterFormType.DROPDOWN,
  input: ParameterFormType.INPUT,
  textarea: ParameterFormType.TEXTAREA,
  slider: ParameterFormType.SLIDER,
  checkbox: ParameterFormType.CHECKBOX,
  switch: ParameterFormType.SWITCH,
  "tag-select": ParameterFormType.TAGSELECT,
  "multi-select": ParameterFormType.MULTISELECT,
};

export function convertParameters(found: Indexed[]): RichParameter[] {
  const parameters = found.map(convertParameter);
  const counts = new Map<string, number>();
  for (const p of parameters) counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([name]) => JSON.stringify(name));
  if (duplicated.length > 0) {
    throw new ConversionError(
      `coder_parameter names must be unique but ${joinWithConjunction(duplicated)} ${duplicated.length === 1 ? "appears" : "appear"} multiple times`,
    );
  }
  return parameters;
}

function convertParameter(r: Indexed): RichParameter {
  const attrs = decodeAttributes(
    parameterAttributesSchema,
    r.resource.values,
    `decode map values for coder_parameter.${r.resource.name}`,
  );
  const formType = formTypes[attrs.form_type ?? ""];
  if (formType === undefined) {
    throw new ConversionError(
      `decode form_type for coder_parameter.${r.resource.name}: unsupported form type: ${attrs.form_type}`,
    );
  }
  const parameter = RichParameter.create({
    name: attrs.name ?? "",
    displayName: attrs.display_name ?? "",
    description: attrs.description ?? "",
    formType,
    type: attrs.type ?? "",
    mutable: attrs.mutable ?? false,
    defaultValue: attrs.default ?? "",
    icon: attrs.icon ?? "",
    required: !(attrs.optional ?? false),
    order: attrs.order ?? 0,
    ephemeral: attrs.ephemeral ?? false,
    options: (attrs.option ?? []).map((option) =>
      RichParameterOption.create({
        name: option.name ?? "",
        description: option.description ?? "",
        value: option.value ?? "",
        icon: option.icon ?? "",
      }),
    ),
  });
  if (attrs.validation?.length === 1) applyValidation(parameter, attrs, r.resource.values);
  return parameter;
}

function applyValidation(
  parameter: RichParameter,
  attrs: ParameterAttributes,
  values: Record<string, unknown> | null | undefined,
): void {
  const v = attrs.validation?.[0];
  if (v === undefined) return;
  parameter.validationRegex = v.regex ?? "";
  parameter.validationError = v.error ?? "";
  parameter.validationMonotonic = v.monotonic ?? "";
  let minDisabled = v.min_disabled ?? false;
  let maxDisabled = v.max_disabled ?? false;
  // Providers before 0.8.2 have no `*_disabled` and required min and max together: both bounds
  // count as given when either is non-zero.
  const raw = (values?.validation as unknown[] | undefined)?.[0];
  if (typeof raw === "object" && raw !== null && !("min_disabled" in raw)) {
    const given = (v.min ?? 0) !== 0 || (v.max ?? 0) !== 0;
    minDisabled = !given;
    maxDisabled = !given;
  }
  parameter.validationMin = v.min ?? 0;
  parameter.validationMinSet = !minDisabled;
  parameter.validationMax = v.max ?? 0;
  parameter.validationMaxSet = !maxDisabled;
}

/** `a`, `a and b`, `a, b and c`. */
export function joinWithConjunction(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
