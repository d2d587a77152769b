// What a `variable` block (and the coder provider's feature flag) must look like, shared by
// the HCL reader (native-config.ts) and the JSON reader (config-file.ts), so that both syntaxes
// report the same problems with the same words.
import type { ConfigFile } from "./template-files.js";

export interface VariableValidation {
  /** Exact source text of the condition expression. */
  condition: string;
  errorMessage: string;
}

/**
 * What one `variable` block says. Attributes that the block leaves out are absent (not
 * defaulted), because an override file only replaces what it mentions.
 */
export interface VariableBlock {
  name: string;
  file: string;
  line: number;
  description?: string;
  type?: string;
  /** Present when the block has a `default` attribute (`value` may be null). */
  default?: { value: unknown };
  sensitive?: boolean;
  validations?: VariableValidation[];
}

export interface FileDiagnostic {
  file: string;
  /** 1-based, 0 when unknown. */
  line: number;
  message: string;
}

export interface ConfigFileContents {
  variables: VariableBlock[];
  /** `provider "coder" { feature_use_managed_variables = ... }`, when this file sets it. */
  managedVariables?: { value: boolean; line: number };
  diagnostics: FileDiagnostic[];
}

export const VARIABLE_NAME = /^[\p{L}_][\p{L}\p{N}_-]*$/u;

export function invalidNameMessage(name: string): string {
  return `Invalid variable name "${name}": a name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes`;
}

export const MANAGED_FLAG_MESSAGE =
  'provider "coder": feature_use_managed_variables must be true or false';

/** Terraform accepts a bool or the strings "true"/"false" where a bool is expected. */
export function asBool(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  return undefined;
}

/** Variable blocks must have exactly one label, the name. */
export function labelDiagnostics(
  file: ConfigFile,
  blocks: readonly { type: string; labels: readonly string[]; line: number }[],
): FileDiagnostic[] {
  return blocks
    .filter((h) => h.type === "variable" && h.labels.length !== 1)
    .map((h) => ({
      file: file.name,
      line: h.line,
      message:
        h.labels.length === 0
          ? "Missing name for variable: all variable blocks must have 1 label (name)"
          : "Extraneous label for variable: only 1 label (name) is expected for variable blocks",
    }));
}
