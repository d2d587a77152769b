// The Coder v2 example templates through `provisionerd build` with the real binary, real
// terraform and the 2.x test provider: start → stop → delete through one state file, checked on
// what the conversion reported (agents with scripts, env, metadata, display apps, monitors,
// devcontainers, grouped apps, a module's additions) and on the printed table.
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { ensureBuilt, provisionerd, ROOT } from "./cli-binary.js";

const BUILD_TIMEOUT = 240_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-build-v2-"));
const mirrorDir = path.join(tmp, "mirror");
const common = [
  "--provider-mirror",
  mirrorDir,
  "--work-dir",
  path.join(tmp, "work"),
  "--cache-dir",
  path.join(tmp, "cache"),
];

beforeAll(async () => {
  await Promise.all([ensureBuilt(), createProviderMirror(mirrorDir)]);
}, BUILD_TIMEOUT);

// biome-ignore lint/suspicious/noExplicitAny: the --json output is checked field by field
type Json = any;

async function build(name: string, args: string[]): Promise<{ json: Json; stdout: string }> {
  const template = path.join(ROOT, "test/fixtures/templates", name);
  const result = await provisionerd(["build", template, ...common, ...args]);
  const stdout = String(result.stdout);
  expect(result.exitCode, `${stdout}\n${String(result.stderr)}`).toBe(0);
  return { json: args.includes("--json") ? JSON.parse(stdout) : undefined, stdout };
}

