// The dependency graph of a plan, derived from the plan JSON's `configuration` section instead of
// running `terraform graph`. It has the nodes terraform's detailed graph has between resources
// (module variables and outputs, locals, module expansion, providers), joined by each
// expression's references, count/for_each and depends_on, and is reduced the way terraform
// reduces its graph — so the nearest-resource search finds what it finds on terraform's graph.
import { z } from "zod";
import type { DotGraph } from "../dot.js";
import { describeIssues } from "../terraform-json.js";
import { addressLabel } from "./address.js";
import { DependencyEdges } from "./reduce.js";

/** The configuration lacks something the graph needs; `terraform graph` must be asked instead. */
export class GraphDerivationError extends Error {
  override readonly name = "GraphDerivationError";
}

/**
 * References made by each local value, per module: the plan JSON does not describe locals, so
 * they come from the template's source (see ./locals.ts). Keyed by module prefix ("" for the
 * root module, "module.a." for a child).
 */
export type LocalReferences = (modulePrefix: string) => Map<string, string[]> | undefined;

interface ResourceConfig {
  address: string;
  provider_config_key?: string | undefined;
  expressions?: unknown;
  count_expression?: unknown;
  for_each_expression?: unknown;
  provisioners?: unknown;
  depends_on?: string[] | undefined;
}

interface ModuleCall {
  expressions?: unknown;
  count_expression?: unknown;
  for_each_expression?: unknown;
  depends_on?: string[] | undefined;
  module?: ModuleConfig | undefined;
}

interface ModuleConfig {
  resources?: ResourceConfig[] | undefined;
  module_calls?: Record<string, ModuleCall> | undefined;
  outputs?: Record<string, { expression?: unknown; depends_on?: string[] | undefined }> | undefined;
}

const dependsOn = z.array(z.string()).optional();

const resourceSchema = z.object({
  address: z.string(),
  provider_config_key: z.string().optional(),
  expressions: z.unknown().optional(),
  count_expression: z.unknown().optional(),
  for_each_expression: z.unknown().optional(),
  provisioners: z.unknown().optional(),
  depends_on: dependsOn,
});

const moduleSchema: z.ZodType<ModuleConfig> = z.lazy(() =>
  z.object({
    resources: z.array(resourceSchema).optional(),
    module_calls: z
      .record(
        z.string(),
        z.object({
          expressions: z.unknown().optional(),
          count_expression: z.unknown().optional(),
          for_each_expression: z.unknown().optional(),
          depends_on: dependsOn,
          module: moduleSchema.optional(),
        }),
      )
      .optional(),
    outputs: z
      .record(z.string(), z.object({ expression: z.unknown().optional(), depends_on: dependsOn }))
      .optional(),
  }),
);

const configurationSchema = z.object({
  provider_config: z
    .record(
      z.string(),
      z.object({ module_address: z.string().optional(), expressions: z.unknown().optional() }),
    )
    .optional(),
  root_module: moduleSchema,
});

/**
 * The graph of a plan's configuration (`configuration` of `terraform show -json <plan>`).
 * Throws GraphDerivationError when the section is missing or malformed, or when an expression
 * refers to something it does not describe (a local value that `locals` does not resolve).
 */
export function configurationGraph(configuration: unknown, locals?: LocalReferences): DotGraph {
  if (configuration === undefined || configuration === null) {
    throw new GraphDerivationError("the plan has no configuration section");
  }
  const parsed = configurationSchema.safeParse(configuration);
  if (!parsed.success) {
    throw new GraphDerivationError(`plan configuration: ${describeIssues(parsed.error)}`);
  }
  return new ConfigWalker(locals).graph(parsed.data);
}

class ConfigWalker {
  private readonly edges = new DependencyEdges();

  constructor(private readonly locals: LocalReferences | undefined) {}

