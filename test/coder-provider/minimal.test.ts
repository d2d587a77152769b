import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { resourceAt, templateWorkdir, type Workdir } from "./terraform.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: the bootstrap scripts' placeholders
const env = {
  CODER_AGENT_URL: "https://coder.example.com:8443/ignored/path",
  CODER_AGENT_SCRIPT_linux_amd64:
    "curl -fsSL ${ACCESS_URL}bin/coder-linux-amd64 -o coder && CODER_AGENT_AUTH=${AUTH_TYPE} ./coder agent",
  CODER_AGENT_SCRIPT_linux_arm64: "arm64 ${ACCESS_URL} ${AUTH_TYPE}",
  CODER_WORKSPACE_TRANSITION: "start",
  CODER_WORKSPACE_NAME: "dev",
  CODER_WORKSPACE_OWNER: "alice",
  CODER_WORKSPACE_OWNER_EMAIL: "alice@example.com",
  CODER_WORKSPACE_ID: "7c4a8d09-ca37-4c4b-9a3d-0d5b2b9e8b1e",
  CODER_WORKSPACE_OWNER_ID: "0b9e8d1c-3f4a-4c2b-8e5d-6a7b8c9d0e1f",
};
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: -

describe("minimal template", () => {
  let wd: Workdir;
  afterAll(() => wd && rmSync(wd.dir, { recursive: true, force: true }));

  it("inits, plans, applies and destroys offline", async () => {
    wd = await templateWorkdir("minimal", env);
    await wd.ok(["init", "-input=false", "-no-color"]);
    await wd.ok(["plan", "-input=false", "-no-color", "-out=plan.tfplan"]);
    const plan = await wd.showJson("plan.tfplan");
    const planned = resourceAt(plan.planned_values?.root_module, "coder_agent.main");
    expect(planned.values).toMatchObject({ os: "linux", auth: "token", connection_timeout: 120 });
    expect(planned.values.id).toBeUndefined(); // unknown until apply

    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan"]);
    const state = await wd.showJson();
    const agent = resourceAt(state.values?.root_module, "coder_agent.main");
    expect(agent.values.id).toMatch(UUID);
    expect(agent.values.token).toMatch(UUID);

    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"]);
  });
});
