// The template that fails at plan, after init and validate succeed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODER_ENV, diagnostics, templateWorkdir, type Workdir } from "./terraform.js";

describe("broken template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await templateWorkdir("broken", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("initializes and validates", async () => {
    await wd.ok(["init", "-input=false", "-no-color"]);
    const validate = JSON.parse(await wd.ok(["validate", "-json"])) as { valid: boolean };
    expect(validate.valid).toBe(true);
  });

  it("fails the plan with the provider's validation message on the parameter", async () => {
    const result = await wd.run(["plan", "-input=false", "-json", "-out=plan.tfplan"]);
    expect(result.exitCode).toBe(1);
    const errors = diagnostics(result.stdout).filter((d) => d.severity === "error");
    expect(errors).toEqual([
      {
        severity: "error",
        summary:
          'Use lower-case letters, digits and dashes (value "Not Valid" does not match "^[a-z][a-z0-9-]*$")',
        detail: "",
        address: "data.coder_parameter.project",
        range: expect.objectContaining({
          filename: "main.tf",
          start: expect.objectContaining({ line: 13 }),
        }),
        snippet: expect.objectContaining({ code: 'data "coder_parameter" "project" {' }),
      },
    ]);
  });

  it("refuses to apply the errored plan", async () => {
    const result = await wd.run([
      "apply",
      "-input=false",
      "-no-color",
      "-auto-approve",
      "plan.tfplan",
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Cannot apply incomplete plan");
  });
});
