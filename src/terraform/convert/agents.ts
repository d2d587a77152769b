// coder_agent resources -> Agent messages, each attached to the nearest resource that depends on
// it. An agent carries both layouts' fields: the legacy startup/shutdown script attributes become
// entries of `scripts` (the current layout) and also stay in `startup_script` and friends (the
// v0.17 layout), so each adapter sends what its coderd reads.
import {
  Agent,
  Agent_Metadata,
  DisplayApps,
  MemoryResourceMonitor,
  ResourcesMonitoring,
  Script,
  VolumeResourceMonitor,
} from "../../provisioner/model.js";
import {
  type AgentAttributes,
  agentAttributesSchema,
  ConversionError,
  decodeAttributes,
} from "./attributes.js";
import type { ResourceGraph } from "./graph-search.js";
import type { Indexed } from "./indexed.js";

/** Agent names: hostname-safe, compared without case. */
const AGENT_NAME_PATTERN = "(?i)^[a-z0-9](-?[a-z0-9])*$";
const agentName = /^[a-z0-9](-?[a-z0-9])*$/i;

/** Display name, icon and log file of the scripts made from the legacy agent attributes. */
export const LEGACY_STARTUP_SCRIPT = {
  displayName: "Startup Script",
  icon: "/emojis/25b6-fe0f.png",
  logPath: "coder-startup-script.log",
} as const;
export const LEGACY_SHUTDOWN_SCRIPT = {
  displayName: "Shutdown Script",
  icon: "/emojis/25c0.png",
  logPath: "coder-shutdown-script.log",
} as const;

/** What an agent without a `display_apps` block shows. */
export function defaultDisplayApps(): DisplayApps {
  return DisplayApps.create({
    vscode: true,
    vscodeInsiders: false,
    webTerminal: true,
    sshHelper: true,
    portForwardingHelper: true,
  });
}

/** An agent placed on a resource, with the graph label of its own block. */
export interface PlacedAgent {
  agent: Agent;
  label: string;
}

export interface AgentPlacement {
  /** Agents by the label of the resource they belong to. */
  byResource: Map<string, Agent[]>;
  /** Every placed agent, by resource label, then by address. */
  placed: PlacedAgent[];
}

/**
 * Converts every coder_agent (sorted by address) and places it on the nearest resource that
 * depends on it; `isAttachable` says which labels are such resources. An agent no resource depends
 * on is dropped, as in the reference.
 */
export function placeAgents(
  agents: Indexed[],
  graph: ResourceGraph,
  isAttachable: (label: string) => boolean,
): AgentPlacement {
  const byResource = new Map<string, PlacedAgent[]>();
  const names = new Set<string>();
  for (const r of agents) {
    const attrs = decodeAttributes(
      agentAttributesSchema,
      r.resource.values,
      "decode agent attributes",
    );
    checkAgentName(r.resource.name, names);
    const agent = convertAgent(r.resource.name, attrs, r.resource.values ?? {});
    const nodes = graph.nodesWithLabel(r.label);
    if (nodes.length === 0) throw new ConversionError(`couldn't find node on graph: "${r.label}"`);
    const target = graph.nearest(nodes, "up", isAttachable);
    if (target === undefined) continue;
    const list = byResource.get(target);
    if (list === undefined) byResource.set(target, [{ agent, label: r.label }]);
    else list.push({ agent, label: r.label });
  }
  const placed = [...byResource.keys()].sort().flatMap((label) => byResource.get(label) ?? []);
  return {
    byResource: new Map([...byResource].map(([label, list]) => [label, list.map((p) => p.agent)])),
    placed,
  };
}

