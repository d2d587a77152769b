// Templates whose inputs are Terraform variables: legacy parameters and managed variables.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parameterEnvironmentVariable as envFor } from "../fixtures/coder-provider/src/parameter.js";
import {
  CODER_ENV,
  diagnostics,
  graphEdges,
  initializedTemplate,
  resourceAt,
  type Workdir,
} from "./terraform.js";

describe("legacy-variables template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("legacy-variables", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("needs a value for the variable without a default", async () => {
    const result = await wd.run(["plan", "-input=false", "-json"]);
    expect(result.exitCode).toBe(1);
    expect(diagnostics(result.stdout)).toEqual([
      expect.objectContaining({ severity: "error", summary: "No value for required variable" }),
    ]);
  });

  it.each([
    ["region=mars", "Unsupported region."],
    ["disk_gb=5", "The disk must be between 10 and 100 GiB."],
  ])("rejects -var %s through the variable's validation", async (assignment, message) => {
    const result = await wd.run([
      "plan",
      "-input=false",
      "-json",
      "-var=api_token=s3cret",
      `-var=${assignment}`,
    ]);
    expect(result.exitCode).toBe(1);
    const [error] = diagnostics(result.stdout);
    expect(error).toMatchObject({ severity: "error", summary: "Invalid value for variable" });
    expect(error?.detail).toContain(message);
  });

  it("plans and applies with defaults and -var values, keeping the sensitive one sensitive", async () => {
    await wd.ok([
      "plan",
      "-input=false",
      "-no-color",
      "-out=plan.tfplan",
      "-var=api_token=s3cret",
      "-var=region=us-east",
    ]);
    const plan = await wd.showJson("plan.tfplan");
    expect(plan.variables).toMatchObject({
      region: { value: "us-east" },
      disk_gb: { value: 10 },
      features: { value: ["git"] },
    });
    const graph = graphEdges(await wd.ok(["graph"]));
    expect(graph).toContainEqual(["terraform_data.vm", "coder_agent.main"]);

    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", "plan.tfplan"]);
    const state = await wd.showJson();
    const vm = resourceAt(state.values?.root_module, "terraform_data.vm[0]");
    expect(vm.values.input).toMatchObject({
      region: "us-east",
      disk_gb: 10,
      features: ["git"],
      api_token: "s3cret",
    });
    expect(vm.sensitive_values).toMatchObject({ input: { api_token: true } });
    expect(resourceAt(state.values?.root_module, "coder_agent.main").values.env).toEqual({
      REGION: "us-east",
    });
    await wd.ok([
      "apply",
      "-destroy",
      "-input=false",
      "-no-color",
      "-auto-approve",
      "-var=api_token=s3cret",
    ]);
  });
});

describe("managed-variables template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("managed-variables", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("accepts the provider's feature flag and combines variables with a rich parameter", async () => {
    const vars = ["-var=registry_password=hunter2", "-var=cpu_quota=4"];
    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve", ...vars], {
      [envFor("Repository")]: "https://github.com/example/app",
    });
    const state = await wd.showJson();
    const container = resourceAt(state.values?.root_module, "terraform_data.container[0]");
    expect(container.values.input).toMatchObject({
      image: "ubuntu:22.04",
      cpus: 4,
      password: "hunter2",
    });
    expect(resourceAt(state.values?.root_module, "coder_agent.main").values.env).toEqual({
      REPO: "https://github.com/example/app",
    });
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve", ...vars]);
  });
});
