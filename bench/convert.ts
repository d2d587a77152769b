// Benchmark: converting a synthetic state of 10,000 resources (1,000 agents with metadata and
// display apps, 2,000 apps, 1,000 coder_script, 1,000 coder_env, 1,000 coder_metadata) with its
// terraform graph (target: well under a second).
// Exports one async function returning the measured figures; the benchmark runner calls it.
import { convertResources, parseStateJson, stateModules } from "../src/terraform/index.js";
import { median, round } from "./lib/stats.js";

const AGENTS = 1_000;
const APPS = 2_000;
const SCRIPTS = 1_000;
const ENVS = 1_000;
const METADATA = 1_000;
const VMS = 1_000;
const OTHERS = 10_000 - AGENTS - APPS - SCRIPTS - ENVS - METADATA - VMS;
const MODULES = 10;
const WARMUP_RUNS = 2;
const MEASURED_RUNS = 7;

interface Generated {
  stateJson: string;
  dot: string;
}

/** A state as `terraform show -json` prints it, half of it in child modules, and its graph. */
function generate(): Generated {
  const root: Array<Record<string, unknown>> = [];
  const children: Array<Array<Record<string, unknown>>> = Array.from({ length: MODULES }, () => []);
  const nodes: string[] = [];
  const edges: Array<[string, string]> = [];
  const provider = 'provider["registry.terraform.io/hashicorp/null"]';
  const coder = 'provider["registry.terraform.io/coder/coder"]';

  const add = (i: number, type: string, name: string, values: Record<string, unknown>) => {
    const module = i % 2 === 0 ? undefined : `module.m${i % MODULES}`;
    const label = module === undefined ? `${type}.${name}` : `${module}.${type}.${name}`;
    const resource = { address: label, mode: "managed", type, name, provider_name: "x", values };
    if (module === undefined) root.push(resource);
    else children[i % MODULES]?.push(resource);
    nodes.push(label);
    edges.push([label, type.startsWith("coder_") ? coder : provider]);
    return label;
  };

  const agents: Array<{ label: string; id: string }> = [];
  for (let i = 0; i < AGENTS; i++) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const label = add(i, "coder_agent", `agent${i}`, {
      id,
      auth: "token",
      token: `token-${i}`,
      os: "linux",
      arch: "amd64",
      env: { A: "1", B: "2" },
      startup_script: "echo hello",
      connection_timeout: 120,
      login_before_ready: true,
      startup_script_timeout: 300,
      api_key_scope: "all",
      metadata: [
        { key: "cpu", display_name: "CPU", script: "top -bn1", interval: 10, timeout: 1, order: 1 },
        { key: "disk", display_name: "Disk", script: "df -h", interval: 60, timeout: 5, order: 2 },
      ],
      display_apps: [
        {
          vscode: true,
          vscode_insiders: false,
          web_terminal: true,
          ssh_helper: true,
          port_forwarding_helper: false,
        },
      ],
    });
    agents.push({ label, id });
  }
  const vms: string[] = [];
  for (let i = 0; i < VMS; i++) {
    const vm = add(i, "aws_instance", `vm${i}`, { id: `i-${i}`, instance_type: "t3.large" });
    edges.push([vm, agents[i]?.label ?? ""]);
    vms.push(vm);
  }
  for (let i = 0; i < APPS; i++) {
    const agent = agents[i % AGENTS];
    const app = add(i, "coder_app", `app${i}`, {
      agent_id: agent?.id,
      slug: `app${i}`,
      display_name: `App ${i}`,
      url: "http://localhost:8080",
      share: "owner",
      subdomain: false,
      healthcheck: [{ url: "http://localhost:8080/health", interval: 5, threshold: 3 }],
    });
    edges.push([app, agent?.label ?? ""]);
  }
  for (let i = 0; i < SCRIPTS; i++) {
    const agent = agents[i % AGENTS];
    const script = add(i, "coder_script", `script${i}`, {
      agent_id: agent?.id,
      display_name: `Script ${i}`,
      icon: "/icon/code.svg",
      script: "echo setup",
      run_on_start: true,
      start_blocks_login: false,
      timeout: 60,
      log_path: "setup.log",
    });
    edges.push([script, agent?.label ?? ""]);
  }
  for (let i = 0; i < ENVS; i++) {
    const agent = agents[i % AGENTS];
    const env = add(i, "coder_env", `env${i}`, {
      agent_id: agent?.id,
      name: `VAR_${i}`,
      value: String(i),
    });
    edges.push([env, agent?.label ?? ""]);
  }
  for (let i = 0; i < METADATA; i++) {
    const meta = add(i, "coder_metadata", `meta${i}`, {
      resource_id: `i-${i}`,
      daily_cost: 3,
      hide: false,
      icon: "/icon.svg",
      item: [
        { key: "zone", value: "a", sensitive: false, is_null: false },
        { key: "ip", value: "10.0.0.1", sensitive: false, is_null: false },
      ],
    });
    edges.push([meta, vms[i] ?? ""]);
  }
  for (let i = 0; i < OTHERS; i++) {
    const other = add(i, "null_resource", `disk${i}`, { id: String(i), triggers: null });
    edges.push([vms[i % VMS] ?? "", other]);
  }

  const id = (label: string) =>
    JSON.stringify(label.startsWith("provider[") ? `[root] ${label}` : `[root] ${label} (expand)`);
  const lines = ["digraph {", '\tcompound = "true"', '\tnewrank = "true"', '\tsubgraph "root" {'];
  for (const label of [...nodes, provider, coder]) {
    lines.push(`\t\t${id(label)} [label = ${JSON.stringify(label)}, shape = "box"]`);
  }
  for (const [from, to] of edges) lines.push(`\t\t${id(from)} -> ${id(to)}`);
  for (const label of nodes) lines.push(`\t\t"[root] root" -> ${id(label)}`);
  lines.push("\t}", "}");

  const state = {
    format_version: "1.0",
    terraform_version: "1.11.4",
    values: {
      root_module: {
        resources: root,
        child_modules: children.map((resources, i) => ({ address: `module.m${i}`, resources })),
      },
    },
  };
  return { stateJson: JSON.stringify(state), dot: lines.join("\n") };
}

