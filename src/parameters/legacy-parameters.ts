// Legacy parameters: which value each schema of an import job ends up with, by scope
// precedence, and the check that every schema got one (`missing parameter: <name>`). Inputs are
// plain data (schemas + the value rows of each scope) so a test coderd and the local build
// mode can call this without a database.
import { z } from "zod";
import {
  ParameterDestination_Scheme,
  type ParameterSchema,
  ParameterSource_Scheme,
  ParameterValue,
} from "../provisioner/model.js";

export type ParameterScope = "import_job" | "template" | "workspace";
export type DestinationScheme = "none" | "environment_variable" | "provisioner_variable";

/** One stored `parameter_values` row of some scope (the scope is the list it is passed in). */
export const parameterValueRowSchema = z.object({
  name: z.string().min(1, "parameter value name is empty").max(64),
  sourceScheme: z.string().default("data"),
  sourceValue: z.string(),
  destinationScheme: z
    .enum(["none", "environment_variable", "provisioner_variable"])
    .default("provisioner_variable"),
});
export type ParameterValueRow = z.input<typeof parameterValueRowSchema>;

export interface ComputeParameterValuesInput {
  /** The import job's schemas, in parse order (a schema's index is its position). */
  schemas: readonly ParameterSchema[];
  /** Values of scope `import_job` (given when the template version was created). */
  importJobValues?: readonly ParameterValueRow[];
  /** Values of scope `template`. */
  templateValues?: readonly ParameterValueRow[];
  /** Values of scope `workspace`. */
  workspaceValues?: readonly ParameterValueRow[];
  /** Dry-run values; they act with scope `workspace`. */
  additionalValues?: readonly ParameterValueRow[];
  /** Blank values of schemas that must not be redisplayed (API listings only). */
  hideRedisplayValues?: boolean;
}

export interface ComputedParameterValue {
  name: string;
  sourceValue: string;
  destinationScheme: DestinationScheme;
  /** Scope the winning value came from (`import_job` for a schema default). */
  scope: ParameterScope;
  /** True when the value is the schema's default, not a stored value. */
  defaultSourceValue: boolean;
  /** Position of the schema in the import job's list. */
  schemaIndex: number;
  /** The schema says not to redisplay it (a `sensitive` variable): never log or print it. */
  sensitive: boolean;
}

/** A value or schema that cannot be used. Names the parameter, never shows a value. */
export class ParameterComputeError extends Error {
  override readonly name = "ParameterComputeError";
}

/** Some schemas ended with no value. One `missing parameter: <name>` line per schema. */
export class MissingParametersError extends Error {
  override readonly name = "MissingParametersError";
  constructor(readonly names: readonly string[]) {
    super(names.map((n) => `missing parameter: ${n}`).join("\n"));
  }
}

function destinationOf(schema: ParameterSchema): DestinationScheme {
  switch (schema.defaultDestination?.scheme) {
    case ParameterDestination_Scheme.PROVISIONER_VARIABLE:
      return "provisioner_variable";
    case ParameterDestination_Scheme.ENVIRONMENT_VARIABLE:
      return "environment_variable";
    default:
      return "none";
  }
}

function parseRows(
  rows: readonly ParameterValueRow[] | undefined,
  scope: string,
): z.output<typeof parameterValueRowSchema>[] {
  return (rows ?? []).map((row, index) => {
    const parsed = parameterValueRowSchema.safeParse(row);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join(".") || "value";
      const name = typeof row?.name === "string" ? ` "${row.name}"` : "";
      throw new ParameterComputeError(
        `invalid ${scope} parameter value #${index + 1}${name}: bad ${field}`,
      );
    }
    return parsed.data;
  });
}

export function computeParameterValues(
  input: ComputeParameterValuesInput,
): ComputedParameterValue[] {
  const schemas = new Map<string, { schema: ParameterSchema; index: number }>();
  input.schemas.forEach((schema, index) => {
    schemas.set(schema.name, { schema, index });
  });
  const computed = new Map<string, ComputedParameterValue>();

  const inject = (
    row: z.output<typeof parameterValueRowSchema>,
    scope: ParameterScope,
    defaultSourceValue = false,
  ) => {
    const entry = schemas.get(row.name);
    if (!entry) return; // templates only receive what they declare
    // Workspaces cannot override anything on a template that forbids it (sensitive variables).
    if (computed.has(row.name) && !entry.schema.allowOverrideSource && scope === "workspace") {
      return;
    }
    if (row.sourceScheme !== "data") {
      throw new ParameterComputeError(
        `unsupported source scheme "${row.sourceScheme}" for parameter "${row.name}"`,
      );
    }
    const sensitive = !entry.schema.redisplayValue;
    computed.set(row.name, {
      name: row.name,
      sourceValue: input.hideRedisplayValues && sensitive ? "" : row.sourceValue,
      destinationScheme: row.destinationScheme,
      scope,
      defaultSourceValue,
      schemaIndex: entry.index,
      sensitive,
    });
  };

  for (const row of parseRows(input.importJobValues, "import job")) inject(row, "import_job");
  for (const { schema } of schemas.values()) {
    if (computed.has(schema.name) || !schema.defaultSource) continue;
    if (schema.defaultSource.scheme !== ParameterSource_Scheme.DATA) {
      throw new ParameterComputeError(
        `unsupported source scheme for template version parameter "${schema.name}"`,
      );
    }
    inject(
      {
        name: schema.name,
        sourceScheme: "data",
        sourceValue: schema.defaultSource.value,
        destinationScheme: destinationOf(schema),
      },
      "import_job",
      true,
    );
  }
  for (const row of parseRows(input.templateValues, "template")) inject(row, "template");
  for (const row of parseRows(input.workspaceValues, "workspace")) inject(row, "workspace");
  for (const row of parseRows(input.additionalValues, "dry-run")) inject(row, "workspace");

  return [...computed.values()].sort((a, b) => a.schemaIndex - b.schemaIndex);
}

/** Names of schemas without a computed value, in schema order. */
export function missingParameters(
  schemas: readonly ParameterSchema[],
  values: readonly ComputedParameterValue[],
): string[] {
  const have = new Set(values.map((v) => v.name));
  return schemas.map((s) => s.name).filter((name) => !have.has(name));
}

/** Throws MissingParametersError naming every schema without a value. */
export function assertNoMissingParameters(
  schemas: readonly ParameterSchema[],
  values: readonly ComputedParameterValue[],
): void {
  const missing = missingParameters(schemas, values);
  if (missing.length > 0) throw new MissingParametersError(missing);
}

/** Computed values → what a plan request carries (sensitive ones flagged for redaction). */
export function toParameterValues(values: readonly ComputedParameterValue[]): ParameterValue[] {
  return values.map((v) => {
    let destinationScheme: ParameterDestination_Scheme;
    switch (v.destinationScheme) {
      case "environment_variable":
        destinationScheme = ParameterDestination_Scheme.ENVIRONMENT_VARIABLE;
        break;
      case "provisioner_variable":
        destinationScheme = ParameterDestination_Scheme.PROVISIONER_VARIABLE;
        break;
      default:
        throw new ParameterComputeError(
          `unrecognized destination scheme "${v.destinationScheme}" for parameter "${v.name}"`,
        );
    }
    return ParameterValue.create({
      destinationScheme,
      name: v.name,
      value: v.sourceValue,
      sensitive: v.sensitive,
    });
  });
}
