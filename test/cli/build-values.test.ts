// Values given to `provisionerd build` are checked against what the template declares before
// anything runs: a name it does not declare is an error with a hint, and every missing value is
// named in one error, whichever kind (--var, --param, --rich-param) it is.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { unknownValueProblem } from "../../src/cli/build-values.js";
import { declaredRichParameters } from "../../src/cli/declared-rich-parameters.js";
import { ensureBuilt, provisionerd, ROOT } from "./cli-binary.js";

const TIMEOUT = 180_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-values-"));
// No provider mirror: every case here must stop before terraform would need one.
const common = ["--work-dir", path.join(tmp, "work"), "--cache-dir", path.join(tmp, "cache")];

beforeAll(ensureBuilt, TIMEOUT);

function fixture(name: string): string {
  return path.join(ROOT, "test/fixtures/templates", name);
}

/** A template with a managed variable and a rich parameter, neither with a default. */
function mixedTemplate(): string {
  const dir = path.join(tmp, "mixed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "main.tf"),
    `terraform {
  required_providers {
    coder = { source = "coder/coder", version = "0.6.14" }
  }
}
provider "coder" {
  feature_use_managed_variables = true
}
variable "region" {
  type = string
}
data "coder_parameter" "project" {
  name = "Project"
}
data "coder_parameter" "size" {
  name    = "Size"
  default = "small"
}
`,
  );
  return dir;
}

function errorLines(stderr: unknown): string[] {
  return String(stderr)
    .split("\n")
    .filter((line) => line.startsWith("provisionerd build: "));
}

describe("build values are checked before anything runs", () => {
  it(
    "refuses a mistyped --var with a did-you-mean hint, exit 2",
    async () => {
      const result = await provisionerd([
        "build",
        fixture("managed-variables"),
        ...common,
        "--var",
        "registry_pasword=x",
        "--var",
        "registry_password=y",
      ]);
      expect(result.exitCode).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        "provisionerd build: --var registry_pasword: the template declares no variable of that name (did you mean --var registry_password?)",
      ]);
    },
    TIMEOUT,
  );

  it(
    "refuses a --var that is a legacy --param, and a --param on a template without any",
    async () => {
      const legacy = await provisionerd([
        "build",
        fixture("legacy-variables"),
        ...common,
        "--var",
        "api_token=x",
      ]);
      expect(legacy.exitCode).toBe(2);
      expect(errorLines(legacy.stderr)[0]).toBe(
        "provisionerd build: --var api_token: the template declares no variable of that name (did you mean --param api_token?)",
      );
      const minimal = await provisionerd([
        "build",
        fixture("minimal"),
        ...common,
        "--param",
        "region=eu",
      ]);
      expect(minimal.exitCode).toBe(2);
      expect(errorLines(minimal.stderr)).toEqual([
        "provisionerd build: --param region: the template declares no parameters at all",
      ]);
    },
    TIMEOUT,
  );

  it(
    "names a missing --var and a missing --rich-param in one error",
    async () => {
      const result = await provisionerd(["build", mixedTemplate(), ...common, "--json"]);
      expect(result.exitCode).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        "provisionerd build: missing values: --var region, --rich-param Project (give each as <flag> name=value, or run in a terminal to be asked)",
      ]);
      expect(JSON.parse(String(result.stdout)).error.missing).toEqual([
        { flag: "--var", name: "region" },
        { flag: "--rich-param", name: "Project" },
      ]);
    },
    TIMEOUT,
  );

  it(
    "refuses a mistyped --rich-param before the import",
    async () => {
      const result = await provisionerd([
        "build",
        mixedTemplate(),
        ...common,
        "--var",
        "region=eu",
        "--rich-param",
        "project=demo",
      ]);
      expect(result.exitCode).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        "provisionerd build: --rich-param project: the template declares no rich parameter of that name (did you mean --rich-param Project?)",
        "provisionerd build: missing values: --rich-param Project (give each as <flag> name=value, or run in a terminal to be asked)",
      ]);
      // Nothing ran: no stage of the import was printed.
      expect(String(result.stdout)).not.toContain("Importing template");
    },
    TIMEOUT,
  );
});

describe("unknownValueProblem", () => {
  const declared = { "--var": ["docker_image"], "--param": [], "--rich-param": ["CPU cores"] };

  it("suggests the closest spelling, whatever its case", () => {
    expect(unknownValueProblem("--rich-param", "cpu cores", declared)).toMatch(
      /\(did you mean --rich-param CPU cores\?\)$/,
    );
    expect(unknownValueProblem("--var", "docker_imgae", declared)).toMatch(
      /\(did you mean --var docker_image\?\)$/,
    );
  });

  it("gives no hint for a name far from every declared one", () => {
    expect(unknownValueProblem("--var", "zone", declared)).toBe(
      "--var zone: the template declares no variable of that name",
    );
  });
});

describe("declaredRichParameters", () => {
  it("reads names and defaults from the text; a module makes the list incomplete", async () => {
    const declared = await declaredRichParameters(fixture("rich-parameters"));
    expect(declared.complete).toBe(true);
    expect(declared.parameters.map((p) => [p.name, p.defaultValue])).toContainEqual([
      "Project",
      "",
    ]);
    expect(declared.parameters).toHaveLength(6);
    const dir = path.join(tmp, "with-module");
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "main.tf"), 'module "m" {\n  source = "./m"\n}\n');
    expect((await declaredRichParameters(dir)).complete).toBe(false);
  });
});
