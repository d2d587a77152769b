// Table-driven conformance: every case in ../shared/conformance/terraform (and in $CONFORMANCE_DIR
// when set) converted both ways (plan and state) and compared by the rules of that folder's README.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import * as v017 from "../../src/coderd/v017/gen/provisioner.js";
import {
  Agent,
  App,
  Healthcheck,
  Resource,
  Resource_Metadata,
  RichParameter,
  RichParameterOption,
} from "../../src/proto/provisioner.js";
import { configurationGraph } from "../../src/terraform/convert/config-graph.js";
import { convertResources } from "../../src/terraform/convert/resources.js";
import { stateDependencyGraph } from "../../src/terraform/convert/state-graph.js";
import type { DotGraph } from "../../src/terraform/dot.js";
import {
  parsePlanJson,
  parseStateJson,
  planModules,
  type StateModule,
} from "../../src/terraform/terraform-json.js";
import {
  type Case,
  casesIn,
  checkKeys,
  type Json,
  readCase as read,
} from "../helpers/conformance-cases.js";
import { sharedData } from "../helpers/shared-data.js";

const shared = sharedData("conformance/terraform");

// --- expected.json (reference proto names, snake_case) -> our messages -------------------------

function expectedResource(json: Json): Resource {
  checkKeys(json, Resource.create(), "resource");
  const agents = ((json.agents as Json[] | undefined) ?? []).map((agent) => {
    checkKeys(agent, Agent.create(), "agent", ["auth"]);
    const auth = agent.auth as Json | undefined;
    if (auth === undefined) throw new Error("agent without auth in expected.json");
    checkKeys(auth, { token: 1, instanceId: 1 }, "agent.auth");
    for (const app of (agent.apps as Json[] | undefined) ?? []) {
      checkKeys(app, App.create(), "app");
      if (app.healthcheck) checkKeys(app.healthcheck as Json, Healthcheck.create(), "healthcheck");
    }
    return { ...agent, ...auth, auth: undefined };
  });
  for (const item of (json.metadata as Json[] | undefined) ?? []) {
    checkKeys(item, Resource_Metadata.create(), "metadata");
  }
  return Resource.fromJSON({ ...json, agents });
}

function expectedParameter(json: Json): RichParameter {
  checkKeys(json, RichParameter.create(), "parameter");
  for (const option of (json.options as Json[] | undefined) ?? []) {
    checkKeys(option, RichParameterOption.create(), "option");
  }
  return RichParameter.fromJSON(json);
}

// --- comparison rules ---------------------------------------------------------------------------

const byString =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

// The converter's messages carry the current layout's fields too; these cases are compared on what
// the v0.17 layout has, the part the v0.17 adapter sends.
const inV017Layout = (r: Resource) => Resource.fromPartial(v017.Resource.fromPartial(r as never));
const parameterInV017Layout = (p: RichParameter) =>
  RichParameter.fromPartial(v017.RichParameter.fromPartial(p as never));

function sortResources(resources: Resource[]): Resource[] {
  const copy = resources.map(inV017Layout);
  for (const r of copy) {
    r.agents.sort(byString((a) => a.name));
    for (const agent of r.agents) agent.apps.sort(byString((a) => a.slug));
  }
  return copy.sort(byString((r) => `${r.name}\u0000${r.type}`));
}

function sortParameters(parameters: RichParameter[]): RichParameter[] {
  const copy = parameters.map(parameterInV017Layout);
  for (const p of copy) p.options.sort(byString((o) => o.name));
  return copy.sort(byString((p) => p.name));
}

function blankAgentIdentity(resources: Resource[]): void {
  for (const r of resources) {
    for (const agent of r.agents) {
      agent.id = "";
      if (agent.auth) agent.auth = { $case: agent.auth.$case, value: "" };
    }
  }
}

function planIsNullFalse(resources: Resource[]): void {
  for (const r of resources) for (const m of r.metadata) m.isNull = false;
}