function checkAgentName(name: string, seen: Set<string>): void {
  if (name === "") throw new ConversionError("agent name cannot be empty");
  if (!agentName.test(name)) {
    if (name.includes("_")) {
      throw new ConversionError(
        `agent name ${JSON.stringify(name)} contains underscores which are no longer supported, please use hyphens instead (regex: ${JSON.stringify(AGENT_NAME_PATTERN)})`,
      );
    }
    throw new ConversionError(
      `agent name ${JSON.stringify(name)} does not match regex ${JSON.stringify(AGENT_NAME_PATTERN)}`,
    );
  }
  // Case-insensitively unique: agent names are DNS names and app URLs.
  const key = name.toLowerCase();
  if (seen.has(key)) throw new ConversionError(`duplicate agent name: ${name}`);
  seen.add(key);
}

function convertAgent(
  name: string,
  attrs: AgentAttributes,
  values: Record<string, unknown>,
): Agent {
  return Agent.create({
    id: attrs.id ?? "",
    name,
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
    metadata: (attrs.metadata ?? []).map((item) =>
      Agent_Metadata.create({
        key: item.key ?? "",
        displayName: item.display_name ?? "",
        script: item.script ?? "",
        interval: item.interval ?? 0,
        timeout: item.timeout ?? 0,
        order: item.order ?? 0,
      }),
    ),
    displayApps: displayApps(attrs),
    scripts: legacyScripts(attrs, values),
    order: attrs.order ?? 0,
    resourcesMonitoring: resourcesMonitoring(attrs),
    apiKeyScope: attrs.api_key_scope ?? "",
  });
}

function displayApps(attrs: AgentAttributes): DisplayApps {
  const block = attrs.display_apps?.[0];
  if (block === undefined) return defaultDisplayApps();
  return DisplayApps.create({
    vscode: block.vscode ?? false,
    vscodeInsiders: block.vscode_insiders ?? false,
    webTerminal: block.web_terminal ?? false,
    sshHelper: block.ssh_helper ?? false,
    portForwardingHelper: block.port_forwarding_helper ?? false,
  });
}

function resourcesMonitoring(attrs: AgentAttributes): ResourcesMonitoring {
  const monitoring = ResourcesMonitoring.create();
  for (const block of attrs.resources_monitoring ?? []) {
    // Several memory blocks: the last one counts.
    for (const memory of block.memory ?? []) {
      monitoring.memory = MemoryResourceMonitor.create({
        enabled: memory.enabled ?? false,
        threshold: memory.threshold ?? 0,
      });
    }
  }
  for (const block of attrs.resources_monitoring ?? []) {
    for (const volume of block.volume ?? []) {
      monitoring.volumes.push(
        VolumeResourceMonitor.create({
          path: volume.path ?? "",
          enabled: volume.enabled ?? false,
          threshold: volume.threshold ?? 0,
        }),
      );
    }
  }
  return monitoring;
}

/** The deprecated script attributes as scripts entries (startup, then shutdown). */
function legacyScripts(attrs: AgentAttributes, values: Record<string, unknown>): Script[] {
  const scripts: Script[] = [];
  if (nonEmpty(attrs.startup_script)) {
    scripts.push(
      Script.create({
        ...LEGACY_STARTUP_SCRIPT,
        script: attrs.startup_script,
        startBlocksLogin: startupScriptBlocks(attrs, values),
        runOnStart: true,
      }),
    );
  }
  if (nonEmpty(attrs.shutdown_script)) {
    scripts.push(
      Script.create({ ...LEGACY_SHUTDOWN_SCRIPT, script: attrs.shutdown_script, runOnStop: true }),
    );
  }
  return scripts;
}

/**
 * `startup_script_behavior` when given; otherwise the older `login_before_ready`, which counts only
 * when present (providers before v0.6.10 lack it and defaulted to not blocking).
 */
function startupScriptBlocks(attrs: AgentAttributes, values: Record<string, unknown>): boolean {
  if (nonEmpty(attrs.startup_script_behavior)) return attrs.startup_script_behavior === "blocking";
  return "login_before_ready" in values && attrs.login_before_ready !== true;
}

function nonEmpty(value: string | null | undefined): value is string {
  return value !== null && value !== undefined && value !== "";
}
