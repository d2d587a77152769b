// Several agents: per-agent ids, tokens and init scripts (per OS, architecture and auth), and
// coder_agent_instance.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CODER_ENV,
  graphEdges,
  initializedTemplate,
  UUID,
  valuesByAddress,
  type Workdir,
} from "./terraform.js";

describe("multi-agent template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("multi-agent", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("graphs each machine depending on its agents", async () => {
    await wd.ok(["plan", "-input=false", "-no-color", "-out=plan.tfplan"]);
    const plan = await wd.showJson("plan.tfplan");
    expect(plan.resource_changes?.map((c) => c.address).sort()).toEqual([
      "coder_agent.dev",
      "coder_agent.gpu",
      "coder_agent.sidecar",
      "coder_agent.windows",
      "coder_agent_instance.gpu[0]",
      "coder_app.dev_terminal",
      "coder_app.windows_rdp",
      "terraform_data.gpu[0]",
      "terraform_data.pod[0]",
      "terraform_data.windows[0]",
    ]);
    const edges = graphEdges(await wd.ok(["graph"]));
    expect(edges).toContainEqual(["terraform_data.pod", "coder_agent.dev"]);
    expect(edges).toContainEqual(["terraform_data.pod", "coder_agent.sidecar"]);
    expect(edges).toContainEqual(["terraform_data.windows", "coder_agent.windows"]);
    expect(edges).toContainEqual(["coder_agent_instance.gpu", "terraform_data.gpu"]);
    // Terraform reduces graphs transitively: coder_agent_instance.gpu -> coder_agent.gpu is
    // implied by the path through terraform_data.gpu.
    expect(edges).toContainEqual(["terraform_data.gpu", "coder_agent.gpu"]);
  });

  it("gives every agent its own id, token and init script", async () => {
    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan"]);
    const values = valuesByAddress((await wd.showJson()).values?.root_module);
    const agents = ["dev", "sidecar", "windows", "gpu"].map(
      (n) => values[`coder_agent.${n}`] ?? {},
    );
    const ids = agents.map((a) => a.id);
    const tokens = agents.map((a) => a.token);
    for (const value of [...ids, ...tokens]) expect(value).toMatch(UUID);
    expect(new Set([...ids, ...tokens]).size).toBe(8);

    const url = "https://coder.example.com:8443/";
    expect(agents.map((a) => a.init_script)).toEqual([
      `linux amd64 ${url}bin/coder-linux-amd64 auth=token`,
      `linux amd64 ${url}bin/coder-linux-amd64 auth=token`,
      `windows amd64 ${url}bin/coder-windows-amd64.exe auth=token`,
      `linux arm64 ${url}bin/coder-linux-arm64 auth=aws-instance-identity`,
    ]);
    expect(values["coder_agent.sidecar"]?.dir).toBe("/srv");
    expect(values["coder_agent.gpu"]?.auth).toBe("aws-instance-identity");
  });

  it("links the instance-identity agent to its machine", async () => {
    const values = valuesByAddress((await wd.showJson()).values?.root_module);
    expect(values["coder_agent_instance.gpu[0]"]).toMatchObject({
      agent_id: values["coder_agent.gpu"]?.id,
      instance_id: values["terraform_data.gpu[0]"]?.id,
    });
    expect(values["coder_agent_instance.gpu[0]"]?.id).toMatch(UUID);
    expect(values["coder_app.windows_rdp"]?.agent_id).toBe(values["coder_agent.windows"]?.id);
    expect(values["coder_app.dev_terminal"]?.agent_id).toBe(values["coder_agent.dev"]?.id);
  });

  it("destroys", async () => {
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"]);
    expect((await wd.showJson()).values?.root_module.resources ?? []).toEqual([]);
  });
});
