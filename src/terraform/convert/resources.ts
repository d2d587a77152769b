// Plan/state modules + `terraform graph` -> resources with agents, apps and metadata, rich
// parameters and git auth provider ids (as coder v0.17.4 resources.go, plus the
// v0.18 git auth addendum). Reference errors keep their texts; the output is sorted, where the
// reference's was in random map order.
import {
  Agent,
  App,
  AppSharingLevel,
  Healthcheck,
  type Resource,
  Resource_Metadata,
  Resource as ResourceMessage,
  RichParameter,
  RichParameterOption,
} from "../../provisioner/model.js";
import type { DotGraph } from "../dot.js";
import type { StateModule, StateResource } from "../terraform-json.js";
import { addressLabel } from "./address.js";
import {
  agentAttributesSchema,
  agentInstanceAttributesSchema,
  appAttributesSchema,
  ConversionError,
  decodeAttributes,
  metadataAttributesSchema,
  parameterAttributesSchema,
} from "./attributes.js";
import { ResourceGraph } from "./graph-search.js";

export interface ConvertResult {
  resources: Resource[];
  parameters: RichParameter[];
  /** Ids of `coder_git_auth` data sources, de-duplicated and sorted. */
  gitAuthProviders: string[];
}

const appSlugPattern = /^[a-z0-9](-?[a-z0-9])*$/;

/** Resource types that describe other resources rather than being workspace resources. */
const coderMetaTypes = new Set([
  "coder_agent",
  "coder_agent_instance",
  "coder_app",
  "coder_metadata",
]);

/** Cloud VM types whose agents can authenticate with the instance identity. */
const instanceIdentity: Record<string, { idAttribute: string; typeAttribute: string }> = {
  google_compute_instance: { idAttribute: "instance_id", typeAttribute: "machine_type" },
  aws_instance: { idAttribute: "id", typeAttribute: "instance_type" },
  aws_spot_instance_request: { idAttribute: "spot_instance_id", typeAttribute: "instance_type" },
  azurerm_linux_virtual_machine: { idAttribute: "virtual_machine_id", typeAttribute: "size" },
  azurerm_windows_virtual_machine: { idAttribute: "virtual_machine_id", typeAttribute: "size" },
};

interface Indexed {
  address: string;
  label: string;
  resource: StateResource;
}

/**
 * Converts plan or state modules with the graph terraform printed for them. `modules` may repeat
 * an address (prior state + planned values): the later module wins, nothing is duplicated.
 */
