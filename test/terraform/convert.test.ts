// Conversion rules and the reference quirks we fixed, on small hand-made plans/states and graphs.
import { describe, expect, it } from "vitest";
import { AppSharingLevel, ParameterFormType } from "../../src/provisioner/model.js";
import { addressLabel } from "../../src/terraform/convert/address.js";
import { ConversionError } from "../../src/terraform/convert/attributes.js";
import { configurationGraph } from "../../src/terraform/convert/config-graph.js";
import { convertResources as convertWithGraph } from "../../src/terraform/convert/resources.js";
import type { DotGraph } from "../../src/terraform/dot.js";
import {
  parsePlanJson,
  planModules,
  type StateModule,
  type StateResource,
} from "../../src/terraform/terraform-json.js";

function res(
  address: string,
  values: Record<string, unknown> = {},
  mode = "managed",
): StateResource {
  const label = addressLabel(address).replace(/^data\./, "");
  const parts = label.split(".");
  const name = parts.at(-1) ?? "";
  const type = parts.at(-2) ?? "";
  return { address, mode, type, name, values };
}

/** The plan configurations equivalent to graphs made by dot(), by DOT text. */
const configurations = new Map<string, unknown>();

/**
 * Every conversion here runs both ways: with the DOT graph the case gives, and with the graph
 * derived from the equivalent plan configuration (when dot() made the graph and its edges can be
 * written as configuration). Both must give the same result or the same error.
 */
function convertResources(modules: StateModule[], graph: string | DotGraph) {
  let viaDot: ReturnType<typeof convertWithGraph> | undefined;
  let dotError: unknown;
  try {
    viaDot = convertWithGraph(modules, graph);
  } catch (error) {
    dotError = error;
  }
  const configuration = typeof graph === "string" ? configurations.get(graph) : undefined;
  if (configuration !== undefined) {
    const derived = () => convertWithGraph(modules, configurationGraph(configuration));
    if (dotError === undefined) expect(derived()).toEqual(viaDot);
    else expect(derived).toThrow((dotError as Error).message);
  }
  if (dotError !== undefined) throw dotError;
  return viaDot as ReturnType<typeof convertWithGraph>;
}

interface ModuleConfig {
  resources: Array<{ address: string; depends_on: string[]; expressions: object }>;
  module_calls: Record<
    string,
    { expressions: Record<string, { references: string[] }>; module: ModuleConfig }
  >;
}

/** `module.a.module.b.x.y` -> ["module.a.module.b.", "x.y"]. */
function splitLabel(label: string): [string, string] {
  const match = /^((?:module\.[^.]+\.)*)(.*)$/.exec(label);
  return [match?.[1] ?? "", match?.[2] ?? label];
}

/**
 * The plan configuration whose graph is the one dot() draws, or undefined when an edge has no
 * such counterpart: a resource may depend on a resource or a variable of its own module, a
 * module's variable on what its caller's module holds.
 */
