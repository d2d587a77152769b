// The 2.x test provider: its schema against every coder_* object Coder v2's recorded cases hold
// (same attribute names, so Terraform accepts those templates), and the provider's own rules and
// messages, run through the same SDK emulation Terraform talks to.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Context } from "../fixtures/coder-provider/src/coder.js";
import type { ValueObject } from "../fixtures/coder-provider/src/cty.js";
import type { Block } from "../fixtures/coder-provider/src/schema.js";
import { planResource, validateConfig } from "../fixtures/coder-provider/src/sdk.js";
import { dataSourcesV2 } from "../fixtures/coder-provider/src/v2/data-sources.js";
import { providerV2 } from "../fixtures/coder-provider/src/v2/provider.js";
import { resourcesV2 } from "../fixtures/coder-provider/src/v2/resources.js";
import { sharedData } from "../helpers/shared-data.js";

const cases = sharedData("conformance-v2/terraform");

interface RecordedResource {
  address: string;
  mode: "managed" | "data";
  type: string;
  values: Record<string, unknown>;
}
interface RecordedModule {
  resources?: RecordedResource[];
  child_modules?: RecordedModule[];
}

function* walk(module: RecordedModule | undefined): Generator<RecordedResource> {
  if (!module) return;
  yield* module.resources ?? [];
  for (const child of module.child_modules ?? []) yield* walk(child);
}

function names(block: Block): string[] {
  return [...Object.keys(block.attributes), ...Object.keys(block.blocks ?? {})].sort();
}

function recordedObjects(): RecordedResource[] {
  const out: RecordedResource[] = [];
  for (const name of readdirSync(cases.path)) {
    const state = JSON.parse(readFileSync(join(cases.path, name, "state.json"), "utf8"));
    const plan = JSON.parse(readFileSync(join(cases.path, name, "plan.json"), "utf8"));
    for (const r of [
      ...walk(state.values?.root_module),
      ...walk(plan.planned_values?.root_module),
    ]) {
      if (r.type.startsWith("coder_")) out.push({ ...r, address: `${name}: ${r.address}` });
    }
  }
  return out;
}

describe.skipIf(!cases.ok)("2.x schema covers the recorded Coder v2 cases", () => {
  it("has every coder_* type they use, with the same attributes and blocks", () => {
    const recorded = recordedObjects();
    expect(recorded.length).toBeGreaterThan(100);
    const mismatches: string[] = [];
    for (const r of recorded) {
      const type = r.mode === "data" ? dataSourcesV2[r.type] : resourcesV2[r.type];
      if (!type) {
        mismatches.push(`${r.address}: no ${r.mode} type ${r.type}`);
        continue;
      }
      // State holds every schema attribute; the cases' older providers may lack newer ones.
      const extra = Object.keys(r.values ?? {}).filter((k) => !names(type.schema).includes(k));
      if (extra.length > 0) mismatches.push(`${r.address}: unknown ${extra.join(", ")}`);
    }
    expect(mismatches).toEqual([]);
  });
});

const ctx: Context = {
  config: { url: "https://coder.example.com", parsed: new URL("https://coder.example.com") },
  env: {},
};

function schemaOf(block: Block | undefined): Block {
  if (!block) throw new Error("missing schema");
  return block;
}

/** A config object as Terraform sends it: every attribute present, blocks as lists. */
function config(block: Block, values: ValueObject): ValueObject {
  const out: ValueObject = {};
  for (const name of Object.keys(block.attributes)) out[name] = values[name] ?? null;
  for (const name of Object.keys(block.blocks ?? {})) out[name] = values[name] ?? [];
  return out;
}

function summaries(type: string, values: ValueObject): string[] {
  const block = schemaOf(resourcesV2[type]?.schema);
  return validateConfig(block, config(block, values)).map((d) => d.summary);
}

