// data "coder_parameter": values from defaults and CODER_PARAMETER_<sha256>, and the plan-time
// errors of the real provider (validation block, options, schema rules).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parameterEnvironmentVariable as envFor } from "../fixtures/coder-provider/src/parameter.js";
import {
  CODER_ENV,
  diagnostics,
  graphEdges,
  initializedTemplate,
  inlineWorkdir,
  resourceAt,
  UUID,
  type Workdir,
} from "./terraform.js";

describe("rich-parameters template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("rich-parameters", CODER_ENV);
  });
  afterAll(() => wd?.dispose());

  it("evaluates every parameter to its default", async () => {
    await wd.ok(["plan", "-input=false", "-no-color", "-out=plan.tfplan"]);
    const plan = await wd.showJson("plan.tfplan");
    expect(plan.planned_values?.outputs?.parameters?.value).toEqual({
      region: "eu-west",
      cpu: "2",
      disk: "10",
      dotfiles: "https://github.com/example/dotfiles",
      docker: "false",
      project: "",
    });
  });

  it("stores the parameter definitions as the provider reads them", async () => {
    const plan = await wd.showJson("plan.tfplan");
    const root = plan.prior_state?.values?.root_module;
    const region = resourceAt(root, "data.coder_parameter.region").values;
    expect(region).toMatchObject({
      name: "Region",
      description: "Where the workspace runs.",
      type: "string",
      mutable: false,
      default: "eu-west",
      icon: "/emojis/1f30e.png",
      value: "eu-west",
      validation: null,
      option: [
        {
          name: "Europe (west)",
          value: "eu-west",
          description: "",
          icon: "/emojis/1f1ea-1f1fa.png",
        },
        { name: "US (east)", value: "us-east", description: "Virginia", icon: "" },
        { name: "Asia (south)", value: "ap-south", description: "", icon: "" },
      ],
    });
    expect(region.id).toMatch(UUID);
    expect(resourceAt(root, "data.coder_parameter.disk").values).toMatchObject({
      type: "number",
      mutable: true,
      option: null,
      validation: [{ min: 10, max: 100, monotonic: "increasing", regex: "", error: "" }],
    });
    expect(resourceAt(root, "data.coder_parameter.project").values).toMatchObject({
      default: null,
      value: "",
      type: "string",
    });
  });

  it("graphs resources depending on the parameters they use", async () => {
    const edges = graphEdges(await wd.ok(["graph"]));
    expect(edges).toContainEqual(["terraform_data.vm", "data.coder_parameter.cpu"]);
    expect(edges).toContainEqual(["coder_agent.main", "data.coder_parameter.region"]);
  });

  it("takes values from CODER_PARAMETER_<sha256 of name> and applies them", async () => {
    const values = {
      [envFor("Region")]: "us-east",
      [envFor("CPU cores")]: "4",
      [envFor("Disk size")]: "20",
      [envFor("Dotfiles URL")]: "https://gitlab.com/me/dotfiles",
      [envFor("Enable Docker")]: "true",
      [envFor("Project")]: "demo",
    };
    await wd.ok(["apply", "-input=false", "-no-color", "-auto-approve"], values);
    const state = await wd.showJson();
    expect(state.values?.outputs?.parameters?.value).toEqual({
      region: "us-east",
      cpu: "4",
      disk: "20",
      dotfiles: "https://gitlab.com/me/dotfiles",
      docker: "true",
      project: "demo",
    });
    expect(
      resourceAt(state.values?.root_module, "terraform_data.vm[0]").values.input,
    ).toMatchObject({
      region: "us-east",
      cpu: 4,
      disk_gb: 20,
      docker: true,
    });
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"], values);
  });

  it.each([
    ["CPU cores", "12", "data.coder_parameter.cpu", "value 12 is more than the maximum 8"],
    ["CPU cores", "0", "data.coder_parameter.cpu", "value 0 is less than the minimum 1"],
    ["CPU cores", "two", "data.coder_parameter.cpu", 'value "two" is not a number'],
    [
      "Dotfiles URL",
      "git@github.com:me/dotfiles",
      "data.coder_parameter.dotfiles",
      'The dotfiles URL must use https (value "git@github.com:me/dotfiles" does not match "^https://")',
    ],
  ])("fails the plan when %s is %j (%s)", async (name, value, address, summary) => {
    const result = await wd.run(["plan", "-input=false", "-json"], { [envFor(name)]: value });
    expect(result.exitCode).toBe(1);
    expect(diagnostics(result.stdout).filter((d) => d.severity === "error")).toEqual([
      expect.objectContaining({ summary, detail: "", address }),
    ]);
  });

  it("accepts a value outside the options (v0.6 checks options only for duplicates)", async () => {
    const result = await wd.run(["plan", "-input=false", "-no-color"], {
      [envFor("Region")]: "mars",
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('region  = "mars"');
  });
});