function configurationOf(labels: Set<string>, edges: Array<[string, string]>): unknown {
  const root: ModuleConfig = { resources: [], module_calls: {} };
  const moduleAt = (prefix: string): ModuleConfig => {
    let module = root;
    for (const name of prefix.split(".").filter((_, i) => i % 2 === 1)) {
      module.module_calls[name] ??= {
        expressions: {},
        module: { resources: [], module_calls: {} },
      };
      module = module.module_calls[name].module;
    }
    return module;
  };
  const resourceAt = (label: string) => {
    const [prefix, address] = splitLabel(label);
    const module = moduleAt(prefix);
    let resource = module.resources.find((r) => r.address === address);
    if (resource === undefined) {
      resource = { address, depends_on: [], expressions: {} };
      module.resources.push(resource);
    }
    return resource;
  };
  for (const label of labels) {
    const rest = splitLabel(label)[1];
    // Locals, outputs and providers are not drawn: such a graph has no configuration here.
    if (/^(local|output|provider|each|count|path|terraform|self)[.[]/.test(rest)) return undefined;
    if (!rest.startsWith("var.")) resourceAt(label);
  }
  for (const [from, to] of edges) {
    const [fromPrefix, fromRest] = splitLabel(from);
    const [toPrefix, toRest] = splitLabel(to);
    if (!fromRest.startsWith("var.")) {
      if (toPrefix !== fromPrefix) return undefined;
      const resource = resourceAt(from);
      if (toRest.startsWith("var.")) {
        Object.assign(resource.expressions, { [toRest]: { references: [toRest] } });
      } else resource.depends_on.push(toRest);
      continue;
    }
    const call = /^(.*?)module\.([^.]+)\.$/.exec(fromPrefix);
    if (call === null || call[1] !== toPrefix || call[2] === undefined) return undefined;
    moduleAt(fromPrefix);
    const expressions = moduleAt(toPrefix).module_calls[call[2]]?.expressions ?? {};
    const input = fromRest.slice("var.".length);
    expressions[input] ??= { references: [] };
    expressions[input].references.push(toRest);
  }
  return { root_module: root };
}

/** A detailed (`[root] ... (expand)`) graph from `dependant -> dependency` pairs of labels. */
function dot(edges: Array<[string, string]>, extraNodes: string[] = []): string {
  const labels = new Set(extraNodes);
  for (const [a, b] of edges) {
    labels.add(a);
    labels.add(b);
  }
  const id = (label: string) => JSON.stringify(`[root] ${label} (expand)`);
  const lines = ["digraph {", '\tsubgraph "root" {'];
  for (const label of labels) lines.push(`\t\t${id(label)} [label = ${JSON.stringify(label)}]`);
  for (const [a, b] of edges) lines.push(`\t\t${id(a)} -> ${id(b)}`);
  lines.push("\t}", "}");
  const text = lines.join("\n");
  const configuration = configurationOf(labels, edges);
  if (configuration !== undefined) configurations.set(text, configuration);
  return text;
}

const agent = (extra: Record<string, unknown> = {}) => ({ auth: "token", os: "linux", ...extra });
const module = (...resources: StateResource[]): StateModule => ({ resources });

describe("convertResources: reference errors keep their texts", () => {
  it("duplicate agent name, also across modules", () => {
    const modules: StateModule[] = [
      {
        resources: [res("coder_agent.dev", agent()), res("null_resource.a")],
        child_modules: [
          { address: "module.m", resources: [res("module.m.coder_agent.dev", agent())] },
        ],
      },
    ];
    expect(() =>
      convertResources(
        modules,
        dot([["null_resource.a", "coder_agent.dev"]], ["module.m.coder_agent.dev"]),
      ),
    ).toThrow(new ConversionError("duplicate agent name: dev"));
  });

  it("agent missing from the graph", () => {
    expect(() => convertResources([module(res("coder_agent.dev", agent()))], dot([]))).toThrow(
      'couldn\'t find node on graph: "coder_agent.dev"',
    );
  });

  it.each(["Bad_Slug", "-lead", "trail-", "two--dashes", "white space"])(
    "invalid app slug %j",
    (slug) => {
      const modules = [module(res("coder_agent.dev", agent()), res("coder_app.a", { slug }))];
      expect(() => convertResources(modules, dot([["coder_app.a", "coder_agent.dev"]]))).toThrow(
        `app slug ${JSON.stringify(slug)} does not match regex "^[a-z0-9](-?[a-z0-9])*$"`,
      );
    },
  );

  it("duplicate app slug (the resource name is the fallback slug)", () => {
    const modules = [module(res("coder_app.code"), res("coder_app.b", { slug: "code" }))];
    expect(() => convertResources(modules, dot([]))).toThrow(
      'duplicate app slug, they must be unique per template: "code"',
    );
  });

  it("wrong attribute types name the field", () => {
    const modules = [module(res("coder_agent.dev", agent({ connection_timeout: "soon" })))];
    expect(() => convertResources(modules, dot([], ["coder_agent.dev"]))).toThrow(
      /^decode agent attributes: connection_timeout: /,
    );
    const params = [module(res("data.coder_parameter.p", { name: 3 }, "data"))];
    expect(() => convertResources(params, dot([]))).toThrow(
      /^decode map values for coder_parameter\.p: name: /,
    );
    const git = [module(res("data.coder_git_auth.g", { id: 1 }, "data"))];
    expect(() => convertResources(git, dot([]))).toThrow("external auth id is not a string");
  });

  it("a malformed graph", () => {
    expect(() => convertResources([], "digraph {")).toThrow(/^parse graph: line 1: /);
  });
});

describe("convertResources: rules", () => {
  it("attaches an agent to its nearest dependant and drops one nobody depends on", () => {
    const modules = [
      module(
        res("coder_agent.used", agent()),
        res("coder_agent.lonely", agent()),
        res("null_resource.vm"),
      ),
    ];
    const graph = dot([["null_resource.vm", "coder_agent.used"]], ["coder_agent.lonely"]);
    const { resources } = convertResources(modules, graph);
    expect(resources.map((r) => [r.name, r.agents.map((a) => a.name)])).toEqual([["vm", ["used"]]]);
  });

  it("decodes agent fields, login_before_ready defaulting to true when absent", () => {
    const modules = [
      module(
        res("coder_agent.dev", {
          id: "agent-id",
          auth: "token",
          token: "tok",
          env: { A: "1" },
          startup_script: "echo hi",
          os: "linux",
          arch: "arm64",
          dir: "/home/coder",
          connection_timeout: 30,
          troubleshooting_url: "https://t",
          motd_file: "/etc/motd",
          startup_script_timeout: 60,
        }),
        res("null_resource.vm"),
      ),
    ];
    const [vm] = convertResources(
      modules,
      dot([["null_resource.vm", "coder_agent.dev"]]),
    ).resources;
    expect(vm?.agents[0]).toMatchObject({
      id: "agent-id",
      name: "dev",
      env: { A: "1" },
      startupScript: "echo hi",
      operatingSystem: "linux",
      architecture: "arm64",
      directory: "/home/coder",
      connectionTimeoutSeconds: 30,
      troubleshootingUrl: "https://t",
      motdFile: "/etc/motd",
      loginBeforeReady: true,
      startupScriptTimeoutSeconds: 60,
      auth: { $case: "token", value: "tok" },
    });
  });

  it("apps: display name fallbacks, sharing levels, healthcheck, attach by agent id", () => {
    const modules = [
      module(
        res("coder_agent.dev", agent({ id: "a1" })),
        res("coder_app.one", { agent_id: "a1", slug: "one", share: "PUBLIC", healthcheck: [] }),
        res("coder_app.two", {
          agent_id: "a1",
          name: "Old Name",
          share: "authenticated",
          external: true,
          healthcheck: [{ url: "http://h", interval: 5, threshold: 6 }],
        }),
        res("coder_app.elsewhere", { agent_id: "other" }),
        res("null_resource.vm"),
      ),
    ];
    const [vm] = convertResources(
      modules,
      dot([["null_resource.vm", "coder_agent.dev"]]),
    ).resources;
    const apps = vm?.agents[0]?.apps ?? [];
    expect(apps.map((a) => [a.slug, a.displayName, a.sharingLevel, a.external])).toEqual([
      ["one", "one", AppSharingLevel.PUBLIC, false],
      ["two", "Old Name", AppSharingLevel.AUTHENTICATED, true],
    ]);
    expect(apps[0]?.healthcheck).toBeUndefined();
    expect(apps[1]?.healthcheck).toEqual({ url: "http://h", interval: 5, threshold: 6 });
  });

  it("metadata goes to the nearest dependency; counted instances share it", () => {
    const modules = [
      module(
        res("null_resource.pod[0]"),
        res("null_resource.pod[1]"),
        res("coder_metadata.info[0]", {
          hide: true,
          icon: "/i.svg",
          daily_cost: 7,
          item: [{ key: "k", value: null, sensitive: true, is_null: true }],
        }),
      ),
    ];
    const { resources } = convertResources(
      modules,
      dot([["coder_metadata.info", "null_resource.pod"]]),
    );
    expect(resources).toHaveLength(2);
    for (const r of resources) {
      expect(r).toMatchObject({ hide: true, icon: "/i.svg", dailyCost: 7 });
      expect(r.metadata).toEqual([{ key: "k", value: "", sensitive: true, isNull: true }]);
    }
  });

  it("instance identity: explicit coder_agent_instance, cloud VM ids and instance types", () => {
    const modules = [
      module(
        res("coder_agent.gcp", { id: "g", auth: "google-instance-identity" }),
        res("coder_agent.tok", { id: "t", auth: "token", token: "secret" }),
        res("google_compute_instance.vm", { instance_id: "vm-123", machine_type: "e2-medium" }),
        res("coder_agent.aws", { id: "a", auth: "aws-instance-identity" }),
        res("null_resource.box"),
        res("coder_agent_instance.aws", { agent_id: "a", instance_id: "i-explicit" }),
      ),
    ];
    const graph = dot([
      ["google_compute_instance.vm", "coder_agent.gcp"],
      ["google_compute_instance.vm", "coder_agent.tok"],
      ["null_resource.box", "coder_agent.aws"],
    ]);
    const { resources } = convertResources(modules, graph);
    const vm = resources.find((r) => r.name === "vm");
    expect(vm?.instanceType).toBe("e2-medium");
    expect(vm?.agents.map((a) => [a.name, a.auth])).toEqual([
      ["gcp", { $case: "instanceId", value: "vm-123" }],
      ["tok", { $case: "token", value: "secret" }],
    ]);
    const box = resources.find((r) => r.name === "box");
    expect(box?.agents[0]?.auth).toEqual({ $case: "instanceId", value: "i-explicit" });
  });

  it("rich parameters: fields, options and parameters in template order, validation bounds and whether they were set", () => {
    const bounded = (name: string, validation: Record<string, unknown>) =>
      res(
        `data.coder_parameter.${name}`,
        { name, type: "number", default: "2", optional: true, validation: [validation] },
        "data",
      );
    const modules = [
      module(
        res(
          "data.coder_parameter.region",
          {
            name: "region",
            display_name: "Region",
            description: "Where",
            type: "string",
            mutable: true,
            default: "eu",
            icon: "/r.svg",
            order: 3,
            ephemeral: true,
            form_type: "radio",
            option: [
              { name: "Zeta", value: "z", description: "", icon: "" },
              { name: "Alpha", value: "a", description: "d", icon: "/a.svg" },
            ],
            validation: null,
          },
          "data",
        ),
        bounded("cpus", {
          min: 0,
          max: null,
          min_disabled: false,
          max_disabled: true,
          monotonic: "increasing",
          regex: null,
          error: null,
        }),
        // Providers before 0.8.2: no *_disabled; both bounds count when either is non-zero.
        bounded("old-unset", { min: 0, max: 0 }),
        bounded("old-set", { min: 0, max: 4 }),
      ),
    ];
    const { parameters } = convertResources(modules, dot([]));
    expect(parameters.map((p) => p.name)).toEqual(["region", "cpus", "old-unset", "old-set"]);
    expect(parameters[1]).toMatchObject({
      validationMin: 0,
      validationMinSet: true,
      validationMax: 0,
      validationMaxSet: false,
      validationMonotonic: "increasing",
      required: false,
    });
    expect(parameters[2]).toMatchObject({ validationMinSet: false, validationMaxSet: false });
    expect(parameters[3]).toMatchObject({
      validationMin: 0,
      validationMinSet: true,
      validationMax: 4,
      validationMaxSet: true,
    });
    expect(parameters[0]?.options.map((o) => o.name)).toEqual(["Zeta", "Alpha"]);
    expect(parameters[0]).toMatchObject({
      mutable: true,
      defaultValue: "eu",
      icon: "/r.svg",
      displayName: "Region",
      required: true,
      order: 3,
      ephemeral: true,
      formType: ParameterFormType.RADIO,
    });
  });

  it("refuses an unknown parameter form type", () => {
    const modules = [
      module(res("data.coder_parameter.p", { name: "p", form_type: "wheel" }, "data")),
    ];
    expect(() => convertResources(modules, dot([]))).toThrow(
      "decode form_type for coder_parameter.p: unsupported form type: wheel",
    );
  });

  it("refuses two coder_parameters with the same name", () => {
    const modules = [
      module(
        res("data.coder_parameter.a", { name: "same" }, "data"),
        res("data.coder_parameter.b", { name: "same" }, "data"),
      ),
    ];
    expect(() => convertResources(modules, dot([]))).toThrow(
      'coder_parameter names must be unique but "same" appears multiple times',
    );
  });

  it("git auth ids are de-duplicated and sorted", () => {
    const modules = [
      module(
        res("data.coder_git_auth.b", { id: "gitlab" }, "data"),
        res("data.coder_git_auth.a", { id: "github" }, "data"),
        res("data.coder_git_auth.c", { id: "github" }, "data"),
      ),
    ];
    expect(convertResources(modules, dot([])).gitAuthProviders).toEqual(["github", "gitlab"]);
  });

  it("output order is deterministic whatever the input order", () => {
    const resources = [
      res("null_resource.b"),
      res("aws_instance.a"),
      res("null_resource.a"),
      res("coder_agent.z", agent()),
      res("coder_agent.y", agent()),
    ];
    const graph = dot([
      ["null_resource.a", "coder_agent.z"],
      ["null_resource.a", "coder_agent.y"],
    ]);
    const forward = convertResources([module(...resources)], graph);
    const backward = convertResources([module(...[...resources].reverse())], graph);
    expect(backward).toEqual(forward);
    expect(forward.resources.map((r) => `${r.type}.${r.name}`)).toEqual([
      "aws_instance.a",
      "null_resource.a",
      "null_resource.b",
    ]);
    expect(forward.resources[1]?.agents.map((a) => a.name)).toEqual(["y", "z"]);
  });
});

describe("convertResources: reference quirks fixed", () => {
  it("resources inside a counted module match their graph node (quirk 5)", () => {
    const modules: StateModule[] = [
      {
        resources: [res("coder_agent.dev", agent())],
        child_modules: [
          { address: "module.vm[0]", resources: [res('module.vm[0].null_resource.box["k"]')] },
        ],
      },
    ];
    const graph = dot([
      ["module.vm.null_resource.box", "module.vm.var.agent"],
      ["module.vm.var.agent", "coder_agent.dev"],
    ]);
    const { resources } = convertResources(modules, graph);
    expect(resources.map((r) => [r.name, r.agents.map((a) => a.name)])).toEqual([["box", ["dev"]]]);
  });

  it("addressLabel drops every instance key, quoted keys included", () => {
    expect(addressLabel("module.ec2_dev.ec2_instance.dev[0]")).toBe(
      "module.ec2_dev.ec2_instance.dev",
    );
    expect(addressLabel("module.m[0].x.y")).toBe("module.m.x.y");
    expect(addressLabel('coder_app.apps["a.b]c\\"d"]')).toBe("coder_app.apps");
    expect(addressLabel('module.a["x"].module.b[2].t.n["k"]')).toBe("module.a.module.b.t.n");
  });

  it("in a first plan each app attaches to the agent it depends on, not to every agent (quirk 4)", () => {
    const modules = [
      module(
        res("coder_agent.one", agent()),
        res("coder_agent.two", agent()),
        res("coder_app.code", { slug: "code" }),
        res("coder_app.term", { slug: "term" }),
        res("null_resource.vm"),
      ),
    ];
    const graph = dot([
      ["null_resource.vm", "coder_agent.one"],
      ["null_resource.vm", "coder_agent.two"],
      ["coder_app.code", "coder_agent.one"],
      ["coder_app.term", "coder_agent.two"],
    ]);
    const [vm] = convertResources(modules, graph).resources;
    expect(vm?.agents.map((a) => [a.name, a.apps.map((app) => app.slug)])).toEqual([
      ["one", ["code"]],
      ["two", ["term"]],
    ]);
  });

  it("a token agent is not switched to instance auth at plan time (quirk 4)", () => {
    const modules = [
      module(
        res("coder_agent.dev", agent()),
        res("aws_instance.vm", { id: "i-known", instance_type: "t3" }),
      ),
    ];
    const [vm] = convertResources(modules, dot([["aws_instance.vm", "coder_agent.dev"]])).resources;
    expect(vm?.agents[0]?.auth).toEqual({ $case: "token", value: "" });
    expect(vm?.instanceType).toBe("t3");
  });

  it("a stop plan does not list the resources it destroys (prior state: data sources only)", () => {
    const plan = parsePlanJson(
      JSON.stringify({
        prior_state: {
          values: {
            root_module: {
              resources: [
                res("null_resource.vm", {}),
                res("data.coder_parameter.p", { name: "p" }, "data"),
              ],
            },
          },
        },
        planned_values: { root_module: { resources: [res("null_resource.disk", {})] } },
      }),
    );
    const result = convertResources(planModules(plan), dot([]));
    expect(result.resources.map((r) => r.name)).toEqual(["disk"]);
    expect(result.parameters.map((p) => p.name)).toEqual(["p"]);
  });

  it("searches wide graphs without revisiting paths and survives cycles", () => {
    // 40 layers, each node depending on both nodes of the next layer: 2^40 paths for a search
    // that revisits nodes on every path (the reference); one visit each here.
    const edges: Array<[string, string]> = [];
    for (let layer = 0; layer < 40; layer++) {
      for (const a of ["a", "b"]) {
        for (const b of ["a", "b"]) edges.push([`local.l${layer}${a}`, `local.l${layer + 1}${b}`]);
      }
    }
    edges.push(["local.l40a", "coder_agent.dev"], ["local.l40b", "coder_agent.dev"]);
    edges.push(["null_resource.vm", "local.l0a"]);
    edges.push(["local.l0a", "null_resource.vm"]); // a cycle
    const modules = [module(res("coder_agent.dev", agent()), res("null_resource.vm"))];
    const [vm] = convertResources(modules, dot(edges)).resources;
    expect(vm?.agents.map((a) => a.name)).toEqual(["dev"]);
  });

  it("reads terraform >= 1.7's simplified graph, whose labels are relative to their module", () => {
    const simplified = `digraph G {
      rankdir = "RL";
      node [shape = rect, fontname = "sans-serif"];
      "coder_agent.dev" [label="coder_agent.dev"];
      subgraph "cluster_module.vm" {
        label = "module.vm"
        "module.vm.null_resource.box" [label="null_resource.box"];
      }
      "module.vm.null_resource.box" -> "coder_agent.dev";
    }`;
    const modules: StateModule[] = [
      {
        resources: [res("coder_agent.dev", agent())],
        child_modules: [{ resources: [res("module.vm.null_resource.box")] }],
      },
    ];
    const [box] = convertResources(modules, simplified).resources;
    expect(box?.agents.map((a) => a.name)).toEqual(["dev"]);
  });
});