  graph(configuration: z.infer<typeof configurationSchema>): DotGraph {
    this.module(configuration.root_module, "");
    for (const [key, provider] of Object.entries(configuration.provider_config ?? {})) {
      const prefix = provider.module_address === undefined ? "" : `${provider.module_address}.`;
      const node = providerNode(key);
      this.edges.addNode({ id: node });
      this.dependOn(node, prefix, collectReferences(provider.expressions));
    }
    return this.edges.toGraph();
  }

  /** `prefix` is the module's address plus a dot ("" for the root module). */
  private module(module: ModuleConfig, prefix: string): void {
    const scope = new ModuleScope(module, prefix);
    const expand = prefix === "" ? undefined : expandNode(prefix);
    for (const resource of module.resources ?? []) {
      const address = `${prefix}${resource.address}`;
      const node = resourceNode(address);
      this.edges.addNode({ id: node, label: address });
      if (expand !== undefined) this.edges.addEdge(node, expand);
      if (resource.provider_config_key !== undefined) {
        this.edges.addEdge(node, providerNode(resource.provider_config_key));
      }
      const references = [
        ...collectReferences(resource.expressions),
        ...collectReferences(resource.count_expression),
        ...collectReferences(resource.for_each_expression),
        ...collectReferences(resource.provisioners),
      ].filter((reference) => !reference.startsWith("self."));
      this.dependOn(node, prefix, references, scope);
      this.dependOn(node, prefix, resource.depends_on ?? [], scope);
    }
    for (const [name, output] of Object.entries(module.outputs ?? {})) {
      const node = `[root] ${prefix}output.${name} (expand)`;
      this.edges.addNode({ id: node });
      if (expand !== undefined) this.edges.addEdge(node, expand);
      this.dependOn(node, prefix, collectReferences(output.expression), scope);
      this.dependOn(node, prefix, output.depends_on ?? [], scope);
    }
    const locals = this.locals?.(prefix);
    for (const [name, references] of locals ?? []) {
      const node = localNode(prefix, name);
      this.edges.addNode({ id: node });
      if (expand !== undefined) this.edges.addEdge(node, expand);
      this.dependOn(node, prefix, references, scope);
    }
    for (const [name, call] of Object.entries(module.module_calls ?? {})) {
      const child = `${prefix}module.${name}.`;
      const childExpand = expandNode(child);
      this.edges.addNode({ id: childExpand });
      if (expand !== undefined) this.edges.addEdge(childExpand, expand);
      const callReferences = [
        ...collectReferences(call.count_expression),
        ...collectReferences(call.for_each_expression),
        ...(call.depends_on ?? []),
      ];
      this.dependOn(childExpand, prefix, callReferences, scope);
      // Each input is a variable node of the child, depending on the caller's expression.
      const inputs = call.expressions;
      if (inputs !== undefined && (typeof inputs !== "object" || inputs === null)) {
        throw new GraphDerivationError(`module call ${child.slice(0, -1)}: malformed expressions`);
      }
      for (const [input, expression] of Object.entries((inputs ?? {}) as Record<string, unknown>)) {
        const node = `[root] ${child}var.${input} (expand)`;
        this.edges.addEdge(node, childExpand);
        this.dependOn(node, prefix, collectReferences(expression), scope);
      }
      if (call.module !== undefined) this.module(call.module, child);
    }
  }

  private dependOn(node: string, prefix: string, references: string[], scope?: ModuleScope): void {
    for (const target of resolveReferences(references, prefix, scope, this.locals)) {
      this.edges.addEdge(node, target);
    }
  }
}

/** What a module declares, to tell `x.y` (a resource) from a reference to something else. */
class ModuleScope {
  readonly resources = new Set<string>();
  readonly outputs = new Map<string, string[]>();

  constructor(module: ModuleConfig, prefix: string) {
    for (const resource of module.resources ?? []) this.resources.add(resource.address);
    for (const [name, call] of Object.entries(module.module_calls ?? {})) {
      const names = Object.keys(call.module?.outputs ?? {});
      this.outputs.set(
        name,
        names.map((output) => `[root] ${prefix}module.${name}.output.${output} (expand)`),
      );
    }
  }
}

