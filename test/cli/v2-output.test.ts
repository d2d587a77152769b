// What `provisionerd build` prints for Coder v2 templates: each agent's apps (with their group),
// scripts with the stages they run on, env names (never values), devcontainers; presets,
// workspace tags and external auth providers after the table; --json masks env values.
import { describe, expect, it } from "vitest";
import { buildResultJson } from "../../src/cli/build-output.js";
import { renderResourceTable } from "../../src/cli/result-table.js";
import { renderTemplateSummary } from "../../src/cli/template-summary.js";
import { styleFor } from "../../src/cli/terminal-style.js";
import {
  Agent,
  App,
  AppOpenIn,
  CompletedJob_TemplateImport,
  Devcontainer,
  Env,
  Preset,
  Resource,
  Resource_Metadata,
  Script,
} from "../../src/provisioner/model.js";

const plain = styleFor({ isTTY: false }, {});

const workspace = Resource.create({
  name: "dev",
  type: "docker_container",
  dailyCost: 3,
  agents: [
    Agent.create({
      name: "main",
      operatingSystem: "linux",
      architecture: "amd64",
      auth: { $case: "token", value: "t" },
      apps: [
        App.create({ slug: "grafana", url: "http://localhost:3000", group: "Web" }),
        App.create({ slug: "logs", command: "tail -f log", hidden: true, openIn: AppOpenIn.TAB }),
      ],
      scripts: [
        Script.create({ displayName: "Bootstrap", runOnStart: true, startBlocksLogin: true }),
        Script.create({ displayName: "Nightly backup", cron: "0 0 22 * * *" }),
        Script.create({ displayName: "Save state", runOnStop: true }),
      ],
      extraEnvs: [
        Env.create({ name: "EDITOR", value: "vim" }),
        Env.create({ name: "API_TOKEN", value: "s3cr3t" }),
        Env.create({ name: "PATH", value: "/a" }),
        Env.create({ name: "PATH", value: "/b", mergeStrategy: "append" }),
      ],
      devcontainers: [
        Devcontainer.create({
          name: "project",
          workspaceFolder: "/home/coder/project",
          envs: [Env.create({ name: "IN_CONTAINER", value: "hidden-too" })],
        }),
      ],
    }),
  ],
  metadata: [Resource_Metadata.create({ key: "region", value: "eu" })],
});

describe("the resource table of a v2 workspace", () => {
  it("lists each agent's apps, scripts with their stages, env names and devcontainers", () => {
    const lines = renderResourceTable([workspace], plain);
    expect(lines.map((line) => line.replace(/ +/g, " "))).toEqual([
      "RESOURCE TYPE / DETAIL COST/DAY",
      "dev docker_container 3",
      "├─ agent main linux/amd64, auth: token",
      "│ ├─ app grafana [Web] http://localhost:3000",
      "│ ├─ app logs command: tail -f log (hidden)",
      "│ ├─ script Bootstrap on start (blocks login)",
      "│ ├─ script Nightly backup cron 0 0 22 * * *",
      "│ ├─ script Save state on stop",
      "│ ├─ env API_TOKEN, EDITOR, PATH",
      "│ └─ devcontainer project /home/coder/project",
      "└─ meta region eu",
      "",
      "Daily cost: 3",
    ]);
    expect(lines.join("\n")).not.toContain("s3cr3t");
  });
});

describe("the import summary", () => {
  it("shows presets with prebuilds, workspace tags and external auth providers", () => {
    const presets = [
      Preset.create({
        name: "Small",
        default: true,
        parameters: [
          { name: "region", value: "eu" },
          { name: "cpus", value: "2" },
        ],
        prebuild: { instances: 0 },
      }),
      Preset.create({
        name: "Large US",
        parameters: [{ name: "region", value: "us" }],
        prebuild: {
          instances: 2,
          expirationPolicy: { ttl: 86400 },
          scheduling: {
            timezone: "UTC",
            schedule: [{ cron: "* 8-18 * * 1-5", instances: 3 }],
          },
        },
      }),
    ];
    const lines = renderTemplateSummary(
      {
        presets,
        workspaceTags: { team: "platform", cluster: "data.coder_parameter.region.value" },
        externalAuthProviders: [
          { id: "github", optional: false },
          { id: "gitlab", optional: true },
        ],
        gitAuthProviders: ["github", "gitlab"],
      },
      plain,
    );
    expect(lines).toEqual([
      "Presets:",
      "  Small (default)  region=eu, cpus=2",
      "  Large US         region=us; prebuilds: 2, expire after 86400s, UTC: * 8-18 * * 1-5 → 3",
      "Workspace tags:",
      "  cluster  = data.coder_parameter.region.value",
      "  team     = platform",
      "External auth: github, gitlab (optional)",
    ]);
  });

  it("falls back to the git auth ids, and prints nothing for a template with none", () => {
    expect(renderTemplateSummary({ gitAuthProviders: ["github"] }, plain)).toEqual([
      "External auth: github",
    ]);
    expect(renderTemplateSummary({ gitAuthProviders: [] }, plain)).toEqual([]);
  });
});

describe("--json of a v2 workspace", () => {
  it("masks every coder_env value and names the app's open_in", () => {
    const json = buildResultJson({
      template: { path: "/t", name: "t" },
      workspace: { name: "w", owner: "o", id: "i", ownerId: "oi", transition: "start" },
      importJob: { status: "completed", durationMs: 1 },
      buildJob: { status: "completed", durationMs: 1, resources: [workspace] },
      stateWritten: false,
      values: { variables: [], parameters: [], richParameters: [] },
      logs: [],
    });
    const agent = json.build.resources?.[0]?.agents[0];
    expect(agent?.extraEnvs.map((e) => [e.name, e.value])).toEqual([
      ["EDITOR", "[REDACTED]"],
      ["API_TOKEN", "[REDACTED]"],
      ["PATH", "[REDACTED]"],
      ["PATH", "[REDACTED]"],
    ]);
    expect(agent?.devcontainers[0]?.envs).toEqual([
      { name: "IN_CONTAINER", value: "[REDACTED]", mergeStrategy: "" },
    ]);
    expect(agent?.apps.map((a) => [a.slug, a.openIn])).toEqual([
      ["grafana", "window"],
      ["logs", "tab"],
    ]);
    expect(JSON.stringify(json)).not.toMatch(/s3cr3t|hidden-too/);
  });
});

describe("--json of an import with presets and external auth", () => {
  it("carries them beside the parameters when the import result has them", () => {
    const small = Preset.create({ name: "Small", default: true, prebuild: { instances: 0 } });
    const result = {
      ...CompletedJob_TemplateImport.create({ gitAuthProviders: ["github"] }),
      presets: [small],
      externalAuthProviders: [{ id: "github", optional: true }],
      workspaceTags: { team: "platform" },
    };
    const json = buildResultJson({
      template: { path: "/t", name: "t" },
      workspace: { name: "w", owner: "o", id: "i", ownerId: "oi", transition: "start" },
      importJob: { status: "completed", durationMs: 1, result },
      buildJob: { status: "skipped", durationMs: 0 },
      stateWritten: false,
      values: { variables: [], parameters: [], richParameters: [] },
      logs: [],
    });
    expect(json.import).toMatchObject({
      gitAuthProviders: ["github"],
      presets: [small],
      externalAuthProviders: [{ id: "github", optional: true }],
      workspaceTags: { team: "platform" },
    });
  });
});
