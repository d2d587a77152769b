// What hangs off an agent: devcontainers, apps, env and scripts. Each names its agent (or
// devcontainer sub-agent) by id; in a first plan every id is still unknown (""), and the item
// goes to the agent or devcontainer it depends on most closely in the graph instead.
import {
  type Agent,
  App,
  AppOpenIn,
  AppSharingLevel,
  Devcontainer,
  Env,
  Healthcheck,
  Script,
} from "../../provisioner/model.js";
import type { PlacedAgent } from "./agents.js";
import {
  appAttributesSchema,
  ConversionError,
  decodeAttributes,
  devcontainerAttributesSchema,
  envAttributesSchema,
  scriptAttributesSchema,
} from "./attributes.js";
import type { ResourceGraph } from "./graph-search.js";
import type { Indexed } from "./indexed.js";

const APP_SLUG_PATTERN = "^[a-z0-9](-?[a-z0-9])*$";
const appSlug = new RegExp(APP_SLUG_PATTERN);

type Owner = { kind: "agent"; agent: Agent } | { kind: "devcontainer"; devcontainer: Devcontainer };

/** Finds the agent or devcontainer an item belongs to. */
export class Owners {
  private readonly agentsById = new Map<string, Agent[]>();
  private readonly devcontainers: Array<{ devcontainer: Devcontainer; label: string }> = [];
  private readonly devcontainersById = new Map<string, Devcontainer>();
  /** Labels of agents whose id is unknown (a first plan): the graph decides for them. */
  private readonly unknownAgentLabels = new Set<string>();

  constructor(
    private readonly placed: PlacedAgent[],
    private readonly graph: ResourceGraph,
  ) {
    for (const { agent, label } of placed) {
      const list = this.agentsById.get(agent.id);
      if (list === undefined) this.agentsById.set(agent.id, [agent]);
      else list.push(agent);
      if (agent.id === "") this.unknownAgentLabels.add(label);
    }
  }

  /** Every agent `item` belongs to (by id, or the nearest one in a plan). */
  agentsOf(item: Indexed, agentId: string): Agent[] {
    if (agentId !== "") return this.agentsById.get(agentId) ?? [];
    const label = this.nearest(item, this.unknownAgentLabels);
    return this.placed.filter((p) => p.label === label && p.agent.id === "").map((p) => p.agent);
  }

  /** The one agent or devcontainer `item` belongs to; agents first. */
  ownerOf(item: Indexed, agentId: string): Owner | undefined {
    if (agentId !== "") {
      const agent = this.agentsById.get(agentId)?.[0];
      if (agent !== undefined) return { kind: "agent", agent };
      const devcontainer = this.devcontainersById.get(agentId);
      return devcontainer === undefined ? undefined : { kind: "devcontainer", devcontainer };
    }
    const candidates = new Set(this.unknownAgentLabels);
    for (const d of this.devcontainers) {
      if (d.devcontainer.subagentId === "") candidates.add(d.label);
    }
    const label = this.nearest(item, candidates);
    if (label === undefined) return undefined;
    const agent = this.placed.find((p) => p.label === label && p.agent.id === "")?.agent;
    if (agent !== undefined) return { kind: "agent", agent };
    const dc = this.devcontainers.find(
      (d) => d.label === label && d.devcontainer.subagentId === "",
    );
    return dc === undefined ? undefined : { kind: "devcontainer", devcontainer: dc.devcontainer };
  }

  addDevcontainer(devcontainer: Devcontainer, label: string): void {
    this.devcontainers.push({ devcontainer, label });
    if (devcontainer.subagentId !== "" && !this.devcontainersById.has(devcontainer.subagentId)) {
      this.devcontainersById.set(devcontainer.subagentId, devcontainer);
    }
  }

  private nearest(item: Indexed, candidates: Set<string>): string | undefined {
    if (candidates.size === 0) return undefined;
    const nodes = this.graph.nodesWithLabel(item.label);
    return this.graph.nearest(nodes, "down", (label) => candidates.has(label));
  }
}