function check(result: ReturnType<typeof convertResources>): void {
  const agents = result.resources.flatMap((r) => r.agents);
  const count = (of: (a: (typeof agents)[number]) => unknown[]) =>
    agents.reduce((n, a) => n + of(a).length, 0);
  const apps = count((a) => a.apps);
  // Each agent's legacy startup script is one more script entry.
  const scripts = count((a) => a.scripts);
  const envs = count((a) => a.extraEnvs);
  const metadata = count((a) => a.metadata);
  // coder_env resources are reported as resources of their own.
  if (
    result.resources.length !== VMS + OTHERS + ENVS ||
    agents.length !== AGENTS ||
    apps !== APPS ||
    scripts !== SCRIPTS + AGENTS ||
    envs !== ENVS ||
    metadata !== 2 * AGENTS
  ) {
    throw new Error(
      `unexpected conversion: ${result.resources.length} resources, ${agents.length} agents, ${apps} apps, ${scripts} scripts, ${envs} envs, ${metadata} metadata`,
    );
  }
}

export async function benchConvert(): Promise<{
  convert_10k_ms: number;
  parse_state_10k_ms: number;
}> {
  const { stateJson, dot } = generate();
  const modules = stateModules(parseStateJson(stateJson));
  for (let i = 0; i < WARMUP_RUNS; i++) check(convertResources(modules, dot));
  const convertRuns: number[] = [];
  const parseRuns: number[] = [];
  for (let i = 0; i < MEASURED_RUNS; i++) {
    let start = performance.now();
    const parsed = stateModules(parseStateJson(stateJson));
    parseRuns.push(performance.now() - start);
    start = performance.now();
    // Conversion includes parsing the DOT text, as in a real plan or apply.
    const result = convertResources(parsed, dot);
    convertRuns.push(performance.now() - start);
    check(result);
  }
  return {
    convert_10k_ms: round(median(convertRuns)),
    parse_state_10k_ms: round(median(parseRuns)),
  };
}

export default benchConvert;
