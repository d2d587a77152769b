// End to end with real Terraform and the test coder provider: import the example templates,
// resolve values the way coderd does, run plan + apply, and prove the values reached Terraform
// (they are in the state) while the sensitive ones appear in no log line.
import { rm } from "node:fs/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertNoMissingParameters,
  computeParameterValues,
  MissingParametersError,
  parseTemplate,
  RequiredTemplateVariablesError,
  RichParameterValidationError,
  resolveRichParameterValues,
  resolveTemplateVariables,
  type TerraformInputs,
  templateVariableValues,
  toParameterValues,
  toTerraformInputs,
} from "../../src/parameters/index.js";
import { RichParameterValue, VariableValue } from "../../src/provisioner/model.js";
import { graphArgs } from "../../src/terraform/binary.js";
import { convertResources } from "../../src/terraform/convert/resources.js";
import { parsePlanJson, planModules } from "../../src/terraform/terraform-json.js";
import { copyTemplate, getOfflineTerraform } from "../helpers/offline-terraform.js";

interface TerraformRun {
  /** Every line terraform printed on stdout or stderr, across all commands. */
  logLines: string[];
  state: StateJson;
}

interface StateJson {
  values?: {
    outputs?: Record<string, { value: unknown }>;
    root_module?: { resources?: { address: string; values: Record<string, unknown> }[] };
  };
}

let terraformEnv: Record<string, string>;
const workDirs: string[] = [];

beforeAll(async () => {
  const offline = await getOfflineTerraform();
  terraformEnv = {
    ...offline.env,
    CODER_WORKSPACE_TRANSITION: "start",
    CODER_AGENT_URL: "http://coder.test",
  };
});

afterAll(async () => {
  await Promise.all(workDirs.map((d) => rm(d, { recursive: true, force: true })));
});

function template(name: string): string {
  const dir = copyTemplate(name);
  workDirs.push(dir);
  return dir;
}

async function terraform(
  dir: string,
  args: string[],
  env: Record<string, string>,
  logLines: string[],
): Promise<string> {
  const result = await execa("terraform", args, {
    cwd: dir,
    env: { ...process.env, ...terraformEnv, ...env },
    extendEnv: false,
    reject: false,
    all: true,
  });
  logLines.push(...(result.all ?? "").split("\n"));
  if (result.exitCode !== 0) {
    throw new Error(`terraform ${args[0]} failed:\n${result.all ?? ""}`);
  }
  return result.stdout;
}

async function init(dir: string, logLines: string[]): Promise<void> {
  await terraform(dir, ["init", "-input=false", "-no-color"], {}, logLines);
}

/** plan -out + apply of that plan, as the provisioner does; values only go to the plan. */
async function planAndApply(dir: string, inputs: TerraformInputs): Promise<TerraformRun> {
  const logLines: string[] = [];
  await init(dir, logLines);
  const vars = inputs.vars.flatMap((v) => ["-var", v]);
  await terraform(
    dir,
    ["plan", "-input=false", "-no-color", "-out=plan.tfplan", ...vars],
    inputs.env,
    logLines,
  );
  await terraform(dir, ["apply", "-input=false", "-no-color", "plan.tfplan"], {}, logLines);
  const state = JSON.parse(await terraform(dir, ["show", "-json"], {}, [])) as StateJson;
  return { logLines, state };
}

function resourceValues(state: StateJson, address: string): Record<string, unknown> {
  const resource = state.values?.root_module?.resources?.find((r) => r.address === address);
  if (!resource) throw new Error(`no ${address} in the state`);
  return resource.values;
}

describe("legacy-variables template, end to end", () => {
  it("resolves schemas, values and the sensitive one reach terraform, never a log line", async () => {
    const dir = template("legacy-variables");
    const { parameterSchemas, templateVariables } = await parseTemplate(dir);
    expect(templateVariables).toEqual([]);
    expect(parameterSchemas.map((s) => s.name)).toEqual([
      "region",
      "disk_gb",
      "features",
      "api_token",
    ]);
    expect(parameterSchemas[0]?.validationContains).toEqual(["ap-south", "eu-west", "us-east"]);

    // Import without a value for the variable that has no default: coderd asks for it.
    const firstTry = computeParameterValues({ schemas: parameterSchemas });
    expect(() => assertNoMissingParameters(parameterSchemas, firstTry)).toThrow(
      new MissingParametersError(["api_token"]),
    );

    const secret = "tok-9c1f4e27-very-secret";
    const computed = computeParameterValues({
      schemas: parameterSchemas,
      importJobValues: [{ name: "api_token", sourceValue: secret }],
      templateValues: [{ name: "region", sourceValue: "us-east" }],
      // a workspace may override a normal variable but not the sensitive one
      workspaceValues: [
        { name: "disk_gb", sourceValue: "42" },
        { name: "api_token", sourceValue: "workspace-cannot-override" },
      ],
    });
    assertNoMissingParameters(parameterSchemas, computed);
    const inputs = toTerraformInputs({ parameterValues: toParameterValues(computed) });
    expect(inputs.secrets).toEqual([{ label: 'parameter "api_token"', value: secret }]);

    const { logLines, state } = await planAndApply(dir, inputs);
    expect(resourceValues(state, "terraform_data.vm[0]").input).toEqual({
      region: "us-east",
      disk_gb: 42,
      features: ["git"],
      api_token: secret,
      token: expect.any(String),
    });
    expect(logLines.some((l) => l.includes("Apply complete!"))).toBe(true);
    expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
  });

  it("lets terraform enforce the validation condition it was parsed from", async () => {
    const dir = template("legacy-variables");
    const { parameterSchemas } = await parseTemplate(dir);
    const computed = computeParameterValues({
      schemas: parameterSchemas,
      importJobValues: [
        { name: "api_token", sourceValue: "x" },
        { name: "region", sourceValue: "mars" },
      ],
    });
    const inputs = toTerraformInputs({ parameterValues: toParameterValues(computed) });
    await expect(planAndApply(dir, inputs)).rejects.toThrow(/Unsupported region\./);
  });
});

