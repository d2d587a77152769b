// Plan/state modules + `terraform graph` -> resources with agents (and their apps, scripts, env,
// devcontainers), rich parameters, presets, external auth providers and AI tasks, as Coder's
// converter does. Reference errors keep their texts; resources and agents come out sorted, where
// the reference's were in random map order.
import {
  type Agent,
  type ConvertedState,
  type Resource,
  Resource_Metadata,
  Resource as ResourceMessage,
} from "../../provisioner/model.js";
import type { DotGraph } from "../dot.js";
import type { StateModule } from "../terraform-json.js";
import { addressLabel } from "./address.js";
import { placeAgents } from "./agents.js";
import {
  attachApps,
  attachDevcontainers,
  attachEnvs,
  attachScripts,
  Owners,
} from "./attachments.js";
import {
  agentInstanceAttributesSchema,
  ConversionError,
  decodeAttributes,
  metadataAttributesSchema,
} from "./attributes.js";
import { ResourceGraph } from "./graph-search.js";
import { compare, type Indexed } from "./indexed.js";
import { modulePath } from "./module-path.js";
import { convertParameters } from "./parameters.js";
import { convertAITasks, convertExternalAuth, convertPresets } from "./template-data.js";

/** What a conversion finds, plus the external auth ids the v0.17 layout calls git auth providers. */
export type ConvertResult = ConvertedState & { gitAuthProviders: string[] };

/** Managed coder_ types that describe other resources rather than being workspace resources. */
const describingTypes = new Set([
  "coder_agent",
  "coder_agent_instance",
  "coder_app",
  "coder_metadata",
  "coder_script",
]);

/** The only coder_ resource an agent can belong to. */
const EXTERNAL_AGENT = "coder_external_agent";

/** Cloud VM types whose agents can authenticate with the instance identity. */
const instanceIdentity: Record<string, { idAttribute: string; typeAttribute: string }> = {
  google_compute_instance: { idAttribute: "instance_id", typeAttribute: "machine_type" },
  aws_instance: { idAttribute: "id", typeAttribute: "instance_type" },
  aws_spot_instance_request: { idAttribute: "spot_instance_id", typeAttribute: "instance_type" },
  azurerm_linux_virtual_machine: { idAttribute: "virtual_machine_id", typeAttribute: "size" },
  azurerm_windows_virtual_machine: { idAttribute: "virtual_machine_id", typeAttribute: "size" },
};

interface ResourceDetails {
  hide: boolean;
  icon: string;
  dailyCost: number;
  items: Resource_Metadata[];
}

/**
 * Converts plan or state modules with the graph terraform printed for them. `modules` may repeat
 * an address (prior state + planned values): resources are keyed by address, the later module
 * wins. Parameters, presets and AI tasks are read from every module as given.
 */
