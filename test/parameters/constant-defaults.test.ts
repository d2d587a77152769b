// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are HCL source, where ${} is HCL syntax
// A variable's `default` may be any constant expression: Terraform evaluates it with no
// variables and no functions in scope. Every expression below was run through Terraform 1.11.4
// (a `variable "vN" { default = <expression> }` each: `terraform validate -json` names the
// ones it refuses, by the summary of its diagnostic; `terraform console` with
// `jsonencode(var.vN)` gives the others' values) and recorded here. Template parsing must give
// the same values and refuse the same expressions; the last test runs Terraform again on the
// whole table, so a recording that no longer holds fails too.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { readTemplateVariables, TemplateParseError } from "../../src/parameters/index.js";
import { makeTemplateDir, type TemplateDir } from "./template-dir.js";

type Expected = { value: unknown } | { error: string };

const TABLE: [string, Expected][] = [
  ['["x","y"][1]', { value: "y" }],
  ['["x","y"]["1"]', { value: "y" }],
  ['{a=1}["a"]', { value: 1 }],
  ["{a=1}.a", { value: 1 }],
  ['["x","y"].1', { value: "y" }],
  ["[[1,2],[3]][0][1]", { value: 2 }],
  ['["x"][1]', { error: "Invalid index" }],
  ['["x"][-1]', { error: "Invalid index" }],
  ['["x"][0.5]', { error: "Invalid index" }],
  ['{a=1}["b"]', { error: "Invalid index" }],
  ["null[0]", { error: "Attempt to index null value" }],
  ['[{n="x"},{n="y"}][*].n', { value: ["x", "y"] }],
  ['[{n="x"}].*.n', { value: ["x"] }],
  ['{n="x"}[*].n', { value: ["x"] }],
  ["null[*]", { value: [] }],
  ["[[1,2],[3,4]][*][0]", { value: [1, 3] }],
  ['[{n=["x"]}].*.n[0]', { value: ["x"] }],
  ['[{n=["x"]}][*].n[0]', { value: ["x"] }],
  ['[for s in ["a","b"] : s]', { value: ["a", "b"] }],
  ['[for i, s in ["a","b"] : "${i}${s}"]', { value: ["0a", "1b"] }],
  ["{for k, v in {a=1,b=2} : v => k}", { value: { "1": "a", "2": "b" } }],
  ['{for s in ["a","a"] : s => 1...}', { value: { a: [1, 1] } }],
  ['{for s in ["a","a"] : s => 1}', { error: "Duplicate object key" }],
  ["[for x in [1,2,3] : x if x > 1]", { value: [2, 3] }],
  ['[for s in ["a","b"] : upper(s)]', { error: "Function calls not allowed" }],
  ["[for k, v in {b=1,a=2} : k]", { value: ["a", "b"] }],
  ['[for c in "abc" : c]', { error: "Iteration over non-iterable value" }],
  ["{for k, v in {b=1,a=2} : k => v if v > 1}", { value: { a: 2 } }],
  ['"%{ if true }yes%{ endif }"', { value: "yes" }],
  ['"%{ if false }yes%{ else }no%{ endif }"', { value: "no" }],
  ['"%{ for s in ["a","b"] }${s},%{ endfor }"', { value: "a,b," }],
  ['"${ "a" ~}  b"', { value: "ab" }],
  ['"a  ${~ "b" }"', { value: "ab" }],
  ['"%{ if 1 }x%{ endif }"', { error: "Incorrect condition type" }],
  ['"%{ if "true" }x%{ endif }"', { value: "x" }],
  ['"a${true}"', { value: "atrue" }],
  ['"${true}"', { value: true }],
  ['"a${null}"', { error: "Invalid template interpolation value" }],
  ['"a${[1]}"', { error: "Invalid template interpolation value" }],
  ['"%{ for k, v in {b=1,a=2} }${k}=${v};%{ endfor }"', { value: "a=2;b=1;" }],
  ['true ? 1 : "a"', { value: "1" }],
  ['false ? "a" : 2', { value: "2" }],
  ['"true" ? 1 : 2', { value: 1 }],
  ["true ? [1] : {}", { error: "Inconsistent conditional result types" }],
  ["null ? 1 : 2", { error: "Null condition" }],
  ["true ? 1 : null", { value: 1 }],
  ['true ? {a=1} : {b="x"}', { value: { a: "1" } }],
  ["0.1 + 0.2", { value: 0.3 }],
  ['"a${0.1 * 3}"', { value: "a0.3" }],
  ['"1" + 2', { value: 3 }],
  ["7 % 3", { value: 1 }],
  ["-7 % 3", { value: -1 }],
  ["1/0", { error: "not JSON-encodable" }],
  ["2 * (3 + 4)", { value: 14 }],
  ['1 == "1"', { value: false }],
  ["[1] == [1]", { value: true }],
  ["{a=1} == {a=1}", { value: true }],
  ['true && "false"', { value: false }],
  ['!"true"', { value: false }],
  ['1 < "2"', { value: true }],
  ['"a" + 1', { error: "Invalid operand" }],
  ['"${1/3}"', { value: 0.3333333333333333 }],
  [
    '"a${1/3}"',
    {
      value:
        "a0.33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333335",
    },
  ],
  ['-"1"', { value: -1 }],
  ["0/0", { error: "Operation failed" }],
  ["1 % 0", { value: 1 }],
  [
    '"a${2/3}"',
    {
      value:
        "a0.6666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666667",
    },
  ],
  ["1.5 % 1", { value: 0.5 }],
  ["null", { value: null }],
  ['{ (1) = "x" }', { value: { "1": "x" } }],
  ['{ "a${1}" = 2 }', { value: { a1: 2 } }],
  ["{a=1, a=2}", { value: { a: 2 } }],
  ["{(true) = 1}", { value: { true: 1 } }],
  ['upper("a")', { error: "Function calls not allowed" }],
  ["var.y", { error: "Variables not allowed" }],
  ["local.x", { error: "Variables not allowed" }],
  ["x", { error: "Variables not allowed" }],
  ["{ (null) = 1 }", { error: "Null value as key" }],
  ['[1, "a", true, null]', { value: [1, "a", true, null] }],
  ["{ a = { b = [1] } }.a.b[0]", { value: 1 }],
  ['"x" == "x" ? "same" : "different"', { value: "same" }],
  ["true ? 1 : false", { error: "Inconsistent conditional result types" }],
  ['true ? [1] : ["a", "b"]', { value: ["1"] }],
  ['true ? [1, 2] : ["a"]', { value: ["1", "2"] }],
  ['true ? {a=1} : {a="x"}', { value: { a: "1" } }],
  ['[1] == ["1"]', { value: false }],
  ["true ? [1] : tolist([])", { value: [1] }],
  ['<<-EOT\n    a\n      ${"b"}\n    %{ if true }c%{ endif }\n    EOT\n', { value: "a\n  b\nc\n" }],
  [
    '<<-EOT\n  %{ for s in ["a","b"] ~}\n    ${s}\n  %{ endfor ~}\n  EOT\n',
    { value: "    a\n    b\n" },
  ],
  ["<<EOT\nx ${1}\nEOT\n", { value: "x 1\n" }],
  ['"$${a} %%{b}"', { value: "${a} %{b}" }],
  ['{for i, v in ["x","y"] : v => i}', { value: { x: 0, y: 1 } }],
  ["[for k, v in {a=1} : v][0]", { value: 1 }],
  ['"${"a"}"', { value: "a" }],
  ['"%{if true}${1}%{endif}"', { value: "1" }],
  ["1.0", { value: 1 }],
  ['"${1.0}x"', { value: "1x" }],
  ["1e3", { value: 1000 }],
  ['"a${1e3}"', { value: "a1000" }],
  ['"a${-0.5}"', { value: "a-0.5" }],
  ["0.1 * 3", { value: 0.3 }],
  ["3 / 10", { value: 0.3 }],
  ["5 - 10", { value: -5 }],
  ['{ a = 1 }["a"] + 1', { value: 2 }],
  ['"a${1e-7}"', { value: "a0.0000001" }],
  ['"a${123456789012345678901234567890}"', { value: "a123456789012345678901234567890" }],
  ["123456789012345678901234567890", { value: 1.2345678901234568e29 }],
  ["true ? 1 : var.x", { value: 1 }],
  ['true ? 1 : upper("a")', { value: 1 }],
  ["[for s in [] : upper(s)]", { value: [] }],
  ['"%{ if false }${var.x}%{ endif }"', { value: "" }],
  ["true ? 1 : [1][5]", { value: 1 }],
  ["false || [1][5] == 1", { error: "Invalid index" }],
  ["<<-EOT\n    a\n  \n    b\n    EOT\n", { value: "a\n  \nb\n" }],
  ['"${ 1 ~} "', { value: "1" }],
  ["{ a.b = 1 }", { error: "Ambiguous attribute key" }],
  ['{ 1 = "x" }', { value: { "1": "x" } }],
  ['[for s in ["a"] : s.x]', { error: "Unsupported attribute" }],
  ["{for k, v in {a={n=1}} : k => v.n}", { value: { a: 1 } }],
  ['"e\\u0301"', { value: "é" }],
  ['"e\\u0301" == "\\u00e9"', { value: true }],
  ['["a", "b"][*]', { value: ["a", "b"] }],
  ["{a=1}.*", { value: [{ a: 1 }] }],
  ["[{a={b=1}}][*].a.b", { value: [1] }],
  ['[1,2]["x"]', { error: "Invalid index" }],
  ['["a"][true]', { error: "Invalid index" }],
  ['"a"[0]', { error: "Invalid index" }],
  ["{a=1}.b", { error: "Unsupported attribute" }],
  ['"a".b', { error: "Unsupported attribute" }],
  ["null.a", { error: "Attempt to get attribute from null value" }],
  ["[1].a", { error: "Unsupported attribute" }],
  ["[1][null]", { error: "Invalid index" }],
  ["true ? null : 1", { value: null }],
  ["!null", { error: "Operation failed" }],
  ["-true", { error: "Invalid operand" }],
  ["1 + null", { error: "Operation failed" }],
  ["null == null", { value: true }],
  ["null == 1", { value: false }],
  ["[null] == [1]", { value: false }],
  ['{for s in ["a"] : s => null}', { value: { a: null } }],
  ["{for s in [null] : s => 1}", { error: "Invalid object key" }],
  ["[for s in [1] : s if null]", { error: "Condition is null" }],
  ["[for s in [1] : s if 1]", { error: "Invalid 'for' condition" }],
  ['[for s in [1] : s if "true"]', { value: [1] }],
  ['"%{ for s in [null] }${s}%{ endfor }"', { error: "Invalid template interpolation value" }],
  ['"%{ for s in [[1]] }x%{ endfor }"', { value: "x" }],
  ['"%{ for s in null }x%{ endfor }"', { error: "Iteration over null value" }],
  ["1 > true", { error: "Invalid operand" }],
  ['"a" == "a" && 1', { error: "Invalid operand" }],
  ["[1, 2][1.0]", { value: 2 }],
  ['[1, 2]["1.0"]', { value: 2 }],
  ['[1, 2][" 1"]', { error: "Invalid index" }],
  ['"1e2" + 0', { value: 100 }],
  ['".5" + 0', { value: 0.5 }],
  ['"0x10" + 0', { error: "Invalid operand" }],
  ['"5." + 0', { value: 5 }],
  ['"+5" + 0', { value: 5 }],
  ['"1_000" + 0', { error: "Invalid operand" }],
  ["-0", { value: -0 }],
  ['"${-0}"', { value: -0 }],
];