describe("coder_parameter configuration errors", () => {
  let wd: Workdir;
  const plan = async (body: string) => {
    await writeFile(join(wd.dir, "main.tf"), `${PREAMBLE}\n${body}\n`);
    const result = await wd.run(["plan", "-input=false", "-json"]);
    return {
      exitCode: result.exitCode,
      errors: diagnostics(result.stdout).filter((d) => d.severity === "error"),
    };
  };
  const PREAMBLE = `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "0.6.14"
    }
  }
}`;

  beforeAll(async () => {
    wd = await inlineWorkdir(PREAMBLE);
    await wd.ok(["init", "-input=false", "-no-color"]);
  });
  afterAll(() => wd?.dispose());

  it.each([
    [
      "options together with a validation block",
      `data "coder_parameter" "p" {
        name = "p"
        option {
          name  = "A"
          value = "a"
        }
        validation {
          regex = "a"
          error = "e"
        }
      }`,
      [
        ["Conflicting configuration arguments", '"option": conflicts with validation'],
        ["Conflicting configuration arguments", '"validation": conflicts with option'],
      ],
    ],
    [
      "min without max",
      `data "coder_parameter" "p" {
        name = "p"
        type = "number"
        default = "1"
        validation {
          min = 1
        }
      }`,
      [
        [
          "Missing required argument",
          '"validation.0.min": all of `validation.0.max,validation.0.min` must be specified',
        ],
      ],
    ],
    [
      "a regex with min and max",
      `data "coder_parameter" "p" {
        name = "p"
        validation {
          min   = 1
          max   = 2
          regex = "a"
          error = "e"
        }
      }`,
      [
        [
          "Conflicting configuration arguments",
          '"validation.0.regex": conflicts with validation.0.min',
        ],
      ],
    ],
    [
      "an error without a regex",
      `data "coder_parameter" "p" {
        name = "p"
        validation {
          error = "e"
        }
      }`,
      [
        [
          "Missing required argument",
          '"validation.0.error": all of `validation.0.error,validation.0.regex` must be specified',
        ],
      ],
    ],
    [
      "an unknown type",
      `data "coder_parameter" "p" {
        name = "p"
        type = "list"
      }`,
      [['expected type to be one of ["number" "string" "bool"], got list', ""]],
    ],
    [
      "duplicate option names",
      `data "coder_parameter" "p" {
        name = "p"
        option {
          name  = "A"
          value = "a"
        }
        option {
          name  = "A"
          value = "b"
        }
      }`,
      [['multiple options cannot have the same name "A"', ""]],
    ],
    [
      "a default that is not a number",
      `data "coder_parameter" "p" {
        name    = "p"
        type    = "number"
        default = "ten"
      }`,
      [['"ten" is not a number', ""]],
    ],
    [
      "min and max on a bool",
      `data "coder_parameter" "p" {
        name    = "p"
        type    = "bool"
        default = "true"
        validation {
          min = 1
          max = 2
        }
      }`,
      [["a min cannot be specified for a bool type", ""]],
    ],
    [
      "a regex without an error message",
      `data "coder_parameter" "p" {
        name    = "p"
        default = "x"
        validation {
          regex = "^x$"
        }
      }`,
      [["an error must be specified with a regex validation", ""]],
    ],
  ])("rejects %s", async (_title, body, expected) => {
    const result = await plan(body);
    expect(result.exitCode).toBe(1);
    // Terraform validates twice per plan; compare the distinct messages.
    const distinct = [
      ...new Map(result.errors.map((e) => [`${e.summary}|${e.detail}`, e])).values(),
    ];
    expect(distinct.map((e) => [e.summary, e.detail])).toEqual(expected);
  });
});
