// Resolved values -> what the terraform process gets: `-var` arguments and environment entries.
// One place decides this so that plan, the parameter tests and the local build agree.
import { createHash } from "node:crypto";
import {
  ParameterDestination_Scheme,
  type ParameterValue,
  type RichParameterValue,
  type VariableValue,
} from "../proto/provisioner.js";

export interface TerraformInputs {
  /** `name=value` pairs, each passed as `-var name=value`. */
  vars: string[];
  /** Extra environment entries for the terraform process. */
  env: Record<string, string>;
  /** Values that must never be printed (for log and error redaction). */
  secrets: string[];
}

export interface ResolvedValues {
  parameterValues?: ParameterValue[];
  variableValues?: VariableValue[];
  richParameterValues?: RichParameterValue[];
}

/** A value could not be turned into a Terraform input. */
export class TerraformInputError extends Error {
  override readonly name = "TerraformInputError";
}

/** `CODER_PARAMETER_` + lower-case hex SHA-256 of the rich parameter's name (provider contract). */
export function richParameterEnvName(name: string): string {
  return `CODER_PARAMETER_${createHash("sha256").update(name).digest("hex")}`;
}

export function toTerraformInputs(values: ResolvedValues): TerraformInputs {
  const inputs: TerraformInputs = { vars: [], env: {}, secrets: [] };
  const secret = (value: string, sensitive: boolean) => {
    if (sensitive && value !== "") inputs.secrets.push(value);
  };
  for (const p of values.parameterValues ?? []) {
    switch (p.destinationScheme) {
      case ParameterDestination_Scheme.PROVISIONER_VARIABLE:
        inputs.vars.push(`${p.name}=${p.value}`);
        break;
      case ParameterDestination_Scheme.ENVIRONMENT_VARIABLE:
        inputs.env[p.name] = p.value;
        break;
      default:
        throw new TerraformInputError(
          `unsupported parameter type ${String(p.destinationScheme)} for parameter "${p.name}"`,
        );
    }
    secret(p.value, p.sensitive);
  }
  for (const v of values.variableValues ?? []) {
    inputs.vars.push(`${v.name}=${v.value}`);
    secret(v.value, v.sensitive);
  }
  for (const r of values.richParameterValues ?? []) {
    inputs.env[richParameterEnvName(r.name)] = r.value;
  }
  return inputs;
}
