// Apps, metadata and git auth: what the Terraform layer reads back for the dashboard.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CODER_ENV,
  diagnostics,
  graphEdges,
  initializedTemplate,
  resourceAt,
  UUID,
  valuesByAddress,
  type Workdir,
} from "./terraform.js";

describe("apps-and-metadata template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("apps-and-metadata", {
      ...CODER_ENV,
      CODER_GIT_AUTH_ACCESS_TOKEN_github: "gho_example",
    });
  });
  afterAll(() => wd?.dispose());

  it("warns that coder_app.name is deprecated and plans metadata with is_null unknown", async () => {
    const plan = await wd.ok(["plan", "-input=false", "-json", "-out=plan.tfplan"]);
    // Terraform validates twice per plan (validate walk, then plan walk), so the same warning
    // comes twice, as with the real SDK provider.
    const warnings = diagnostics(plan).filter((d) => d.severity === "warning");
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) {
      expect(warning).toMatchObject({
        summary: "Argument is deprecated",
        detail: "`name` is deprecated, use `display_name` instead",
        address: "coder_app.monitor",
        range: { filename: "main.tf" },
      });
    }
    const shown = await wd.showJson("plan.tfplan");
    const change = shown.resource_changes?.find((c) => c.address === "coder_metadata.vm[0]");
    expect(change?.change.after?.item).toEqual([
      { key: "region", value: "eu-west", sensitive: false },
      { key: "api_key", value: "squirrel", sensitive: true },
      { key: "empty", value: "", sensitive: false },
      { key: "unset", value: null, sensitive: false },
    ]);
    expect(change?.change.after_unknown).toMatchObject({
      id: true,
      resource_id: true,
      item: [{ is_null: true }, { is_null: true }, { is_null: true }, { is_null: true }],
    });
  });

  it("graphs metadata depending on the resources it describes", async () => {
    const edges = graphEdges(await wd.ok(["graph"]));
    expect(edges).toContainEqual(["coder_metadata.vm", "terraform_data.vm"]);
    expect(edges).toContainEqual(["coder_metadata.home", "terraform_data.home"]);
    expect(edges).toContainEqual(["terraform_data.vm", "coder_agent.main"]);
    expect(edges).toContainEqual(["coder_app.code_server", "coder_agent.main"]);
  });

  it("applies apps with their defaults and health check", async () => {
    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan"]);
    const values = valuesByAddress((await wd.showJson()).values?.root_module);
    const agentId = values["coder_agent.main"]?.id;
    expect(agentId).toMatch(UUID);
    expect(values["coder_app.code_server"]).toMatchObject({
      agent_id: agentId,
      slug: "code-server",
      display_name: "VS Code Web",
      url: "http://localhost:13337/?folder=/home/coder",
      icon: "/icon/code.svg",
      share: "owner",
      subdomain: false,
      external: false,
      command: null,
      name: null,
      healthcheck: [{ url: "http://localhost:13337/healthz", interval: 5, threshold: 6 }],
    });
    expect(values["coder_app.code_server"]?.id).toMatch(UUID);
    expect(values["coder_app.monitor"]).toMatchObject({
      slug: "monitor",
      name: "Resource monitor",
      display_name: null,
      command: "btop",
      share: "owner",
      healthcheck: [],
    });
    expect(values["coder_app.preview"]).toMatchObject({ share: "authenticated", subdomain: true });
    expect(values["coder_app.docs"]).toMatchObject({
      external: true,
      url: "https://coder.com/docs",
    });
  });

  it("applies metadata: is_null set, null values stored empty, daily cost and hide kept", async () => {
    const state = await wd.showJson();
    const values = valuesByAddress(state.values?.root_module);
    expect(values["coder_metadata.vm[0]"]).toMatchObject({
      resource_id: values["terraform_data.vm[0]"]?.id,
      daily_cost: 29,
      hide: null,
      icon: "/icon/memory.svg",
      item: [
        { key: "region", value: "eu-west", sensitive: false, is_null: false },
        { key: "api_key", value: "squirrel", sensitive: true, is_null: false },
        { key: "empty", value: "", sensitive: false, is_null: false },
        { key: "unset", value: "", sensitive: false, is_null: true },
      ],
    });
    expect(values["coder_metadata.home"]).toMatchObject({
      resource_id: values["terraform_data.home"]?.id,
      hide: true,
      daily_cost: null,
      item: [{ key: "size", value: "10 GiB", sensitive: false, is_null: false }],
    });
  });

  it("reads the git auth token and the agent's other settings", async () => {
    const state = await wd.showJson();
    const gitAuth = resourceAt(state.values?.root_module, "data.coder_git_auth.github");
    expect(gitAuth.values).toEqual({ id: "github", access_token: "gho_example" });
    const agent = resourceAt(state.values?.root_module, "coder_agent.main");
    expect(agent.values).toMatchObject({
      env: { GITHUB_TOKEN: "gho_example" },
      motd_file: "/etc/motd",
      connection_timeout: 300,
      login_before_ready: false,
      startup_script_timeout: 180,
      init_script: "linux amd64 https://coder.example.com:8443/bin/coder-linux-amd64 auth=token",
    });
  });

  it("only updates the machine on the next plan (new agent token), then destroys", async () => {
    await wd.ok(["plan", "-input=false", "-no-color", "-out=again.tfplan"]);
    const plan = await wd.showJson("again.tfplan");
    const changed = (plan.resource_changes ?? [])
      .filter((c) => !c.change.actions.includes("no-op") && !c.change.actions.includes("read"))
      .map((c) => [c.address, c.change.actions]);
    expect(changed).toEqual([["terraform_data.vm[0]", ["update"]]]);
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"]);
    expect((await wd.showJson()).values?.root_module.resources ?? []).toEqual([]);
  });
});
