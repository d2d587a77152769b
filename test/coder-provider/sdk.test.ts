// The SDKv2 behaviour the provider reproduces, checked on the coder schemas themselves.
import { describe, expect, it } from "vitest";
import { dataSources, resources } from "../fixtures/coder-provider/src/coder.js";
import { UNKNOWN, type ValueObject } from "../fixtures/coder-provider/src/cty.js";
import type { Block } from "../fixtures/coder-provider/src/schema.js";
import { finalizeState, planResource, validateConfig } from "../fixtures/coder-provider/src/sdk.js";

function schemaOf(block: Block | undefined): Block {
  if (!block) throw new Error("missing schema");
  return block;
}
const agent = schemaOf(resources.coder_agent?.schema);
const app = schemaOf(resources.coder_app?.schema);
const metadata = schemaOf(resources.coder_metadata?.schema);
const parameter = schemaOf(dataSources.coder_parameter?.schema);

/** A config object as Terraform sends it: every attribute present, blocks as lists. */
function config(block: Block, values: ValueObject): ValueObject {
  const out: ValueObject = {};
  for (const name of Object.keys(block.attributes)) out[name] = values[name] ?? null;
  for (const name of Object.keys(block.blocks ?? {})) out[name] = values[name] ?? [];
  return out;
}

const validation = (v: ValueObject) => config(schemaOf(parameter.blocks?.validation?.block), v);

describe("configuration validation", () => {
  it("reports ConflictsWith both ways, like the SDK", () => {
    const diags = validateConfig(
      parameter,
      config(parameter, {
        name: "x",
        option: [{ name: "a", value: "a", description: null, icon: null }],
        validation: [validation({ regex: "a", error: "e" })],
      }),
    );
    expect(diags.map((d) => [d.summary, d.detail, d.path])).toEqual([
      ["Conflicting configuration arguments", '"option": conflicts with validation', ["option"]],
      [
        "Conflicting configuration arguments",
        '"validation": conflicts with option',
        ["validation"],
      ],
    ]);
  });

  it("reports RequiredWith on nested keys", () => {
    const diags = validateConfig(
      parameter,
      config(parameter, { name: "x", type: "number", validation: [validation({ min: 1 })] }),
    );
    expect(diags.map((d) => [d.summary, d.detail, d.path])).toEqual([
      [
        "Missing required argument",
        '"validation.0.min": all of `validation.0.max,validation.0.min` must be specified',
        ["validation", 0, "min"],
      ],
    ]);
  });

  it("runs ValidateFunc-style checks with the SDK's StringInSlice message", () => {
    const diags = validateConfig(parameter, config(parameter, { name: "x", type: "list" }));
    expect(diags.map((d) => d.summary)).toEqual([
      'expected type to be one of ["number" "string" "bool"], got list',
    ]);
    const slug = validateConfig(app, config(app, { agent_id: "a", slug: "Bad_Slug" }));
    expect(slug.map((d) => d.summary)).toEqual([
      'invalid "coder_app" slug, must be a valid hostname ("^[a-z0-9](-?[a-z0-9])*$", cannot contain two consecutive hyphens or start/end with a hyphen): "Bad_Slug"',
    ]);
  });

  it("warns about deprecated arguments and skips checks on unknown values", () => {
    const diags = validateConfig(
      app,
      config(app, { agent_id: UNKNOWN, name: "App", slug: UNKNOWN }),
    );
    expect(diags).toEqual([
      {
        severity: "warning",
        summary: "Argument is deprecated",
        detail: "`name` is deprecated, use `display_name` instead",
        path: ["name"],
      },
    ]);
  });

  it("defers conflicts with unknown values", () => {
    const diags = validateConfig(app, config(app, { agent_id: "a", command: "ls", url: UNKNOWN }));
    expect(diags).toEqual([]);
  });
});

describe("planning", () => {
  const agentConfig = config(agent, { os: "linux", arch: "amd64", dir: "/home" });

  it("fills defaults and marks computed values unknown on create", () => {
    const { planned, requiresReplace } = planResource(agent, null, agentConfig);
    expect(requiresReplace).toEqual([]);
    expect(planned).toMatchObject({
      os: "linux",
      auth: "token",
      connection_timeout: 120,
      login_before_ready: true,
      startup_script_timeout: 300,
      startup_script: null,
      id: UNKNOWN,
      token: UNKNOWN,
      init_script: UNKNOWN,
    });
  });

  it("keeps the prior state when nothing changed, treating null like the zero value", () => {
    const prior = finalizeState(
      metadata,
      {
        ...config(metadata, {
          resource_id: "r",
          item: [{ key: "k", value: "", sensitive: false, is_null: true }],
        }),
        id: "m",
      },
      "managed",
    );
    const next = config(metadata, {
      resource_id: "r",
      item: [{ key: "k", value: null, sensitive: null, is_null: null }],
    });
    expect(planResource(metadata, prior, next)).toEqual({ planned: prior, requiresReplace: [] });
  });

  it("replaces on any argument change (every coder argument is ForceNew)", () => {
    const { planned: created } = planResource(agent, null, agentConfig);
    const prior = { ...(created as ValueObject), id: "a", token: "t", init_script: "" };
    const changed = config(agent, { os: "linux", arch: "arm64", dir: "/home", env: { A: "1" } });
    const { planned, requiresReplace } = planResource(agent, prior, changed);
    expect(requiresReplace).toEqual(["arch", "env"]);
    expect(planned).toMatchObject({ arch: "arm64", id: UNKNOWN, token: UNKNOWN });
  });

  it("plans destroy as null", () => {
    expect(planResource(agent, agentConfig, null)).toEqual({ planned: null, requiresReplace: [] });
  });
});

describe("stored state", () => {
  it("zero-fills nested block attributes and resolves leftover unknowns", () => {
    const state = finalizeState(
      parameter,
      config(parameter, {
        name: "p",
        id: UNKNOWN,
        option: [{ name: "A", value: "a", description: null, icon: null }],
      }),
      "data",
    );
    expect(state.id).toBeNull();
    expect(state.option).toEqual([{ name: "A", value: "a", description: "", icon: "" }]);
    expect(state.validation).toBeNull(); // absent blocks stay null in data source state
    expect(finalizeState(app, config(app, { agent_id: "a" }), "managed").healthcheck).toEqual([]);
  });
});