describe("rich-parameters template, end to end", () => {
  /** The template import's START plan: no values, so every parameter shows its default. */
  async function importParameters(dir: string) {
    const logLines: string[] = [];
    await init(dir, logLines);
    await terraform(dir, ["plan", "-input=false", "-no-color", "-out=import.tfplan"], {}, logLines);
    const plan = parsePlanJson(await terraform(dir, ["show", "-json", "import.tfplan"], {}, []));
    const version = JSON.parse(await terraform(dir, ["version", "-json"], {}, [])) as {
      terraform_version: string;
    };
    const dot = await terraform(dir, graphArgs(version.terraform_version), {}, []);
    return convertResources(planModules(plan), dot).parameters;
  }

  it("validates build values against the imported parameters and they reach the state", async () => {
    const dir = template("rich-parameters");
    expect(await parseTemplate(dir)).toEqual({ templateVariables: [], parameterSchemas: [] });
    const parameters = await importParameters(dir);
    expect(parameters.map((p) => p.name).sort()).toEqual([
      "CPU cores",
      "Disk size",
      "Dotfiles URL",
      "Enable Docker",
      "Project",
      "Region",
    ]);

    // Every rule the template declares, broken at once, each reported.
    let error: unknown;
    try {
      resolveRichParameterValues({
        parameters,
        values: [
          RichParameterValue.create({ name: "Region", value: "mars" }),
          RichParameterValue.create({ name: "CPU cores", value: "16" }),
          RichParameterValue.create({ name: "Dotfiles URL", value: "http://insecure" }),
          RichParameterValue.create({ name: "Enable Docker", value: "yes" }),
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RichParameterValidationError);
    expect(
      (error as RichParameterValidationError).issues.map((i) => [i.parameter, i.rule]),
    ).toEqual([
      ["Region", "options"],
      ["CPU cores", "max"],
      ["Dotfiles URL", "regex"],
      ["Enable Docker", "type"],
    ]);
    expect((error as Error).message).toContain(
      'parameter "Dotfiles URL": The dotfiles URL must use https (value "http://insecure" does not match "^https://")',
    );

    const created = resolveRichParameterValues({
      parameters,
      values: [
        RichParameterValue.create({ name: "Region", value: "us-east" }),
        RichParameterValue.create({ name: "CPU cores", value: "4" }),
        RichParameterValue.create({ name: "Disk size", value: "20" }),
        RichParameterValue.create({ name: "Enable Docker", value: "true" }),
        RichParameterValue.create({ name: "Project", value: "demo" }),
      ],
    });
    const { state } = await planAndApply(dir, toTerraformInputs({ richParameterValues: created }));
    expect(state.values?.outputs?.parameters?.value).toEqual({
      region: "us-east",
      cpu: "4",
      disk: "20",
      dotfiles: "https://github.com/example/dotfiles",
      docker: "true",
      project: "demo",
    });
    expect(resourceValues(state, "terraform_data.vm[0]").input).toMatchObject({
      region: "us-east",
      cpu: 4,
      disk_gb: 20,
      docker: true,
    });

    // The next build: the disk may only grow; a value not given is carried over.
    expect(() =>
      resolveRichParameterValues({
        parameters,
        values: [RichParameterValue.create({ name: "Disk size", value: "15" })],
        previousValues: created,
      }),
    ).toThrow(
      'parameter "Disk size": value 15 must be equal or greater than the previous value 20 (monotonic increasing)',
    );
    const next = resolveRichParameterValues({
      parameters,
      values: [RichParameterValue.create({ name: "Disk size", value: "100" })],
      previousValues: created,
    });
    const second = await planAndApply(dir, toTerraformInputs({ richParameterValues: next }));
    expect(second.state.values?.outputs?.parameters?.value).toMatchObject({
      region: "us-east",
      disk: "100",
      project: "demo",
    });
  });
});

describe("managed-variables template, end to end", () => {
  it("requires the variable without default, then passes all as -var; the secret is never logged", async () => {
    const dir = template("managed-variables");
    const { templateVariables, parameterSchemas } = await parseTemplate(dir);
    expect(parameterSchemas).toEqual([]);
    expect(templateVariables.map((v) => [v.name, v.defaultValue, v.required, v.sensitive])).toEqual(
      [
        ["docker_image", "ubuntu:22.04", false, false],
        ["cpu_quota", "2", false, false],
        ["registry_password", "", true, true],
      ],
    );
    expect(() => resolveTemplateVariables(templateVariables, [])).toThrow(
      new RequiredTemplateVariablesError(["registry_password"]),
    );

    const secret = "registry-pw-51d0c2";
    const resolved = resolveTemplateVariables(templateVariables, [
      VariableValue.create({ name: "registry_password", value: secret }),
      VariableValue.create({ name: "cpu_quota", value: "6" }),
    ]);
    const inputs = toTerraformInputs({ variableValues: templateVariableValues(resolved) });
    expect(inputs.secrets).toEqual([
      { label: 'template variable "registry_password"', value: secret },
    ]);
    const { state, logLines } = await planAndApply(dir, inputs);
    expect(resourceValues(state, "terraform_data.container[0]").input).toMatchObject({
      image: "ubuntu:22.04",
      cpus: 6,
      password: secret,
    });
    expect(logLines.some((l) => l.includes("Apply complete!"))).toBe(true);
    expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
  });
});