describe("2.x resources", () => {
  it("is version 2.15.0 with only `url` in the provider block", () => {
    expect(providerV2.version).toBe("2.15.0");
    expect(Object.keys(providerV2.schema.attributes)).toEqual(["url"]);
  });

  it("validates arguments with the provider's and the SDK's messages", () => {
    expect(summaries("coder_env", { agent_id: "a", name: "1BAD" })).toEqual([
      "invalid value for name (must be a valid environment variable name)",
    ]);
    expect(summaries("coder_app", { agent_id: "a", slug: "ok", open_in: "window" })).toEqual([
      'invalid "coder_app" open_in value, must be one of "tab", "slim-window": "window"',
    ]);
    expect(summaries("coder_app", { agent_id: "a", slug: "ok", group: "g".repeat(65) })).toEqual([
      "group name is too long (max 64 characters)",
    ]);
    expect(
      summaries("coder_script", {
        agent_id: "a",
        display_name: "s",
        script: "x",
        cron: "* * *",
        timeout: 0,
      }),
    ).toEqual([
      "* * * is not a valid cron expression: expected 5 to 6 fields, found 3: [* * *]",
      "expected timeout to be at least (1), got 0",
    ]);
    expect(summaries("coder_devcontainer", { agent_id: "a", workspace_folder: "" })).toEqual([
      'expected "workspace_folder" to not be an empty string, got ',
    ]);
    expect(summaries("coder_agent", { os: "linux", arch: "amd64", api_key_scope: "some" })).toEqual(
      ['expected api_key_scope to be one of ["all" "no_user_data"], got some'],
    );
  });

  it("warns about a 5-field cron on a script (Coder's cron has seconds first)", () => {
    const block = schemaOf(resourcesV2.coder_script?.schema);
    const diags = validateConfig(
      block,
      config(block, { agent_id: "a", display_name: "s", script: "x", cron: "*/5 * * * *" }),
    );
    expect(diags.map((d) => [d.severity, d.summary])).toEqual([
      [
        "warning",
        "The cron expression '*/5 * * * *' appears to be in Unix 5-field format. Coder uses 6-field format (seconds minutes hours day month day-of-week). Consider prefixing with '0 ' to run at the start of each minute: '0 */5 * * * *'",
      ],
    ]);
  });

  it("refuses duplicate metadata keys and volume paths when planning", () => {
    const agent = resourcesV2.coder_agent;
    const block = schemaOf(agent?.schema);
    const item = (key: string) => ({ key, script: "x", interval: 1 });
    const planned = planResource(
      block,
      null,
      config(block, { os: "linux", arch: "amd64", metadata: [item("cpu"), item("cpu")] }),
    ).planned as ValueObject;
    expect(agent?.customizeDiff?.(planned).map((d) => d.summary)).toEqual([
      'duplicate agent metadata key "cpu"',
    ]);
    const meta = resourcesV2.coder_metadata;
    const items: ValueObject[] = [
      { key: "a", value: "1" },
      { key: "a", value: null },
    ];
    expect(meta?.customizeDiff?.({ item: items }).map((d) => d.summary)).toEqual([
      'duplicate resource metadata key "a"',
    ]);
  });

  it("plans display_apps as unknown when left out and fills the defaults at create", () => {
    const agent = resourcesV2.coder_agent;
    const block = schemaOf(agent?.schema);
    const { planned } = planResource(block, null, config(block, { os: "linux", arch: "amd64" }));
    const state: ValueObject = agent?.create(ctx, planned as ValueObject).state ?? {};
    expect(state.display_apps).toEqual([
      {
        vscode: true,
        vscode_insiders: false,
        web_terminal: true,
        ssh_helper: true,
        port_forwarding_helper: true,
      },
    ]);
    expect(state.api_key_scope).toBe("all");
    expect(state.startup_script_behavior).toBe("non-blocking");
  });

  it("checks scripts at apply: a trigger is needed, start_blocks_login needs run_on_start", () => {
    const create = (values: ValueObject) =>
      resourcesV2.coder_script
        ?.create(ctx, { agent_id: "a", ...values })
        .diags.map((d) => d.summary);
    expect(create({ run_on_start: false, run_on_stop: false, cron: null })).toEqual([
      'at least one of "run_on_start", "run_on_stop", or "cron" must be set',
    ]);
    expect(create({ run_on_stop: true, start_blocks_login: true })).toEqual([
      '"start_blocks_login" can only be set if "run_on_start" is "true"',
    ]);
    expect(create({ run_on_start: true, start_blocks_login: true })).toEqual([]);
  });

  it("takes an AI task's id and prompt from CODER_TASK_ID / CODER_TASK_PROMPT", () => {
    const id = "5ece4674-dd35-4f16-88c8-82e40e72e2fd";
    const env = { CODER_TASK_ID: id, CODER_TASK_PROMPT: "fix it" };
    const task = resourcesV2.coder_ai_task;
    const result = task?.create({ ...ctx, env }, { app_id: null, sidebar_app: [{ id }] });
    expect(result?.state).toMatchObject({ id, enabled: true, prompt: "fix it", app_id: id });
    expect(task?.create(ctx, { app_id: null, sidebar_app: [] }).diags[0]?.summary).toBe(
      "'app_id' must be set",
    );
  });
});