export function convertResources(modules: StateModule[], dot: string | DotGraph): ConvertResult {
  const graph = typeof dot === "string" ? ResourceGraph.parse(dot) : new ResourceGraph(dot);
  const index = indexModules(modules);
  const all = [...index.values()].sort(byAddress);
  const ofType = (type: string) => all.filter((r) => r.resource.type === type);

  // Labels of blocks that hold at least one real resource: the only things agents and metadata
  // can attach to.
  const attachable = new Set<string>();
  for (const r of all) {
    if (r.resource.mode === "managed" && !r.resource.type.startsWith("coder_")) {
      attachable.add(r.label);
    }
  }
  const isAttachable = (label: string) => attachable.has(label);

  // Agents -> the nearest resource that depends on them.
  const resourceAgents = new Map<string, Agent[]>();
  const agentLabels = new Map<Agent, string>();
  const agentNames = new Set<string>();
  for (const r of ofType("coder_agent")) {
    const attrs = decodeAttributes(
      agentAttributesSchema,
      r.resource.values,
      "decode agent attributes",
    );
    if (agentNames.has(r.resource.name)) {
      throw new ConversionError(`duplicate agent name: ${r.resource.name}`);
    }
    agentNames.add(r.resource.name);
    const agent = Agent.create({
      id: attrs.id ?? "",
      name: r.resource.name,
      env: attrs.env ?? {},
      startupScript: attrs.startup_script ?? "",
      operatingSystem: attrs.os ?? "",
      architecture: attrs.arch ?? "",
      directory: attrs.dir ?? "",
      connectionTimeoutSeconds: attrs.connection_timeout ?? 0,
      troubleshootingUrl: attrs.troubleshooting_url ?? "",
      motdFile: attrs.motd_file ?? "",
      // Providers before v0.6.10 have no such attribute and always allowed it.
      loginBeforeReady: attrs.login_before_ready ?? true,
      startupScriptTimeoutSeconds: attrs.startup_script_timeout ?? 0,
      auth:
        attrs.auth === "token"
          ? { $case: "token", value: attrs.token ?? "" }
          : { $case: "instanceId", value: "" },
    });
    const nodes = graph.nodesWithLabel(r.label);
    if (nodes.length === 0) throw new ConversionError(`couldn't find node on graph: "${r.label}"`);
    const target = graph.nearest(nodes, "up", isAttachable);
    // An agent that no resource depends on is dropped, as in the reference.
    if (target === undefined) continue;
    append(resourceAgents, target, agent);
    agentLabels.set(agent, r.label);
  }
  const attachedAgents = [...resourceAgents.keys()]
    .sort()
    .flatMap((label) => resourceAgents.get(label) ?? []);
  const agentsById = new Map<string, Agent[]>();
  for (const agent of attachedAgents) append(agentsById, agent.id, agent);
  const attachedAgentLabels = new Set(attachedAgents.map((agent) => agentLabels.get(agent)));

  // Instance ids given explicitly with coder_agent_instance (only known after apply).
  for (const r of ofType("coder_agent_instance")) {
    const attrs = decodeAttributes(
      agentInstanceAttributesSchema,
      r.resource.values,
      "decode agent instance attributes",
    );
    if (typeof attrs.agent_id !== "string" || typeof attrs.instance_id !== "string") continue;
    for (const agent of agentsById.get(attrs.agent_id) ?? []) {
      // Token agents keep their token (coder/coder#4551).
      if (agent.auth?.$case === "instanceId") {
        agent.auth = { $case: "instanceId", value: attrs.instance_id };
      }
    }
  }

  // Apps -> the agents whose id they name.
  const appSlugs = new Set<string>();
  for (const r of ofType("coder_app")) {
    const attrs = decodeAttributes(appAttributesSchema, r.resource.values, "decode app attributes");
    const slug = nonEmpty(attrs.slug) ?? r.resource.name;
    if (!appSlugPattern.test(slug)) {
      throw new ConversionError(
        `invalid app slug ${JSON.stringify(slug)}, please update your coder/coder provider to the latest version and specify the slug property on each coder_app`,
      );
    }
    if (appSlugs.has(slug)) {
      throw new ConversionError(
        `duplicate app slug, they must be unique per template: ${JSON.stringify(slug)}`,
      );
    }
    appSlugs.add(slug);
    const healthcheck = attrs.healthcheck?.[0];
    const agentId = attrs.agent_id ?? "";
    // Reference quirk fixed: in a first plan every agent id and app agent_id is unknown (""), and
    // the reference attached each app to every agent. We follow the app's dependency instead,
    // as later coder versions do.
    let plannedAgentLabel: string | undefined;
    if (agentId === "") {
      const nodes = graph.nodesWithLabel(r.label);
      plannedAgentLabel = graph.nearest(nodes, "down", (label) => attachedAgentLabels.has(label));
    }
    for (const agent of agentsById.get(agentId) ?? []) {
      if (agentId === "" && agentLabels.get(agent) !== plannedAgentLabel) continue;
      agent.apps.push(
        App.create({
          slug,
          displayName: nonEmpty(attrs.display_name) ?? nonEmpty(attrs.name) ?? slug,
          command: attrs.command ?? "",
          url: attrs.url ?? "",
          icon: attrs.icon ?? "",
          external: attrs.external ?? false,
          subdomain: attrs.subdomain ?? false,
          sharingLevel: sharingLevel(attrs.share),
          healthcheck:
            healthcheck === undefined
              ? undefined
              : Healthcheck.create({
                  url: healthcheck.url ?? "",
                  interval: healthcheck.interval ?? 0,
                  threshold: healthcheck.threshold ?? 0,
                }),
        }),
      );
    }
  }

  // Metadata -> the nearest resource it depends on.
  const metadata = new Map<
    string,
    { hide: boolean; icon: string; dailyCost: number; items: Resource_Metadata[] }
  >();
  for (const r of ofType("coder_metadata")) {
    const attrs = decodeAttributes(
      metadataAttributesSchema,
      r.resource.values,
      "decode metadata attributes",
    );
    const nodes = graph.nodesWithLabel(r.label);
    if (nodes.length === 0) continue;
    const target = graph.nearest(nodes, "down", isAttachable);
    if (target === undefined) continue;
    const entry = metadata.get(target) ?? { hide: false, icon: "", dailyCost: 0, items: [] };
    // Several coder_metadata on one resource: the last by address wins (the reference: random).
    entry.hide = attrs.hide ?? false;
    entry.icon = attrs.icon ?? "";
    entry.dailyCost = attrs.daily_cost ?? 0;
    for (const item of attrs.item ?? []) {
      entry.items.push(
        Resource_Metadata.create({
          key: item.key ?? "",
          value: item.value ?? "",
          sensitive: item.sensitive ?? false,
          // Unknown in a plan (null) -> false; the state has the real value.
          isNull: item.is_null ?? false,
        }),
      );
    }
    metadata.set(target, entry);
  }

  // The resources themselves.
  const resources: Array<{ resource: Resource; address: string }> = [];
  for (const r of all) {
    if (r.resource.mode === "data" || coderMetaTypes.has(r.resource.type)) continue;
    // Every instance of a counted block gets the block's agents and metadata (reference rule).
    const agents = resourceAgents.get(r.label) ?? [];
    const meta = metadata.get(r.label);
    const values = r.resource.values ?? {};
    let instanceType = "";
    const identity = instanceIdentity[r.resource.type];
    if (identity !== undefined) {
      const instanceId = values[identity.idAttribute];
      // Reference quirk fixed: it also switched token agents whose token was still unknown (a
      // plan) to instance auth. Only agents that chose instance identity get the VM's id.
      if (typeof instanceId === "string" && instanceId !== "") {
        for (const agent of agents) {
          if (agent.auth?.$case === "instanceId" && agent.auth.value === "") {
            agent.auth = { $case: "instanceId", value: instanceId };
          }
        }
      }
      const type = values[identity.typeAttribute];
      if (typeof type === "string") instanceType = type;
    }
    resources.push({
      address: r.address,
      resource: ResourceMessage.create({
        name: r.resource.name,
        type: r.resource.type,
        agents,
        metadata: meta?.items ?? [],
        hide: meta?.hide ?? false,
        icon: meta?.icon ?? "",
        dailyCost: meta?.dailyCost ?? 0,
        instanceType,
      }),
    });
  }

  const parameters = convertParameters(ofType("coder_parameter"));
  const gitAuthProviders = convertGitAuth(ofType("coder_git_auth"));

  for (const agent of attachedAgents) agent.apps.sort((a, b) => compare(a.slug, b.slug));
  for (const agents of resourceAgents.values()) agents.sort((a, b) => compare(a.name, b.name));
  resources.sort(
    (a, b) =>
      compare(a.resource.name, b.resource.name) ||
      compare(a.resource.type, b.resource.type) ||
      compare(a.address, b.address),
  );
  return { resources: resources.map((r) => r.resource), parameters, gitAuthProviders };
}