/**
 * Graph nodes that references (as terraform lists them: `coder_agent.main.id`, then the
 * `coder_agent.main` it is part of) point to. A reference that is the start of another one in the
 * list is implied by it and skipped, so `module.m` next to `module.m.out` means the one output.
 */
function resolveReferences(
  references: string[],
  prefix: string,
  scope: ModuleScope | undefined,
  locals: LocalReferences | undefined,
): string[] {
  const labels = references.map(addressLabel);
  const targets: string[] = [];
  for (const [i, label] of labels.entries()) {
    const implied = labels.some(
      (other, j) => j !== i && other.length > label.length && other.startsWith(`${label}.`),
    );
    if (implied) continue;
    targets.push(...resolveReference(label, prefix, scope, locals));
  }
  return targets;
}

const ignoredRoots = new Set(["count", "each", "path", "terraform", "self"]);

function resolveReference(
  label: string,
  prefix: string,
  scope: ModuleScope | undefined,
  locals: LocalReferences | undefined,
): string[] {
  const parts = label.split(".");
  const [root, first, second] = parts;
  if (root === undefined || ignoredRoots.has(root)) return [];
  if (first === undefined) throw new GraphDerivationError(`unknown reference "${label}"`);
  switch (root) {
    case "var":
      return [`[root] ${prefix}var.${first} (expand)`];
    case "local": {
      if (locals?.(prefix)?.has(first) !== true) {
        throw new GraphDerivationError(
          `local.${first} in ${prefix === "" ? "the root module" : prefix.slice(0, -1)} is not described by the plan`,
        );
      }
      return [localNode(prefix, first)];
    }
    case "module": {
      const outputs = scope?.outputs.get(first);
      if (outputs === undefined) {
        throw new GraphDerivationError(`reference to unknown module "${label}"`);
      }
      if (second === undefined) return outputs;
      const node = `[root] ${prefix}module.${first}.output.${second} (expand)`;
      if (!outputs.includes(node)) {
        throw new GraphDerivationError(`reference to unknown module output "${label}"`);
      }
      return [node];
    }
    case "data": {
      if (second === undefined) throw new GraphDerivationError(`unknown reference "${label}"`);
      return [resourceTarget(`data.${first}.${second}`, prefix, scope, label)];
    }
    default:
      return [resourceTarget(`${root}.${first}`, prefix, scope, label)];
  }
}

function resourceTarget(
  address: string,
  prefix: string,
  scope: ModuleScope | undefined,
  reference: string,
): string {
  if (scope !== undefined && !scope.resources.has(address)) {
    throw new GraphDerivationError(`reference to unknown resource "${reference}"`);
  }
  return resourceNode(`${prefix}${address}`);
}

/**
 * Every `references` list inside an expression, a nested block (an object or a list of them)
 * or a list of expressions. Constant values are skipped: their keys are data, not syntax.
 */
export function collectReferences(value: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== "object" || node === null) return;
    for (const [key, child] of Object.entries(node)) {
      if (key === "constant_value") continue;
      if (key === "references" && Array.isArray(child)) {
        for (const reference of child) {
          if (typeof reference !== "string") {
            throw new GraphDerivationError("a reference in the plan configuration is not a string");
          }
          found.push(reference);
        }
        continue;
      }
      walk(child);
    }
  };
  walk(value);
  return found;
}

export const resourceNode = (address: string) => `[root] ${address} (expand)`;
const expandNode = (modulePrefix: string) => `[root] ${modulePrefix.slice(0, -1)} (expand)`;
const localNode = (prefix: string, name: string) => `[root] ${prefix}local.${name} (expand)`;
const providerNode = (key: string) => `[root] provider ${key}`;