export function convertResources(modules: StateModule[], dot: string | DotGraph): ConvertResult {
  const graph = typeof dot === "string" ? ResourceGraph.parse(dot) : new ResourceGraph(dot);
  const byAddress = indexModules(modules);
  const ofType = typesOf(byAddress);

  const placement = placeAgents(ofType("coder_agent"), graph, attachableLabels(byAddress));
  const owners = new Owners(placement.placed, graph);
  attachDevcontainers(ofType("coder_devcontainer"), owners);
  applyAgentInstances(
    ofType("coder_agent_instance"),
    placement.placed.map((p) => p.agent),
  );
  attachApps(ofType("coder_app"), owners);
  attachEnvs(ofType("coder_env"), owners);
  attachScripts(ofType("coder_script"), owners);
  const details = resourceDetails(ofType("coder_metadata"), graph, attachableLabels(byAddress));
  const resources = workspaceResources(byAddress, placement.byResource, details);

  const walked = inModuleOrder(modules);
  const externalAuthProviders = convertExternalAuth(
    ofType("coder_git_auth"),
    ofType("coder_external_auth"),
  );
  const aiTasks = convertAITasks(walked("coder_ai_task"));
  return {
    resources,
    parameters: convertParameters(walked("coder_parameter")),
    presets: convertPresets(walked("coder_workspace_preset")),
    externalAuthProviders,
    aiTasks,
    hasAiTasks: aiTasks.length > 0,
    hasExternalAgents: graph.someLabel(
      (label) => label.startsWith(`${EXTERNAL_AGENT}.`) || label.includes(`.${EXTERNAL_AGENT}.`),
    ),
    gitAuthProviders: externalAuthProviders.map((p) => p.id),
  };
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

/** Resources of one type, sorted by address. */
function typesOf(byAddress: Map<string, Indexed>): (type: string) => Indexed[] {
  const groups = new Map<string, Indexed[]>();
  for (const r of [...byAddress.values()].sort((a, b) => compare(a.address, b.address))) {
    const list = groups.get(r.resource.type);
    if (list === undefined) groups.set(r.resource.type, [r]);
    else list.push(r);
  }
  return (type) => groups.get(type) ?? [];
}

/** Resources of one type in every module as given, without de-duplication. */
function inModuleOrder(modules: StateModule[]): (type: string) => Indexed[] {
  return (type) => {
    const found: Indexed[] = [];
    const walk = (module: StateModule) => {
      for (const child of module.child_modules ?? []) walk(child);
      for (const resource of module.resources ?? []) {
        if (resource.type !== type) continue;
        found.push({ address: resource.address, label: addressLabel(resource.address), resource });
      }
    };
    for (const module of modules) walk(module);
    return found;
  };
}

/** Labels of blocks holding a resource that agents and metadata can attach to. */
function attachableLabels(byAddress: Map<string, Indexed>): (label: string) => boolean {
  const labels = new Set<string>();
  for (const r of byAddress.values()) {
    const type = r.resource.type;
    if (r.resource.mode === "managed" && (!type.startsWith("coder_") || type === EXTERNAL_AGENT)) {
      labels.add(r.label);
    }
  }
  return (label) => labels.has(label);
}

/** Instance ids given explicitly with coder_agent_instance (only known after apply). */
function applyAgentInstances(found: Indexed[], agents: Agent[]): void {
  for (const r of found) {
    const attrs = decodeAttributes(
      agentInstanceAttributesSchema,
      r.resource.values,
      "decode agent instance attributes",
    );
    if (typeof attrs.agent_id !== "string" || typeof attrs.instance_id !== "string") continue;
    for (const agent of agents) {
      // Token agents keep their token (coder/coder#4551).
      if (agent.id === attrs.agent_id && agent.auth?.$case === "instanceId") {
        agent.auth = { $case: "instanceId", value: attrs.instance_id };
      }
    }
  }
}

/** coder_metadata -> the nearest resource it depends on; one per resource. */
function resourceDetails(
  found: Indexed[],
  graph: ResourceGraph,
  isAttachable: (label: string) => boolean,
): Map<string, ResourceDetails> {
  const details = new Map<string, ResourceDetails>();
  for (const r of found) {
    const attrs = decodeAttributes(
      metadataAttributesSchema,
      r.resource.values,
      "decode metadata attributes",
    );
    const nodes = graph.nodesWithLabel(r.label);
    if (nodes.length === 0) continue;
    const target = graph.nearest(nodes, "down", isAttachable);
    if (target === undefined) continue;
    if (details.has(target)) throw new ConversionError(`duplicate metadata resource: ${target}`);
    details.set(target, {
      hide: attrs.hide ?? false,
      icon: attrs.icon ?? "",
      dailyCost: attrs.daily_cost ?? 0,
      items: (attrs.item ?? []).map((item) =>
        Resource_Metadata.create({
          key: item.key ?? "",
          value: item.value ?? "",
          sensitive: item.sensitive ?? false,
          // Unknown in a plan (null) -> false; the state has the real value.
          isNull: item.is_null ?? false,
        }),
      ),
    });
  }
  return details;
}

/** Every managed resource that is not a describing coder_ type, with what attached to it. */
function workspaceResources(
  byAddress: Map<string, Indexed>,
  agentsByResource: Map<string, Agent[]>,
  details: Map<string, ResourceDetails>,
): Resource[] {
  const resources: Array<{ resource: Resource; address: string }> = [];
  for (const r of byAddress.values()) {
    if (r.resource.mode === "data" || describingTypes.has(r.resource.type)) continue;
    // Every instance of a counted block gets the block's agents and metadata (reference rule).
    const agents = agentsByResource.get(r.label) ?? [];
    const meta = details.get(r.label);
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
        instanceType: applyInstanceIdentity(r, agents),
        modulePath: modulePath(r.address),
      }),
    });
  }
  for (const agents of agentsByResource.values()) {
    for (const agent of agents) agent.apps.sort((a, b) => compare(a.slug, b.slug));
    agents.sort((a, b) => compare(a.name, b.name));
  }
  resources.sort(
    (a, b) =>
      compare(a.resource.name, b.resource.name) ||
      compare(a.resource.type, b.resource.type) ||
      compare(a.address, b.address),
  );
  return resources.map((r) => r.resource);
}

/**
 * For a cloud VM: gives its instance id to the agents on it that chose instance identity, and
 * returns its machine size ("" for other types).
 */
function applyInstanceIdentity(r: Indexed, agents: Agent[]): string {
  const identity = instanceIdentity[r.resource.type];
  if (identity === undefined) return "";
  const values = r.resource.values ?? {};
  const instanceId = values[identity.idAttribute];
  // Reference quirk fixed: it also switched token agents whose token was still unknown (a plan)
  // to instance auth. Only agents that chose instance identity get the VM's id.
  if (typeof instanceId === "string" && instanceId !== "") {
    for (const agent of agents) {
      if (agent.auth?.$case === "instanceId" && agent.auth.value === "") {
        agent.auth = { $case: "instanceId", value: instanceId };
      }
    }
  }
  const type = values[identity.typeAttribute];
  return typeof type === "string" ? type : "";
}
