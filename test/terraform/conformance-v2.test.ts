// Table-driven conformance with Coder v2's recorded cases: every case in
// ../shared/conformance-v2/terraform (and in $CONFORMANCE_V2_DIR when set) converted both ways
// (plan and state) and compared by the rules of that folder's README: ids and tokens blanked,
// lists sorted by their key (stable), parameters in the converter's order, presets and external
// auth as multisets, metadata `is_null` false in a plan, AI task ids blank in a plan.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  Agent,
  Agent_Metadata,
  AITask,
  App,
  type ConvertedState,
  Devcontainer,
  DisplayApps,
  Env,
  ExternalAuthProviderResource,
  Healthcheck,
  Preset,
  Resource,
  Resource_Metadata,
  ResourcesMonitoring,
  RichParameter,
  RichParameterOption,
  Script,
} from "../../src/proto/provisioner.js";
import { type ConvertResult, convertResources } from "../../src/terraform/convert/resources.js";
import {
  parsePlanJson,
  parseStateJson,
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

const shared = sharedData("conformance-v2/terraform");

// --- expected.json (reference proto names, snake_case) -> our messages -------------------------

const list = (value: unknown) => (value as Json[] | undefined) ?? [];

function checkApp(app: Json): void {
  checkKeys(app, App.create(), "app");
  if (app.healthcheck) checkKeys(app.healthcheck as Json, Healthcheck.create(), "healthcheck");
}

function expectedResource(json: Json): Resource {
  checkKeys(json, Resource.create(), "resource");
  for (const item of list(json.metadata)) checkKeys(item, Resource_Metadata.create(), "metadata");
  const agents = list(json.agents).map((agent) => {
    checkKeys(agent, Agent.create(), "agent", ["auth"]);
    const auth = agent.auth as Json | undefined;
    if (auth === undefined) throw new Error("agent without auth in expected.json");
    checkKeys(auth, { token: 1, instanceId: 1 }, "agent.auth");
    list(agent.apps).forEach(checkApp);
    for (const m of list(agent.metadata)) checkKeys(m, Agent_Metadata.create(), "agent.metadata");
    for (const s of list(agent.scripts)) checkKeys(s, Script.create(), "script");
    for (const e of list(agent.extra_envs)) checkKeys(e, Env.create(), "env");
    if (agent.display_apps)
      checkKeys(agent.display_apps as Json, DisplayApps.create(), "display_apps");
    if (agent.resources_monitoring) {
      checkKeys(agent.resources_monitoring as Json, ResourcesMonitoring.create(), "monitoring");
    }
    for (const dc of list(agent.devcontainers)) {
      checkKeys(dc, Devcontainer.create(), "devcontainer");
      list(dc.apps).forEach(checkApp);
    }
    return { ...agent, ...auth, auth: undefined };
  });
  return Resource.fromJSON({ ...json, agents });
}

function expectedParameter(json: Json): RichParameter {
  checkKeys(json, RichParameter.create(), "parameter");
  for (const option of list(json.options))
    checkKeys(option, RichParameterOption.create(), "option");
  // Present means set, even when 0.
  return RichParameter.fromJSON({
    ...json,
    validation_min_set: "validation_min" in json,
    validation_max_set: "validation_max" in json,
  });
}

type Expected = { error: string } | ConvertedState;

function expectedOf(c: Case): Expected {
  const json = JSON.parse(read(c, "expected.json")) as Json;
  if (typeof json.error === "string") return { error: json.error };
  checkKeys(
    json,
    {
      resources: 1,
      parameters: 1,
      presets: 1,
      externalAuthProviders: 1,
      aiTasks: 1,
      hasAiTasks: 1,
      hasExternalAgents: 1,
    },
    "expected.json",
  );
  for (const p of list(json.presets)) checkKeys(p, Preset.create(), "preset");
  return {
    resources: list(json.resources).map(expectedResource),
    parameters: list(json.parameters).map(expectedParameter),
    presets: list(json.presets).map((p) => Preset.fromJSON(p)),
    externalAuthProviders: list(json.external_auth_providers).map((p) =>
      ExternalAuthProviderResource.fromJSON(p),
    ),
    aiTasks: list(json.ai_tasks).map((t) => AITask.fromJSON(t)),
    hasAiTasks: json.has_ai_tasks === true,
    hasExternalAgents: json.has_external_agents === true,
  };
}

// --- normalisation --------------------------------------------------------------------------------

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/** Copies, blanks identities and sorts (Array.prototype.sort is stable). */
function normalised(resources: Resource[], run: "plan" | "state"): Resource[] {
  const copy = resources.map((r) => Resource.fromPartial(r));
  for (const r of copy) {
    if (run === "plan") for (const m of r.metadata) m.isNull = false;
    r.agents.sort(byKey((a) => a.name));
    for (const agent of r.agents) {
      // Fields of the v0.17 layout only (the current one has the legacy scripts in `scripts`).
      agent.startupScript = "";
      agent.loginBeforeReady = false;
      agent.startupScriptTimeoutSeconds = 0;
      agent.id = "";
      if (agent.auth) agent.auth = { $case: agent.auth.$case, value: "" };
      for (const app of agent.apps) app.id = "";
      agent.apps.sort(byKey((a) => a.slug));
      agent.extraEnvs.sort(byKey((e) => e.name));
      agent.scripts.sort(byKey((s) => s.displayName));
      agent.devcontainers.sort(byKey((d) => d.name));
      for (const dc of agent.devcontainers) {
        dc.id = "";
        dc.subagentId = "";
        for (const app of dc.apps) app.id = "";
        dc.apps.sort(byKey((a) => a.slug));
      }
    }
  }
  return copy.sort(byKey((r) => `${r.name}\u0000${r.type}`));
}

/** Order-free comparison: both sorted by their JSON text. */
function asMultiset<T>(items: T[], toJSON: (item: T) => unknown): string[] {
  return items.map((item) => JSON.stringify(toJSON(item))).sort();
}

function compare(got: ConvertResult, want: Expected, run: "plan" | "state"): void {
  if ("error" in want) throw new Error("expected an error");
  expect(normalised(got.resources, run)).toEqual(normalised(want.resources, run));
  expect(got.parameters).toEqual(want.parameters);
  expect(asMultiset(got.presets, Preset.toJSON)).toEqual(asMultiset(want.presets, Preset.toJSON));
  expect(asMultiset(got.externalAuthProviders, ExternalAuthProviderResource.toJSON)).toEqual(
    asMultiset(want.externalAuthProviders, ExternalAuthProviderResource.toJSON),
  );
  const tasks = (tasks: AITask[]) =>
    tasks.map((t) => AITask.fromPartial(run === "plan" ? { ...t, id: "" } : t));
  expect(tasks(got.aiTasks)).toEqual(tasks(want.aiTasks));
  expect(got.hasAiTasks).toBe(want.hasAiTasks);
  expect(got.hasExternalAgents).toBe(want.hasExternalAgents);
}

/** Plan run: planned values, then the prior state (the planned values again when there is none). */
export function planRunModules(c: Case): StateModule[] {
  const plan = parsePlanJson(read(c, "plan.json"));
  const planned = plan.planned_values?.root_module ?? {};
  return [planned, plan.prior_state?.values?.root_module ?? planned];
}

export function stateRunModules(c: Case): StateModule[] {
  const root = parseStateJson(read(c, "state.json")).values?.root_module;
  return root === undefined ? [] : [root];
}

const runs = {
  plan: (c: Case) => convertResources(planRunModules(c), read(c, "plan.dot")),
  state: (c: Case) => convertResources(stateRunModules(c), read(c, "state.dot")),
};

function runSuite(label: string, dir: string) {
  describe(label, () => {
    const cases = casesIn(dir).flatMap((c) =>
      (["plan", "state"] as const).map((run) => ({ ...c, run })),
    );
    it.each(cases)("$name: $run", (c) => {
      const want = expectedOf(c);
      if ("error" in want) {
        expect(() => runs[c.run](c)).toThrow(want.error);
        return;
      }
      compare(runs[c.run](c), want, c.run);
    });
  });
}

if (shared.ok) runSuite("conformance v2: shared cases", shared.path);
else
  describe.skip("conformance v2: shared cases (../shared absent)", () => it("skipped", () => {}));
const extraDir = process.env.CONFORMANCE_V2_DIR;
if (extraDir !== undefined && extraDir !== "") {
  runSuite(`conformance v2: $CONFORMANCE_V2_DIR (${extraDir})`, resolve(extraDir));
}
