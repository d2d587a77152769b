// The state file terraform writes (terraform.tfstate, format version 4), read directly instead of
// asking `terraform show -json` to render it: the same resources, without starting terraform and
// every provider of the template again.
import { z } from "zod";
import {
  describeIssues,
  type StateModule,
  type StateResource,
  TerraformJsonError,
} from "./terraform-json.js";

/** The only state format this module reads; terraform has written it since 0.12. */
export const supportedStateVersion = 4;

/** The state file is of a format version this module does not read. */
export class StateVersionError extends Error {
  override readonly name = "StateVersionError";
}

/** The state file claims version 4 but is not what that format describes. */
export class StateFileError extends TerraformJsonError {}

const instanceSchema = z.object({
  index_key: z.union([z.number().int(), z.string()]).optional(),
  deposed: z.string().optional(),
  attributes: z.record(z.string(), z.unknown()).nullish(),
  /** Terraform 0.11's flat attributes: only terraform, knowing the schemas, can decode them. */
  attributes_flat: z.unknown().optional(),
  dependencies: z.array(z.string()).optional(),
});

const stateSchema = z.object({
  version: z.literal(supportedStateVersion),
  resources: z
    .array(
      z.object({
        module: z.string().optional(),
        mode: z.enum(["managed", "data"]),
        type: z.string(),
        name: z.string(),
        instances: z.array(instanceSchema),
      }),
    )
    .optional(),
});

/**
 * The modules `terraform show -json` would print for this state, in the shape conversion reads.
 * Empty text (no state) has no modules. Throws StateVersionError for a format version other than
 * 4 (the caller then asks terraform), StateFileError for anything else that is wrong.
 */
export function stateFileModules(text: string, source: string): StateModule[] {
  if (text.trim() === "") return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StateFileError(`${source}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== supportedStateVersion) {
    throw new StateVersionError(
      `${source}: state format version ${JSON.stringify(version)} is not ${supportedStateVersion}`,
    );
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    throw new StateFileError(`${source}: unexpected shape: ${describeIssues(parsed.error)}`);
  }
  const byModule = new Map<string, StateResource[]>();
  for (const resource of parsed.data.resources ?? []) {
    const module = resource.module ?? "";
    const base = `${module === "" ? "" : `${module}.`}${resource.mode === "data" ? "data." : ""}${resource.type}.${resource.name}`;
    // Current objects before deposed ones, as terraform prints them.
    const instances = [...resource.instances].sort(
      (a, b) => Number(a.deposed !== undefined) - Number(b.deposed !== undefined),
    );
    for (const instance of instances) {
      if (instance.attributes == null && instance.attributes_flat !== undefined) {
        throw new StateVersionError(
          `${source}: ${base} has only flat (terraform 0.11) attributes, which need the schemas to read`,
        );
      }
      const key = instance.index_key;
      const address =
        key === undefined
          ? base
          : `${base}[${typeof key === "number" ? key : JSON.stringify(key)}]`;
      const list = byModule.get(module) ?? [];
      list.push({
        address,
        mode: resource.mode,
        type: resource.type,
        name: resource.name,
        values: instance.attributes ?? {},
        ...(instance.dependencies === undefined ? {} : { depends_on: instance.dependencies }),
      });
      byModule.set(module, list);
    }
  }
  if (byModule.size === 0) return [];
  const root: StateModule = { resources: byModule.get("") ?? [], child_modules: [] };
  for (const [address, resources] of [...byModule].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (address !== "") root.child_modules?.push({ address, resources });
  }
  return [root];
}