function stateTypes(file: string): string[] {
  const state = JSON.parse(readFileSync(file, "utf8"));
  return state.resources.map(
    (r: Json) =>
      `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`,
  );
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

describe("provisionerd build with the Coder v2 example templates", () => {
  it(
    "v2-workspace: starts with everything attached to the agent, stops, deletes",
    async () => {
      const stateFile = path.join(tmp, "workspace.tfstate");
      const start = (await build("v2-workspace", ["--json", "--state-file", stateFile])).json;
      expect(start.ok).toBe(true);
      const dev = start.build.resources.find((r: Json) => r.name === "dev");
      expect(dev.metadata).toEqual([
        { key: "owner", value: expect.any(String), sensitive: false, isNull: false },
      ]);
      expect(dev.agents).toHaveLength(1);
      const agent = dev.agents[0];
      expect(agent).toMatchObject({
        name: "main",
        directory: "/home/coder",
        order: 1,
        apiKeyScope: "no_user_data",
        displayApps: {
          vscode: false,
          vscodeInsiders: true,
          webTerminal: true,
          sshHelper: false,
          portForwardingHelper: true,
        },
        resourcesMonitoring: {
          memory: { enabled: true, threshold: 80 },
          volumes: [{ path: "/home/coder", enabled: true, threshold: 90 }],
        },
        metadata: [
          { key: "cpu", displayName: "CPU usage", interval: 10, timeout: 1, order: 1 },
          { key: "disk", displayName: "Home disk", interval: 60, timeout: 5, order: 2 },
        ],
      });
      const scripts = [...agent.scripts].sort((a: Json, b: Json) =>
        a.displayName.localeCompare(b.displayName),
      );
      expect(scripts).toEqual([
        expect.objectContaining({
          displayName: "Bootstrap",
          icon: "/icon/terminal.svg",
          runOnStart: true,
          startBlocksLogin: true,
          timeoutSeconds: 300,
        }),
        expect.objectContaining({
          displayName: "Install code-server",
          script: "echo installing code-server on port 13337",
          runOnStart: true,
        }),
        expect.objectContaining({
          displayName: "Nightly backup",
          cron: "0 0 22 * * *",
          logPath: "backup.log",
          runOnStart: false,
        }),
        expect.objectContaining({ displayName: "Save state", runOnStop: true, runOnStart: false }),
      ]);
      // coder_env values are never printed: the conversion does not say which are sensitive.
      expect([...agent.extraEnvs].sort(byName)).toEqual([
        { name: "API_TOKEN", value: "[REDACTED]", mergeStrategy: "replace" },
        { name: "CODE_SERVER_PORT", value: "[REDACTED]", mergeStrategy: "replace" },
        { name: "EDITOR", value: "[REDACTED]", mergeStrategy: "replace" },
      ]);
      expect(JSON.stringify(start)).not.toContain("s3cr3t-token");
      expect(agent.devcontainers).toEqual([
        expect.objectContaining({
          name: "project",
          workspaceFolder: "/home/coder/project",
          configPath: "/home/coder/project/.devcontainer/devcontainer.json",
        }),
      ]);
      const apps = Object.fromEntries(agent.apps.map((a: Json) => [a.slug, a]));
      expect(Object.keys(apps).sort()).toEqual(["code-server", "docs", "grafana", "logs"]);
      expect(apps.docs).toMatchObject({
        group: "Web",
        order: 2,
        openIn: "tab",
        tooltip: "Project **documentation**",
        healthcheck: { url: "http://localhost:8000/healthz", interval: 5, threshold: 3 },
      });
      expect(apps.grafana).toMatchObject({ group: "Web", order: 1, subdomain: true });
      expect(apps.grafana.sharingLevel).toBe("authenticated");
      expect(apps.logs).toMatchObject({ hidden: true, command: "tail -f /var/log/syslog" });
      expect(apps["code-server"]).toMatchObject({ group: "Editors", openIn: "slim_window" });
      const others = start.build.resources
        .filter((r: Json) => r.name !== "dev")
        .map((r: Json) => `${r.modulePath || "root"} ${r.type}.${r.name}`)
        .sort();
      expect(others).toEqual([
        "module.tools coder_env.port",
        "root coder_devcontainer.project",
        "root coder_env.api_token",
        "root coder_env.editor",
      ]);
      expect(stateTypes(stateFile)).toContain("module.tools.coder_script.install");

      const stop = (
        await build("v2-workspace", ["--json", "--state-file", stateFile, "--transition", "stop"])
      ).json;
      expect(stop.ok).toBe(true);
      expect(stop.build.resources.map((r: Json) => r.name)).not.toContain("dev");
      expect(stateTypes(stateFile)).not.toContain("terraform_data.dev");
      expect(stateTypes(stateFile)).toContain("coder_agent.main");

      const del = (
        await build("v2-workspace", ["--json", "--state-file", stateFile, "--transition", "delete"])
      ).json;
      expect(del.ok).toBe(true);
      expect(del.build.resources).toEqual([]);
      expect(stateTypes(stateFile)).toEqual([]);
    },
    BUILD_TIMEOUT,
  );

  it(
    "v2-presets: starts and prints the agent table, stops, deletes",
    async () => {
      const stateFile = path.join(tmp, "presets.tfstate");
      const { stdout } = await build("v2-presets", ["--state-file", stateFile]);
      expect(stdout).toMatch(/^machine +terraform_data +0$/m);
      expect(stdout).toMatch(/^└─ agent main +linux\/amd64, auth: token$/m);
      expect(stdout).toMatch(/^ {3}└─ script Startup Script +on start$/m);
      expect(stdout).toMatch(/^External auth: github, gitlab/m);
      // Presets come in the import's result, workspace tags in its update: both are shown.
      expect(stdout).toMatch(
        /^Presets:\n {2}Large US +cpus=8, region=us; prebuilds: 2.*\n {2}Small \(default\) +cpus=2, region=eu$/m,
      );
      expect(stdout).toMatch(
        /^Workspace tags:\n {2}cluster += "gpu-\$\{data\.coder_parameter\.region\.value\}"\n {2}team += "platform"$/m,
      );
      expect(stateTypes(stateFile).sort()).toEqual([
        "coder_agent.main",
        "data.coder_external_auth.github",
        "data.coder_external_auth.gitlab",
        "data.coder_parameter.cpus",
        "data.coder_parameter.region",
        "data.coder_parameter.reset_home",
        "data.coder_workspace.me",
        "data.coder_workspace_preset.large",
        "data.coder_workspace_preset.small",
        "data.coder_workspace_tags.pool",
        "terraform_data.machine",
      ]);
      for (const transition of ["stop", "delete"]) {
        const next = (
          await build("v2-presets", [
            "--json",
            "--state-file",
            stateFile,
            "--transition",
            transition,
          ])
        ).json;
        expect(next.ok).toBe(true);
        expect(next.build.resources.map((r: Json) => r.name)).toEqual([]);
      }
      expect(stateTypes(stateFile)).toEqual([]);
    },
    BUILD_TIMEOUT,
  );
});