/**
 * Where template parsing refuses what Terraform accepts, and why: such a default could not be
 * stored as Terraform has it.
 */
const REFUSED_HERE: ReadonlyMap<string, RegExp> = new Map([
  // Terraform's value is infinite, which JSON (and so a stored default) cannot hold.
  ["1/0", /division by zero gives an infinite number/],
  // Terraform prints its 512-bit binary approximation of 1/3 (about 155 digits).
  ['"a${1/3}"', /has no finite decimal form/],
  ['"a${2/3}"', /has no finite decimal form/],
]);

/** Terraform's diagnostics for a reference or a function call; the rest are evaluation errors. */
const NOT_CONSTANT = new Set(["Variables not allowed", "Function calls not allowed"]);
const NOT_CONSTANT_MESSAGE =
  "default must be a constant value (variables, function calls and references are not allowed here)";

/**
 * Where template parsing gives another value than Terraform: a negative zero is stored as 0
 * (the default reaches coderd as JSON text, where "-0" and "0" are the same number).
 */
const STORED_AS: ReadonlyMap<string, unknown> = new Map([
  ["-0", 0],
  ['"${-0}"', 0],
]);

function variables(expressions: string[]): { text: string; lineOf: number[] } {
  const lines: string[] = [];
  const lineOf: number[] = [];
  expressions.forEach((expression, k) => {
    lineOf.push(lines.length + 2);
    lines.push(...`variable "v${k}" {\n  default = ${expression}\n}`.split("\n"));
  });
  return { text: `${lines.join("\n")}\n`, lineOf };
}

