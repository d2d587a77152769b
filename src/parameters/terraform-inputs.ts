// Resolved values -> what the terraform process gets: `-var` arguments and environment entries.
// One place decides this so that plan, the parameter tests and the local build agree.
import { createHash } from "node:crypto";
import {
  ParameterDestination_Scheme,
  type ParameterValue,
  type RichParameterValue,
  type VariableValue,
} from "../provisioner/model.js";
import type { SensitiveValue } from "../terraform/redact.js";

export interface TerraformInputs {
  /**
   * `name=value` pairs with `-var name=value` meaning. Plan writes them into a var file rather
   * than argv, which every user on the host can read (src/terraform/var-file.ts).
   */
  vars: string[];
  /** Extra environment entries for the terraform process. */
  env: Record<string, string>;
  /** Values that must never be printed (for log and error redaction), with their names. */
  secrets: SensitiveValue[];
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

// Terraform splits `-var name=value` at the first `=`; an environment name cannot hold `=` or
// NUL. A bad name would silently set the wrong thing (or crash the spawn), so refuse it.
function checkName(kind: string, name: string): void {
  if (name === "" || name.includes("=") || name.includes("\0")) {
    throw new TerraformInputError(`invalid ${kind} name ${JSON.stringify(name)}`);
  }
}

// Neither argv nor the environment can carry NUL; say which value, never what it is.
function checkValue(kind: string, name: string, value: string): void {
  if (value.includes("\0")) {
    throw new TerraformInputError(
      `the value of ${kind} ${JSON.stringify(name)} contains a NUL character`,
    );
  }
}

export function toTerraformInputs(values: ResolvedValues): TerraformInputs {
  const inputs: TerraformInputs = { vars: [], env: {}, secrets: [] };
  const secret = (label: string, value: string, sensitive: boolean) => {
    if (sensitive && value !== "") inputs.secrets.push({ label, value });
  };
  for (const p of values.parameterValues ?? []) {
    checkValue("parameter", p.name, p.value);
    switch (p.destinationScheme) {
      case ParameterDestination_Scheme.PROVISIONER_VARIABLE:
        checkName("parameter", p.name);
        inputs.vars.push(`${p.name}=${p.value}`);
        break;
      case ParameterDestination_Scheme.ENVIRONMENT_VARIABLE:
        checkName("environment variable", p.name);
        inputs.env[p.name] = p.value;
        break;
      default:
        throw new TerraformInputError(
          `unsupported parameter type ${String(p.destinationScheme)} for parameter "${p.name}"`,
        );
    }
    secret(`parameter ${JSON.stringify(p.name)}`, p.value, p.sensitive);
  }
  for (const v of values.variableValues ?? []) {
    checkName("template variable", v.name);
    checkValue("template variable", v.name, v.value);
    inputs.vars.push(`${v.name}=${v.value}`);
    secret(`template variable ${JSON.stringify(v.name)}`, v.value, v.sensitive);
  }
  for (const r of values.richParameterValues ?? []) {
    checkValue("rich parameter", r.name, r.value);
    inputs.env[richParameterEnvName(r.name)] = r.value;
  }
  return inputs;
}
