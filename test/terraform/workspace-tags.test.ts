// Workspace tags of `coder_workspace_tags`: the expressions as written (what coderd stores),
// their values with the defaults, and one error naming file and tag for what coderd could not
// evaluate.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readWorkspaceTags, WorkspaceTagError } from "../../src/terraform/workspace-tags.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function template(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "workspace-tags-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const defaults = (entries: Record<string, string> = {}) => new Map(Object.entries(entries));

describe("workspace tags", () => {
  it("reads literals, variables and parameters with their defaults, expressions kept verbatim", async () => {
    const dir = template({
      "main.tf": `
variable "region" {
  default = "eu"
}
data "coder_parameter" "arch" {
  name    = "arch"
  default = "arm64"
}
data "coder_parameter" "size" {
  name = "size"
}
data "coder_workspace_tags" "custom" {
  tags = {
    "cluster" = "dev"
    region    = var.region
    arch      = data.coder_parameter.arch.value
    "size"    = data.coder_parameter.size.value
    zone      = "\${var.region}-1"
    gpu       = true
    count     = 2
    pick      = var.region == "eu" ? "near" : "far"
  }
}
`,
    });
    const tags = await readWorkspaceTags(dir, defaults({ region: "eu" }));
    expect(tags.map((t) => [t.key, t.expression, t.defaultValue])).toEqual([
      ["cluster", '"dev"', "dev"],
      ["region", "var.region", "eu"],
      ["arch", "data.coder_parameter.arch.value", "arm64"],
      ["size", "data.coder_parameter.size.value", ""],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template, on purpose
      ["zone", '"${var.region}-1"', "eu-1"],
      ["gpu", "true", "true"],
      ["count", "2", "2"],
      ["pick", 'var.region == "eu" ? "near" : "far"', "near"],
    ]);
    expect(tags.map((t) => `${t.file}:${t.line}`)).toEqual(
      [14, 15, 16, 17, 18, 19, 20, 21].map((line) => `main.tf:${line}`),
    );
  });

  it("evaluates a parameter default that refers to a variable", async () => {
    const dir = template({
      "a.tf": `data "coder_workspace_tags" "t" {\n  tags = { pool = data.coder_parameter.p.value }\n}\n`,
      "b.tf": `data "coder_parameter" "p" {\n  name = "p"\n  default = "\${var.base}-pool"\n}\n`,
    });
    const tags = await readWorkspaceTags(dir, defaults({ base: "gpu" }));
    expect(tags.map((t) => [t.key, t.defaultValue])).toEqual([["pool", "gpu-pool"]]);
  });

  it("leaves function calls to coderd: expression reported, no default value", async () => {
    const dir = template({
      "main.tf": `data "coder_workspace_tags" "t" {\n  tags = { os = lower(var.os) }\n}\n`,
    });
    const tags = await readWorkspaceTags(dir, defaults({ os: "Linux" }));
    expect(tags).toEqual([
      { key: "os", expression: "lower(var.os)", defaultValue: undefined, file: "main.tf", line: 2 },
    ]);
  });

  it("is empty for a template without workspace tags", async () => {
    const dir = template({ "main.tf": `variable "x" {\n  default = 1\n}\n` });
    expect(await readWorkspaceTags(dir, defaults({ x: "1" }))).toEqual([]);
  });

  it.each([
    [
      "another data source",
      `tags = { a = data.coder_workspace_owner.me.name }`,
      /^main\.tf:2: workspace tag "a" = data\.coder_workspace_owner\.me\.name: only the "coder_parameter" data source may be referred to here, not "data\.coder_workspace_owner\.me"$/,
    ],
    [
      "a local value",
      `tags = { a = local.zone }`,
      /^main\.tf:2: workspace tag "a" = local\.zone: only variables \(var\.<name>\) and parameters \(data\.coder_parameter\.<name>\.value\) may be referred to here, not "local"$/,
    ],
    [
      "an undeclared variable",
      `tags = { a = var.nope }`,
      /^main\.tf:2: workspace tag "a" = var\.nope: .*nope/,
    ],
    [
      "an undeclared parameter",
      `tags = { a = data.coder_parameter.nope.value }`,
      /^main\.tf:2: workspace tag "a" = data\.coder_parameter\.nope\.value: there is no data "coder_parameter" "nope" in the template$/,
    ],
    [
      "a list value",
      `tags = { a = ["x"] }`,
      /^main\.tf:2: workspace tag "a" = \["x"\]: a workspace tag must be a string, number or bool, not a tuple$/,
    ],
    [
      "a key given twice",
      `tags = { a = "1", "a" = "2" }`,
      /^main\.tf:2: workspace tag "a" is defined multiple times$/,
    ],
    [
      "tags that are not a map",
      `tags = var.tags`,
      /^main\.tf:1: data "coder_workspace_tags" "t": "tags" must be a map written as \{ key = value, \.\.\. \}$/,
    ],
  ])("refuses %s with one error naming file and tag", async (_, body, message) => {
    const dir = template({ "main.tf": `data "coder_workspace_tags" "t" {\n  ${body}\n}\n` });
    const failure = readWorkspaceTags(dir, defaults({ tags: "" }));
    await expect(failure).rejects.toBeInstanceOf(WorkspaceTagError);
    await expect(failure).rejects.toThrow(message);
  });

  it("refuses a block without tags", async () => {
    const dir = template({ "main.tf": `data "coder_workspace_tags" "t" {\n}\n` });
    await expect(readWorkspaceTags(dir, defaults())).rejects.toThrow(
      'main.tf:1: data "coder_workspace_tags" "t": the "tags" attribute is required',
    );
  });

  it("refuses a tag key declared in two blocks", async () => {
    const dir = template({
      "a.tf": `data "coder_workspace_tags" "one" {\n  tags = { pool = "a" }\n}\n`,
      "b.tf": `data "coder_workspace_tags" "two" {\n  tags = { pool = "b" }\n}\n`,
    });
    await expect(readWorkspaceTags(dir, defaults())).rejects.toThrow(
      'b.tf:2: workspace tag "pool" is defined multiple times',
    );
  });
});
