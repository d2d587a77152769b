// The minimal template through init, plan, show, graph, apply, refresh, stop and destroy.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { goPlatform } from "../fixtures/coder-provider/src/coder.js";
import {
  actionsByAddress,
  CODER_ENV,
  graphEdges,
  initializedTemplate,
  resourceAt,
  templateWorkdir,
  UUID,
  type Workdir,
} from "./terraform.js";

describe("minimal template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("minimal", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("writes a lock file for coder/coder from the mirror", async () => {
    const lock = await readFile(join(wd.dir, ".terraform.lock.hcl"), "utf8");
    expect(lock).toContain('provider "registry.terraform.io/coder/coder"');
    expect(lock).toMatch(/version\s+= "0\.6\.14"/);
    expect(lock).toMatch(/hashes = \[\s+"h1:/);
  });

  it("plans the agent with defaults filled in and computed values unknown", async () => {
    await wd.ok(["plan", "-input=false", "-no-color", "-out=plan.tfplan"]);
    const plan = await wd.showJson("plan.tfplan");
    const agent = resourceAt(plan.planned_values?.root_module, "coder_agent.main");
    const platform = goPlatform();
    expect(agent.values).toEqual({
      arch: platform.arch,
      auth: "token",
      connection_timeout: 120,
      dir: "/home/coder",
      env: { WORKSPACE_OWNER: "alice" },
      login_before_ready: true,
      motd_file: null,
      os: platform.os,
      shutdown_script: null,
      shutdown_script_timeout: 300,
      startup_script: "echo started",
      startup_script_timeout: 300,
      troubleshooting_url: null,
    });
    const change = plan.resource_changes?.find((c) => c.address === "coder_agent.main");
    expect(change?.change.actions).toEqual(["create"]);
    expect(change?.change.after_unknown).toMatchObject({
      id: true,
      init_script: true,
      token: true,
    });
    // Data sources are read during the plan, from the environment.
    const workspace = resourceAt(plan.prior_state?.values?.root_module, "data.coder_workspace.me");
    expect(workspace.values).toEqual({
      access_port: 8443,
      access_url: "https://coder.example.com:8443/ignored/path",
      id: "7c4a8d09-ca37-4c4b-9a3d-0d5b2b9e8b1e",
      name: "dev",
      owner: "alice",
      owner_email: "alice@example.com",
      owner_id: "0b9e8d1c-3f4a-4c2b-8e5d-6a7b8c9d0e1f",
      start_count: 1,
      transition: "start",
    });
    const provisioner = resourceAt(
      plan.prior_state?.values?.root_module,
      "data.coder_provisioner.me",
    );
    expect(provisioner.values).toMatchObject(platform);
    expect(provisioner.values.id).toMatch(UUID);
  });

  it("graphs the machine depending on the agent", async () => {
    const edges = graphEdges(await wd.ok(["graph"]));
    expect(edges).toContainEqual(["terraform_data.dev", "coder_agent.main"]);
    expect(edges).toContainEqual(["coder_agent.main", "data.coder_workspace.me"]);
    const detailed = await wd.ok(["graph", "-type=plan"]);
    expect(detailed).toContain(
      '"[root] terraform_data.dev (expand)" -> "[root] coder_agent.main (expand)"',
    );
  });

  it("applies: UUID id and token, the init script with access URL and auth filled in", async () => {
    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan"]);
    const state = await wd.showJson();
    const agent = resourceAt(state.values?.root_module, "coder_agent.main");
    expect(agent.values.id).toMatch(UUID);
    expect(agent.values.token).toMatch(UUID);
    expect(agent.values.token).not.toBe(agent.values.id);
    expect(agent.sensitive_values).toMatchObject({ token: true });
    const platform = goPlatform();
    const script = CODER_ENV[`CODER_AGENT_SCRIPT_${platform.os}_${platform.arch}`];
    expect(agent.values.init_script).toBe(
      script === undefined
        ? ""
        : `${platform.os} ${platform.arch} https://coder.example.com:8443/bin/coder-${platform.os}-${platform.arch} auth=token`,
    );
    const machine = resourceAt(state.values?.root_module, "terraform_data.dev[0]");
    expect(machine.values.input).toMatchObject({
      init_script: agent.values.init_script,
      token: agent.values.token,
      name: "dev",
    });
  });

  it("issues a new agent token on refresh, as the real provider does", async () => {
    const before = resourceAt((await wd.showJson()).values?.root_module, "coder_agent.main");
    await wd.ok(["plan", "-input=false", "-no-color", "-out=again.tfplan"]);
    const plan = await wd.showJson("again.tfplan");
    const refreshed = resourceAt(plan.prior_state?.values?.root_module, "coder_agent.main");
    expect(refreshed.values.id).toBe(before.values.id);
    expect(refreshed.values.token).toMatch(UUID);
    expect(refreshed.values.token).not.toBe(before.values.token);
    const actions = actionsByAddress(plan);
    // The agent stays; the machine consuming its token is updated in place.
    expect(actions).toEqual({ "coder_agent.main": ["no-op"], "terraform_data.dev[0]": ["update"] });
  });

  it("replaces the agent when its arguments change", async () => {
    const changed = await wd.run(["plan", "-input=false", "-no-color", "-detailed-exitcode"], {
      CODER_WORKSPACE_OWNER: "bob",
    });
    expect(changed.exitCode).toBe(2);
    expect(changed.stdout).toContain("# coder_agent.main must be replaced");
    expect(changed.stdout).toMatch(/env\s+= \{ # forces replacement/);
  });

  it("plans the machine away on a stop transition", async () => {
    await wd.ok(["plan", "-input=false", "-no-color", "-out=stop.tfplan"], {
      CODER_WORKSPACE_TRANSITION: "stop",
    });
    const plan = await wd.showJson("stop.tfplan");
    const actions = actionsByAddress(plan);
    expect(actions).toEqual({ "coder_agent.main": ["no-op"], "terraform_data.dev[0]": ["delete"] });
  });

  it("destroys everything", async () => {
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"]);
    const state = await wd.showJson();
    expect(state.values?.root_module.resources ?? []).toEqual([]);
  });
});

describe("without the daemon's environment", () => {
  it("falls back to the provider's defaults", async () => {
    const wd = await templateWorkdir("minimal");
    try {
      await wd.ok(["init", "-input=false", "-no-color"]);
      await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve"], {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the bootstrap script's placeholder
        [`CODER_AGENT_SCRIPT_${goPlatform().os}_${goPlatform().arch}`]: "fetch ${ACCESS_URL}",
      });
      const state = await wd.showJson();
      const workspace = resourceAt(state.values?.root_module, "data.coder_workspace.me");
      expect(workspace.values).toMatchObject({
        access_url: "https://mydeployment.coder.com",
        access_port: 443,
        name: "default",
        owner: "default",
        owner_email: "default@example.com",
        owner_id: "00000000-0000-0000-0000-000000000000",
        transition: "start",
        start_count: 1,
      });
      expect(workspace.values.id).toMatch(UUID);
      const agent = resourceAt(state.values?.root_module, "coder_agent.main");
      expect(agent.values.init_script).toBe("fetch https://mydeployment.coder.com/");
    } finally {
      wd.dispose();
    }
  });
});