/** Every resource by address; children before their parent's own resources, later wins. */
function indexModules(modules: StateModule[]): Map<string, Indexed> {
  const index = new Map<string, Indexed>();
  const walk = (module: StateModule) => {
    for (const child of module.child_modules ?? []) walk(child);
    for (const resource of module.resources ?? []) {
      index.set(resource.address, {
        address: resource.address,
        label: addressLabel(resource.address),
        resource,
      });
    }
  };
  for (const module of modules) walk(module);
  return index;
}

function convertParameters(found: Indexed[]): RichParameter[] {
  const parameters: RichParameter[] = [];
  const names = new Set<string>();
  for (const r of found) {
    const attrs = decodeAttributes(
      parameterAttributesSchema,
      r.resource.values,
      `decode map values for coder_parameter.${r.resource.name}`,
    );
    const name = attrs.name ?? "";
    // Not checked by v0.17 (coderd failed later on its unique index); later coder versions check.
    if (names.has(name)) {
      throw new ConversionError(
        `coder_parameter names must be unique but ${JSON.stringify(name)} appears multiple times`,
      );
    }
    names.add(name);
    const parameter = RichParameter.create({
      name,
      description: attrs.description ?? "",
      type: attrs.type ?? "",
      mutable: attrs.mutable ?? false,
      defaultValue: attrs.default ?? "",
      icon: attrs.icon ?? "",
      options: (attrs.option ?? []).map((option) =>
        RichParameterOption.create({
          name: option.name ?? "",
          description: option.description ?? "",
          value: option.value ?? "",
          icon: option.icon ?? "",
        }),
      ),
    });
    const validation = attrs.validation;
    if (validation?.length === 1 && validation[0] !== undefined) {
      const v = validation[0];
      parameter.validationRegex = v.regex ?? "";
      parameter.validationError = v.error ?? "";
      parameter.validationMin = v.min ?? 0;
      parameter.validationMax = v.max ?? 0;
      parameter.validationMonotonic = v.monotonic ?? "";
      parameter.validationMinSet = v.min != null && v.min_disabled !== true;
      parameter.validationMaxSet = v.max != null && v.max_disabled !== true;
    }
    parameters.push(parameter);
  }
  // Sorted by name for a deterministic result; options keep the template's order (the UI's).
  return parameters.sort((a, b) => compare(a.name, b.name));
}

function convertGitAuth(found: Indexed[]): string[] {
  const ids = new Set<string>();
  for (const r of found) {
    const id = r.resource.values?.id;
    if (typeof id !== "string") throw new ConversionError("git auth id is not a string");
    ids.add(id);
  }
  return [...ids].sort();
}

function sharingLevel(share: string | null | undefined): AppSharingLevel {
  switch ((share ?? "").toLowerCase()) {
    case "authenticated":
      return AppSharingLevel.AUTHENTICATED;
    case "public":
      return AppSharingLevel.PUBLIC;
    default:
      return AppSharingLevel.OWNER;
  }
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === "" ? undefined : value;
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function byAddress(a: Indexed, b: Indexed): number {
  return compare(a.address, b.address);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
