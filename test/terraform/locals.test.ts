// References of local values, read from template source the way the HCL parser renders it.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: HCL templates, on purpose
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readLocalReferences, templateReferences } from "../../src/terraform/convert/locals.js";

describe("templateReferences", () => {
  it.each([
    ["${coder_agent.main.token}", ["coder_agent.main.token"]],
    ["hello ${var.x} and ${local.y}", ["var.x", "local.y"]],
    ["plain text with var.x in it", []],
    ["${upper(data.coder_workspace.me.name)}", ["data.coder_workspace.me.name"]],
    ["${[for s in var.l : s.id]}", ["var.l"]],
    ["${{for k, v in var.m : k => v.name}}", ["var.m"]],
    ['${join(",", ["a-${var.x}", module.m.out])}', ["var.x", "module.m.out"]],
    ["${aws_instance.a[0].id}", ["aws_instance.a"]],
    ["${count.index + var.n}", ["count.index", "var.n"]],
  ])("%s", (text, references) => {
    expect(templateReferences(text)).toEqual(references);
  });

  it.each([
    ["${<<EOT\nx\nEOT\n}"],
    ["%{ if var.x }a%{ endif }"],
    ["${var.x # comment\n}"],
    ["${var.x"],
  ])("gives up on what it does not read: %j", (text) => {
    expect(templateReferences(text)).toBeUndefined();
  });
});

describe("readLocalReferences", () => {
  const dir = mkdtempSync(join(tmpdir(), "locals-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the root's and each initialized module's locals; JSON syntax is not described", async () => {
    writeFileSync(
      join(dir, "main.tf"),
      'locals {\n  a = coder_agent.main.token\n  b = "x-${local.a}"\n}\nlocals {\n  c = { k = var.v }\n}\n',
    );
    mkdirSync(join(dir, "mod"));
    writeFileSync(join(dir, "mod", "main.tf"), "locals {\n  m = var.input\n}\n");
    mkdirSync(join(dir, "json"));
    writeFileSync(join(dir, "json", "main.tf.json"), '{"locals": {"j": "${var.x}"}}');
    mkdirSync(join(dir, ".terraform", "modules"), { recursive: true });
    writeFileSync(
      join(dir, ".terraform", "modules", "modules.json"),
      JSON.stringify({
        Modules: [
          { Key: "", Source: "", Dir: "." },
          { Key: "wrap", Source: "./mod", Dir: "mod" },
          { Key: "wrap.inner", Source: "../json", Dir: "json" },
        ],
      }),
    );
    const locals = await readLocalReferences(dir);
    expect(locals("")).toEqual(
      new Map([
        ["a", ["coder_agent.main.token"]],
        ["b", ["local.a"]],
        ["c", ["var.v"]],
      ]),
    );
    expect(locals("module.wrap.")).toEqual(new Map([["m", ["var.input"]]]));
    expect(locals("module.wrap.module.inner.")).toBeUndefined();
    expect(locals("module.other.")).toBeUndefined();
  });
});
