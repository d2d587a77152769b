// The parts of `terraform show -json` (plan and state) that conversion reads, validated with zod
// so that a malformed or unexpected document is a clear error naming the field, not a crash deep
// inside conversion.
import { z } from "zod";

export interface StateResource {
  address: string;
  mode: string;
  type: string;
  name: string;
  /** Attribute values; absent or null when terraform printed none. */
  values?: Record<string, unknown> | null | undefined;
  /** Addresses of the resources this one depends on, directly or not (state only). */
  depends_on?: string[] | undefined;
}

export interface StateModule {
  address?: string | undefined;
  resources?: StateResource[] | undefined;
  child_modules?: StateModule[] | undefined;
}

const stateResourceSchema = z.object({
  address: z.string(),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  values: z.record(z.string(), z.unknown()).nullish(),
  depends_on: z.array(z.string()).optional(),
});

export const stateModuleSchema: z.ZodType<StateModule> = z.lazy(() =>
  z.object({
    address: z.string().optional(),
    resources: z.array(stateResourceSchema).optional(),
    child_modules: z.array(stateModuleSchema).optional(),
  }),
);

const valuesSchema = z.object({ root_module: stateModuleSchema.optional() });

const outputValueSchema = z.object({
  sensitive: z.boolean().optional(),
  // Absent while the value is unknown (known after apply).
  value: z.unknown().optional(),
});

const resourceChangeSchema = z.object({
  address: z.string(),
  mode: z.string(),
  type: z.string(),
  name: z.string(),
  change: z.object({ actions: z.array(z.string()) }),
});

export const planJsonSchema = z.object({
  format_version: z.string().optional(),
  terraform_version: z.string().optional(),
  planned_values: valuesSchema
    .extend({ outputs: z.record(z.string(), outputValueSchema).optional() })
    .optional(),
  resource_changes: z.array(resourceChangeSchema).optional(),
  prior_state: z.object({ values: valuesSchema.nullish() }).nullish(),
  /**
   * The configuration with each expression's references; validated where it is used
   * (convert/config-graph.ts), so that a shape we do not know only costs a `terraform graph`.
   */
  configuration: z.unknown().optional(),
});

export const stateJsonSchema = z.object({
  format_version: z.string().optional(),
  terraform_version: z.string().optional(),
  values: valuesSchema.nullish(),
});

export type PlanJson = z.infer<typeof planJsonSchema>;
export type StateJson = z.infer<typeof stateJsonSchema>;

/** Terraform printed JSON we cannot use. `source` names the document (e.g. "terraform show -json"). */
export class TerraformJsonError extends Error {
  override readonly name = "TerraformJsonError";
}

function parseDocument<T>(text: string, schema: z.ZodType<T>, source: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new TerraformJsonError(`${source}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new TerraformJsonError(`${source}: unexpected shape: ${describeIssues(result.error)}`);
  }
  return result.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}`)
    .join("; ");
}

export function parsePlanJson(text: string, source = "terraform show -json (plan)"): PlanJson {
  return parseDocument(text, planJsonSchema, source);
}

export function parseStateJson(text: string, source = "terraform show -json (state)"): StateJson {
  return parseDocument(text, stateJsonSchema, source);
}

/**
 * The modules a plan is converted from: the data sources of the prior state (rich parameters and
 * git auth only show up there), then the planned values.
 *
 * Reference quirk fixed: v0.17 passed the whole prior state, so a stop plan also listed the
 * resources it was about to destroy (and quota counted them). Later coder versions keep only the
 * data sources of the prior state; so do we.
 */
export function planModules(plan: PlanJson): StateModule[] {
  const modules: StateModule[] = [];
  const prior = plan.prior_state?.values?.root_module;
  if (prior !== undefined) modules.push(onlyDataResources(prior));
  const planned = plan.planned_values?.root_module;
  if (planned !== undefined) modules.push(planned);
  return modules;
}

/** The modules a state is converted from (none when the state has no values). */
export function stateModules(state: StateJson): StateModule[] {
  const root = state.values?.root_module;
  return root === undefined ? [] : [root];
}

function onlyDataResources(module: StateModule): StateModule {
  return {
    address: module.address,
    resources: module.resources?.filter((resource) => resource.mode === "data"),
    child_modules: module.child_modules?.map(onlyDataResources),
  };
}