function expectedOf(c: Case) {
  const json = JSON.parse(read(c, "expected.json")) as Json;
  checkKeys(json, { resources: 1, parameters: 1, gitAuthProviders: 1 }, "expected.json");
  return {
    resources: ((json.resources as Json[] | undefined) ?? []).map(expectedResource),
    parameters: ((json.parameters as Json[] | undefined) ?? []).map(expectedParameter),
    gitAuthProviders: json.git_auth_providers as string[] | undefined,
  };
}

/**
 * Where the graph comes from: terraform's own (`plan.dot`/`state.dot`), or derived without
 * terraform from the plan's configuration (plan and apply) or the state's recorded dependencies.
 */
const planGraphs = {
  dot: (c: Case): string | DotGraph => read(c, "plan.dot"),
  configuration: (c: Case): string | DotGraph =>
    configurationGraph(parsePlanJson(read(c, "plan.json")).configuration),
};
const stateGraphs = {
  dot: (c: Case): string | DotGraph => read(c, "state.dot"),
  configuration: planGraphs.configuration,
  dependencies: (c: Case): string | DotGraph => {
    const root = parseStateJson(read(c, "state.json")).values?.root_module;
    return stateDependencyGraph(root ? [root] : []);
  },
};

function runSuite(label: string, dir: string, options: { production: boolean }) {
  describe(label, () => {
    const cases = casesIn(dir);
    const planRuns = cases.flatMap((c) =>
      Object.entries(planGraphs).map(([graph, make]) => ({ ...c, graph, make })),
    );
    const stateRuns = cases.flatMap((c) =>
      Object.entries(stateGraphs).map(([graph, make]) => ({ ...c, graph, make })),
    );
    it.each(planRuns)("$name: plan ($graph graph)", (c) => {
      const expected = expectedOf(c);
      const plan = parsePlanJson(read(c, "plan.json"));
      // README order: planned values, then the prior state when there is one.
      const modules: StateModule[] = [];
      if (plan.planned_values?.root_module) modules.push(plan.planned_values.root_module);
      if (plan.prior_state?.values?.root_module) modules.push(plan.prior_state.values.root_module);
      const got = convertResources(modules, c.make(c));
      planIsNullFalse(got.resources);
      const want = sortResources(expected.resources);
      planIsNullFalse(want);
      expect(sortResources(got.resources)).toEqual(want);
      expect(sortParameters(got.parameters)).toEqual(sortParameters(expected.parameters));
      if (expected.gitAuthProviders !== undefined) {
        expect(new Set(got.gitAuthProviders)).toEqual(new Set(expected.gitAuthProviders));
      }
      if (options.production) {
        // What the provisioner really passes (prior data sources, then planned values).
        const prod = convertResources(planModules(plan), c.make(c));
        planIsNullFalse(prod.resources);
        expect(sortResources(prod.resources)).toEqual(want);
        expect(sortParameters(prod.parameters)).toEqual(sortParameters(expected.parameters));
      }
    });
    it.each(stateRuns)("$name: state ($graph graph)", (c) => {
      const expected = expectedOf(c);
      const state = parseStateJson(read(c, "state.json"));
      const root = state.values?.root_module;
      const got = convertResources(root ? [root] : [], c.make(c));
      blankAgentIdentity(got.resources);
      const want = sortResources(expected.resources);
      blankAgentIdentity(want);
      expect(sortResources(got.resources)).toEqual(want);
      if (expected.gitAuthProviders !== undefined) {
        expect(new Set(got.gitAuthProviders)).toEqual(new Set(expected.gitAuthProviders));
      }
    });
  });
}

if (shared.ok) runSuite("conformance: shared cases", shared.path, { production: true });
else describe.skip("conformance: shared cases (../shared absent)", () => it("skipped", () => {}));
const extraDir = process.env.CONFORMANCE_DIR;
if (extraDir !== undefined && extraDir !== "") {
  runSuite(`conformance: $CONFORMANCE_DIR (${extraDir})`, resolve(extraDir), { production: false });
}
