// The Coder v2 example templates against the strict dRPC fake of a v2 coderd, with real terraform
// and the 2.x test provider: a template import, then start → stop → delete, each from the state
// the previous build left. Checked on the v2 messages coderd receives: agents with their scripts,
// env, metadata, display apps, monitors, devcontainers and grouped apps; the import's parameters
// with the 2.x fields and its external auth providers.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { coderdV2 } from "../../src/coderd/adapters/v2-adapter.js";
import type * as sdk from "../../src/coderd/v2/gen/provisioner.js";
import type * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { createDaemon, type Daemon } from "../../src/daemon/index.js";
import {
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "../daemon/helpers/terraform.js";
import { FakeCoderdDrpc, type FakeJob } from "./fake-coderd-drpc.js";

const PSK = "psk-0123456789-abcdefghij";
const LONG = 240_000;
const BUILD_ID = "0b5a5f5e-1111-4222-8333-944445555666";

describe("Coder v2 example templates through a v2 coderd", () => {
  let scratch: TerraformScratch;
  let fake: FakeCoderdDrpc;
  let daemon: Daemon;

  beforeAll(async () => {
    scratch = await terraformScratch();
    fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
    const coderUrl = new URL(fake.url.href.replace(/^ws/, "http"));
    daemon = createDaemon({
      coderUrl: coderUrl.href,
      connect: coderdV2({
        coderUrl,
        credential: { kind: "psk", psk: PSK },
        tags: {},
        name: "daemon-under-test",
        buildVersion: "v0.0.0-test",
      }),
      daemonId: "5d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
      provisioners: [scratch.provisioner],
      pollIntervalMs: 1,
      pollJitterMs: 0,
      heartbeatIntervalMs: 250,
    });
    await daemon.start();
  });
  afterAll(async () => {
    await daemon?.close();
    await fake?.close();
    await scratch?.cleanup();
  });
  afterEach(() => expect(fake.violations).toEqual([]));

  async function run(job: Record<string, unknown>): Promise<v2.CompletedJob["type"]> {
    const queued: FakeJob = fake.enqueue({ provisioner: "terraform", userName: "admin", ...job });
    await vi.waitFor(() => expect(queued.state).toMatch(/completed|failed/), {
      timeout: LONG,
      interval: 50,
    });
    expect(queued.failure).toBeUndefined();
    return (queued.terminal as v2.CompletedJob).type;
  }

  function importOf(name: string) {
    return run({
      templateSourceArchive: templateTar(name),
      type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
    });
  }

  /** Starts, stops and deletes; returns the start build's resources. */
  async function lifecycle(name: string): Promise<sdk.Resource[]> {
    let state = Buffer.alloc(0);
    let started: sdk.Resource[] = [];
    for (const workspaceTransition of [0, 1, 2]) {
      const result = await run({
        templateSourceArchive: templateTar(name),
        type: {
          $case: "workspaceBuild",
          value: {
            workspaceBuildId: BUILD_ID,
            workspaceName: "ws",
            state,
            metadata: {
              coderUrl: "http://coder",
              workspaceTransition,
              workspaceName: "ws",
              workspaceOwner: "ada",
              workspaceOwnerEmail: "ada@example.com",
              workspaceId: "1b5a5f5e-1111-4222-8333-944445555666",
              workspaceOwnerId: "2b5a5f5e-1111-4222-8333-944445555666",
            },
          },
        },
      });
      if (result?.$case !== "workspaceBuild") throw new Error(`transition ${workspaceTransition}`);
      if (workspaceTransition === 0) started = result.value.resources;
      if (workspaceTransition === 1) {
        expect(result.value.resources.map((r) => r.type)).not.toContain("terraform_data");
      }
      state = Buffer.from(result.value.state);
    }
    expect(JSON.parse(state.toString("utf8")).resources).toEqual([]);
    return started;
  }

  it("v2-workspace: the agent arrives with scripts, env, metadata, apps and a devcontainer", {
    timeout: LONG * 2,
  }, async () => {
    const imported = await importOf("v2-workspace");
    expect(imported?.$case).toBe("templateImport");
    if (imported?.$case !== "templateImport") return;
    const importedAgents = imported.value.startResources.flatMap((r) => r.agents);
    expect(importedAgents.map((a) => a.name)).toEqual(["main"]);
    expect(imported.value.stopResources.flatMap((r) => r.agents)).toEqual([]);

    const resources = await lifecycle("v2-workspace");
    const dev = resources.find((r) => r.name === "dev");
    expect(dev?.type).toBe("terraform_data");
    expect(dev?.metadata.map((m) => [m.key, m.value])).toEqual([["owner", "ada"]]);
    const agent = dev?.agents[0];
    expect(agent).toMatchObject({
      name: "main",
      directory: "/home/coder",
      order: 1,
      apiKeyScope: "no_user_data",
      env: { OWNER_EMAIL: "ada@example.com" },
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
    });
    expect(agent?.metadata.map((m) => [m.key, m.interval, m.timeout, m.order])).toEqual([
      ["cpu", 10, 1, 1],
      ["disk", 60, 5, 2],
    ]);
    const scripts = [...(agent?.scripts ?? [])].sort((a, b) =>
      a.displayName.localeCompare(b.displayName),
    );
    expect(
      scripts.map((s) => [s.displayName, s.runOnStart, s.runOnStop, s.cron, s.startBlocksLogin]),
    ).toEqual([
      ["Bootstrap", true, false, "", true],
      ["Install code-server", true, false, "", false],
      ["Nightly backup", false, false, "0 0 22 * * *", false],
      ["Save state", false, true, "", false],
    ]);
    expect(scripts[0]?.timeoutSeconds).toBe(300);
    expect(scripts[2]?.logPath).toBe("backup.log");
    const envs = [...(agent?.extraEnvs ?? [])].sort((a, b) => a.name.localeCompare(b.name));
    expect(envs.map((e) => [e.name, e.value])).toEqual([
      ["API_TOKEN", "s3cr3t-token"],
      ["CODE_SERVER_PORT", "13337"],
      ["EDITOR", "vim"],
    ]);
    expect(agent?.devcontainers.map((d) => [d.name, d.workspaceFolder, d.configPath])).toEqual([
      ["project", "/home/coder/project", "/home/coder/project/.devcontainer/devcontainer.json"],
    ]);
    const apps = [...(agent?.apps ?? [])].sort((a, b) => a.slug.localeCompare(b.slug));
    expect(apps.map((a) => [a.slug, a.group, a.order, a.hidden, a.openIn, a.tooltip])).toEqual([
      ["code-server", "Editors", 0, false, 1, ""],
      ["docs", "Web", 2, false, 2, "Project **documentation**"],
      ["grafana", "Web", 1, false, 1, ""],
      ["logs", "", 0, true, 1, ""],
    ]);
    expect(apps.every((a) => /^[0-9a-f-]{36}$/.test(a.id))).toBe(true);
    const tools = resources.find((r) => r.type === "coder_env" && r.name === "port");
    expect(tools?.modulePath).toBe("module.tools");
  });

  it("v2-presets: the import carries the 2.x parameters and external auth; the workspace builds", {
    timeout: LONG * 2,
  }, async () => {
    const imported = await importOf("v2-presets");
    if (imported?.$case !== "templateImport") throw new Error("not an import result");
    const parameters = Object.fromEntries(imported.value.richParameters.map((p) => [p.name, p]));
    expect(parameters.region).toMatchObject({
      displayName: "Region",
      order: 1,
      formType: 2, // RADIO
      defaultValue: "eu",
      required: false,
    });
    expect(parameters.region?.options.map((o) => o.value)).toEqual(["eu", "us"]);
    expect(parameters.cpus).toMatchObject({
      formType: 6, // SLIDER
      validationMin: 1,
      validationMax: 8,
      validationError: "between {min} and {max} CPUs, got {value}",
      mutable: true,
    });
    expect(parameters.reset_home).toMatchObject({ ephemeral: true, formType: 8 }); // SWITCH
    expect(imported.value.externalAuthProviders.map((p) => p.id).sort()).toEqual([
      "github",
      "gitlab",
    ]);

    const resources = await lifecycle("v2-presets");
    const agent = resources.find((r) => r.name === "machine")?.agents[0];
    expect(agent?.env).toEqual({ REGION: "eu", CPUS: "2" });
    expect(agent?.scripts.map((s) => [s.displayName, s.script, s.runOnStart])).toEqual([
      ["Startup Script", "echo ready", true],
    ]);
  });
});