export function attachDevcontainers(found: Indexed[], owners: Owners): void {
  for (const r of found) {
    const attrs = decodeAttributes(
      devcontainerAttributesSchema,
      r.resource.values,
      "decode devcontainer attributes",
    );
    for (const agent of owners.agentsOf(r, attrs.agent_id ?? "")) {
      const devcontainer = Devcontainer.create({
        id: attrs.id ?? "",
        name: r.resource.name,
        workspaceFolder: attrs.workspace_folder ?? "",
        configPath: attrs.config_path ?? "",
        subagentId: attrs.subagent_id ?? "",
      });
      agent.devcontainers.push(devcontainer);
      owners.addDevcontainer(devcontainer, r.label);
    }
  }
}

export function attachApps(found: Indexed[], owners: Owners): void {
  const slugs = new Set<string>();
  for (const r of found) {
    const attrs = decodeAttributes(appAttributesSchema, r.resource.values, "decode app attributes");
    const slug = nonEmpty(attrs.slug) ?? r.resource.name;
    if (!appSlug.test(slug)) {
      throw new ConversionError(
        `app slug ${JSON.stringify(slug)} does not match regex ${JSON.stringify(APP_SLUG_PATTERN)}`,
      );
    }
    if (slugs.has(slug)) {
      throw new ConversionError(
        `duplicate app slug, they must be unique per template: ${JSON.stringify(slug)}`,
      );
    }
    slugs.add(slug);
    const healthcheck = attrs.healthcheck?.[0];
    const app = App.create({
      // "" while unknown (a plan, or providers without app ids); the v2 adapter, whose coderd
      // needs one, gives such an app a fresh id when it sends it.
      id: attrs.id ?? "",
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
      order: attrs.order ?? 0,
      group: attrs.group ?? "",
      hidden: attrs.hidden ?? false,
      openIn: (attrs.open_in ?? "").toLowerCase() === "tab" ? AppOpenIn.TAB : AppOpenIn.SLIM_WINDOW,
      tooltip: attrs.tooltip ?? "",
    });
    const owner = owners.ownerOf(r, attrs.agent_id ?? "");
    if (owner !== undefined)
      (owner.kind === "agent" ? owner.agent.apps : owner.devcontainer.apps).push(app);
  }
}

/** `found` sorted by address: two envs of one name keep that order. */
export function attachEnvs(found: Indexed[], owners: Owners): void {
  for (const r of found) {
    const attrs = decodeAttributes(envAttributesSchema, r.resource.values, "decode env attributes");
    const env = Env.create({
      name: attrs.name ?? "",
      value: attrs.value ?? "",
      mergeStrategy: attrs.merge_strategy ?? "",
    });
    const owner = owners.ownerOf(r, attrs.agent_id ?? "");
    if (owner !== undefined)
      (owner.kind === "agent" ? owner.agent.extraEnvs : owner.devcontainer.envs).push(env);
  }
}

/** Appended after the agent's legacy scripts, by address. */
export function attachScripts(found: Indexed[], owners: Owners): void {
  for (const r of found) {
    const attrs = decodeAttributes(
      scriptAttributesSchema,
      r.resource.values,
      "decode script attributes",
    );
    const script = Script.create({
      displayName: attrs.display_name ?? "",
      icon: attrs.icon ?? "",
      script: attrs.script ?? "",
      cron: attrs.cron ?? "",
      logPath: attrs.log_path ?? "",
      startBlocksLogin: attrs.start_blocks_login ?? false,
      runOnStart: attrs.run_on_start ?? false,
      runOnStop: attrs.run_on_stop ?? false,
      timeoutSeconds: attrs.timeout ?? 0,
    });
    const owner = owners.ownerOf(r, attrs.agent_id ?? "");
    if (owner !== undefined)
      (owner.kind === "agent" ? owner.agent.scripts : owner.devcontainer.scripts).push(script);
  }
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