const dirs: TemplateDir[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => d.remove()));
});

async function read(expressions: string[]) {
  const dir = await makeTemplateDir({ "main.tf": variables(expressions).text });
  dirs.push(dir);
  return readTemplateVariables(dir.path);
}

const accepted = TABLE.filter(([hcl, e]) => "value" in e && !REFUSED_HERE.has(hcl));
const refused = TABLE.filter(([hcl, e]) => "error" in e || REFUSED_HERE.has(hcl));

describe("variable defaults: constant expressions, as Terraform 1.11 evaluates them", () => {
  it("has both kinds, and every form: index, splat, for, directives, strip markers, operators", () => {
    expect(accepted.length).toBeGreaterThan(80);
    expect(refused.length).toBeGreaterThan(40);
    for (const form of [
      "][1]",
      "[*]",
      ".*",
      "[for ",
      "{for ",
      "%{ if",
      "%{ for",
      "~}",
      "${~",
      " ? ",
      " % ",
    ]) {
      expect(
        accepted.some(([hcl]) => hcl.includes(form)),
        form,
      ).toBe(true);
    }
  });

  it("gives every default Terraform accepts the value Terraform gives it", async () => {
    const { variables: read_ } = await read(accepted.map(([hcl]) => hcl));
    const actual = read_.map((v, k) => [accepted[k]?.[0], v.default?.value]);
    expect(actual).toEqual(
      accepted.map(([hcl, e]) => [
        hcl,
        STORED_AS.has(hcl) ? STORED_AS.get(hcl) : (e as { value: unknown }).value,
      ]),
    );
  });

  it("refuses every default Terraform refuses, naming the variable and its line", async () => {
    const expressions = refused.map(([hcl]) => hcl);
    const error = await read(expressions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateParseError);
    const { lineOf } = variables(expressions);
    const diagnostics = (error as TemplateParseError).diagnostics;
    expect(diagnostics).toHaveLength(refused.length);
    refused.forEach(([hcl, expected], k) => {
      const found = diagnostics.filter((d) => d.file === "main.tf" && d.line === lineOf[k]);
      expect(found, hcl).toHaveLength(1);
      const message = found[0]?.message ?? "";
      const summary = "error" in expected ? expected.error : "";
      const prefix = `variable "v${k}": `;
      if (NOT_CONSTANT.has(summary)) {
        expect(message, hcl).toBe(`${prefix}${NOT_CONSTANT_MESSAGE}`);
        return;
      }
      expect(message.startsWith(`${prefix}default is invalid: `), `${hcl}: ${message}`).toBe(true);
      const reason = message.slice(`${prefix}default is invalid: `.length);
      const here = REFUSED_HERE.get(hcl);
      if (here) expect(reason, hcl).toMatch(here);
      // the wording of Terraform's diagnostic, then what exactly is wrong
      else expect(reason.startsWith(`${summary}: `), `${hcl}: ${reason}`).toBe(true);
    });
  });

  it("matches what Terraform says about each expression today", async () => {
    const dir = await mkdtemp(join(tmpdir(), "constant-defaults-"));
    try {
      const actual = await terraformResults(
        dir,
        TABLE.map(([hcl]) => hcl),
      );
      expect(actual).toEqual(TABLE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

const TERRAFORM_ENV = {
  CHECKPOINT_DISABLE: "1",
  TF_IN_AUTOMATION: "1",
  TF_CLI_CONFIG_FILE: "/dev/null",
};

/** What Terraform makes of each expression as a default: its value, or its error's summary. */
async function terraformResults(dir: string, expressions: string[]): Promise<[string, Expected][]> {
  const env = { ...process.env, ...TERRAFORM_ENV };
  const write = (subset: number[]) => {
    const { text, lineOf } = variables(subset.map((k) => expressions[k] as string));
    return {
      text: text.replace(/variable "v(\d+)"/g, (_, n) => `variable "v${subset[Number(n)]}"`),
      lineOf,
    };
  };
  const all = expressions.map((_, k) => k);
  const first = write(all);
  await writeFile(join(dir, "main.tf"), first.text);
  const validate = await execa("terraform", ["validate", "-json", "-no-color"], {
    cwd: dir,
    env,
    reject: false,
  });
  const errors = new Map<number, string>();
  const diagnostics = JSON.parse(validate.stdout).diagnostics as {
    severity: string;
    summary: string;
    range?: { start: { line: number } };
  }[];
  for (const d of diagnostics.filter((x) => x.severity === "error")) {
    const line = d.range?.start.line ?? 0;
    // The variable whose block holds the line: the last one starting at or before it.
    const k = first.lineOf.findLastIndex((l) => l - 1 <= line);
    if (k < 0) throw new Error(`terraform reported an error outside every variable: ${d.summary}`);
    errors.set(k, d.summary);
  }
  const valid = all.filter((k) => !errors.has(k));
  await writeFile(join(dir, "main.tf"), write(valid).text);
  const list = valid.map((k) => `try(jsonencode(var.v${k}), null)`).join(", ");
  const console_ = await execa("terraform", ["console", "-no-color"], {
    cwd: dir,
    env,
    input: `jsonencode([${list}])\n`,
  });
  // console prints the string with Go's quoting, which for this ASCII JSON is JSON's.
  const encoded = JSON.parse(JSON.parse(console_.stdout.trim())) as (string | null)[];
  return expressions.map((hcl, k): [string, Expected] => {
    const error = errors.get(k);
    if (error !== undefined) return [hcl, { error }];
    const json = encoded[valid.indexOf(k)];
    return [
      hcl,
      json === null || json === undefined
        ? { error: "not JSON-encodable" }
        : { value: JSON.parse(json) },
    ];
  });
}