describe("2.x data sources read the CODER_* environment", () => {
  const read = (type: string, env: NodeJS.ProcessEnv, input: ValueObject = {}) => {
    const source = dataSourcesV2[type];
    if (!source) throw new Error(type);
    return source.read({ ...ctx, env }, input);
  };

  it("coder_workspace_owner: CODER_WORKSPACE_OWNER_* with defaults, groups and roles as JSON", () => {
    const { state, diags } = read("coder_workspace_owner", {
      CODER_WORKSPACE_OWNER_ID: "8e1b6a1e-0000-4000-8000-000000000001",
      CODER_WORKSPACE_OWNER: "ada",
      CODER_WORKSPACE_OWNER_EMAIL: "ada@example.com",
      CODER_WORKSPACE_OWNER_GROUPS: '["dev","ops"]',
      CODER_WORKSPACE_OWNER_RBAC_ROLES: '[{"name":"member","org_id":"o1"}]',
      CODER_WORKSPACE_OWNER_SESSION_TOKEN: "tok",
    });
    expect(diags).toEqual([]);
    expect(state).toMatchObject({
      id: "8e1b6a1e-0000-4000-8000-000000000001",
      name: "ada",
      full_name: "default",
      email: "ada@example.com",
      groups: ["dev", "ops"],
      rbac_roles: [{ name: "member", org_id: "o1" }],
      session_token: "tok",
    });
    const groups = (value: string) =>
      read("coder_workspace_owner", { CODER_WORKSPACE_OWNER_GROUPS: value }).diags[0]?.summary;
    expect(groups("dev,ops")).toBe(
      "invalid user groups: invalid character 'd' looking for beginning of value",
    );
    expect(groups('"dev"')).toBe(
      "invalid user groups: json: cannot unmarshal string into Go value of type []string",
    );
    expect(groups("null")).toBeUndefined();
  });

  it("coder_workspace: template fields are required only inside a workspace build", () => {
    expect(read("coder_workspace", {}).diags).toEqual([]);
    const inBuild = read("coder_workspace", { CODER_WORKSPACE_BUILD_ID: "b" });
    expect(inBuild.diags.map((d) => d.summary)).toEqual([
      "template ID is missing: CODER_WORKSPACE_TEMPLATE_ID is required",
    ]);
    const prebuild = read("coder_workspace", { CODER_WORKSPACE_IS_PREBUILD: "TRUE" }).state;
    expect(prebuild).toMatchObject({ is_prebuild: true, prebuild_count: 1, start_count: 1 });
  });

  it("coder_external_auth: the token from CODER_EXTERNAL_AUTH_ACCESS_TOKEN_<id>", () => {
    const { state } = read(
      "coder_external_auth",
      { CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github: "gho_x" },
      { id: "github", optional: true },
    );
    expect(state).toMatchObject({ id: "github", access_token: "gho_x", optional: true });
  });

  it("coder_parameter: form types, disabled bounds, previous values, ephemeral rules", () => {
    const block = schemaOf(dataSourcesV2.coder_parameter?.schema);
    const param = (values: ValueObject, env: NodeJS.ProcessEnv = {}) => {
      const input = config(block, values);
      for (const [name, attr] of Object.entries(block.attributes)) {
        if (input[name] === null && attr.default !== undefined) input[name] = attr.default;
      }
      return read("coder_parameter", env, input);
    };
    const n = (v: ValueObject) => ({ error: null, monotonic: null, regex: null, ...v });
    const maxOnly = param({
      name: "cpu",
      type: "number",
      default: "9",
      validation: [n({ max: 8 })],
    });
    expect(maxOnly.diags.map((d) => [d.summary, d.detail])).toEqual([
      [
        "Invalid parameter default value according to 'validation' block",
        "value 9 is more than the maximum 8",
      ],
    ]);
    const ok = param({ name: "cpu", type: "number", default: "-3", validation: [n({ max: 0 })] });
    expect(ok.diags).toEqual([]);
    expect(ok.state).toMatchObject({ value: "-3", form_type: "input", optional: true });
    expect(ok.state.validation).toMatchObject([{ min_disabled: true, max_disabled: false }]);

    const slider = param({ name: "s", type: "string", form_type: "slider", default: "a" });
    expect(slider.diags.map((d) => d.detail)).toEqual([
      '"form_type" attribute="slider" is not supported for "type"="string", choose one of [input textarea]',
    ]);
    const sha = createHash("sha256").update("size").digest("hex");
    const shrink = param(
      { name: "size", type: "number", default: "5", validation: [n({ monotonic: "increasing" })] },
      { [`CODER_PARAMETER_${sha}`]: "3", [`CODER_PARAMETER_PREVIOUS_${sha}`]: "4" },
    );
    expect(shrink.diags.map((d) => d.detail)).toEqual([
      "parameter value '3' must be equal or greater than previous value: 4",
    ]);
    const immutable = param({ name: "e", default: "x", ephemeral: true });
    expect(immutable.diags[0]?.summary).toBe("parameter can't be immutable and ephemeral");
    const list = param({
      name: "l",
      type: "list(string)",
      form_type: "multi-select",
      default: '["a","z"]',
      option: [
        { name: "A", value: "a", description: null, icon: null },
        { name: "B", value: "b", description: null, icon: null },
      ],
    });
    expect(list.diags.map((d) => [d.summary, d.detail])).toEqual([
      [
        "Default values must be a valid option",
        'Default value "[\\"a\\",\\"z\\"]" is not a valid option, values "z" are missing from the options',
      ],
    ]);
  });
});
