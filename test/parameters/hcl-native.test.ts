// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are HCL source, where ${} is HCL syntax
// The native fast path must agree with HashiCorp's parser (WebAssembly) on which files are
// valid, and give the values the reference gives. The WebAssembly parser is the oracle here.
import { describe, expect, it } from "vitest";
import { parseHclNative } from "../../src/parameters/hcl-native.js";
import { parseHcl } from "../../src/parameters/hcl-parser.js";

// Valid and invalid snippets: bodies, blocks, every expression form, templates, heredocs.
const snippets = [
  "a = 1\nb = 2",
  'x "a" { y = 1 }',
  'x "a" { \n y = 1 }',
  'x "a" {}\n',
  'x "a" {\n}z = 1',
  "x = {\n a = 1\n b = 2\n}",
  "x = {a = 1, b = 2,}",
  "x = {\n a = 1,\n b = 2,\n}",
  "x = [\n 1\n ,2]",
  "x = f(\n1,\n2...\n)",
  "x = a.b[0].c.*.d[*].e",
  "x = a.0.b",
  'x = "${~ 1 ~}"',
  "x = 1 ? 2 : 3 ? 4 : 5",
  "x = {for k, v in a : k => v... if v}",
  "x = provider::a::b(1)",
  "x = a\n  .b",
  'x "a" "b" {\ny = 1\n}',
  "x a {\n}",
  "x = -a.b",
  "x = !!true",
  "x = 1.",
  "x = .5",
  "x = 1e",
  'x = "\\q"',
  'x = "a\nb"',
  'x = { "a" = 1 }',
  "x = { a.b = 1 }",
  "x = { (a) = 1 }",
  "x = {a: 1}",
  "x = [1 2]",
  "x = <<EOT\nhi\n  EOT\n",
  "x = <<-EOT\n  hi\n  EOT",
  "x {}",
  "x = 1 y = 2",
  "x = a[*]",
  "x = a.*",
  "x = a[1][2]",
  "x = f()",
  "x = f(,)",
  'x = "%{ for a in b }${a}%{ endfor }"',
  'x = "%{if a}b%{else}c%{endif}"',
  "x = a\u00e9b",
  "x-y = 1",
  "x = 1 # c\ny = 2 // d\nz = 3 /* e */",
  "x = /* a\nb */ 1",
  "x = 1\r\ny = 2\r\n",
  "x = a == b != c",
  "x = a < b < c",
  "x {\n a = 1 }",
  "x = 1 +\n 2",
  "x = (1 +\n 2)",
  "x = {\n a = 1\n + 2\n}",
  "x = [for x in y : x if x]",
  "x = {\n for k, v in y : k => v\n}",
  "x = a ? b :\n c",
  "x = <<-EOT\n  a\n    b\n  EOT\n",
  "x = <<EOT\n${a}\nEOT\n",
  'x = "${a',
  'x = "a" "b"',
  "x = 1\ny = 1\nx = 2",
  "a;sd;ajsd;lajsd;lasjdf;a",
  'x "a" {\n y = 1\n}\n}',
  "x = [\n#c\n1, # d\n]",
  "x = {\n# c\n}",
  "x = {a=1 b=2}",
  "x = f(1 2)",
  "x = a[\n1\n]",
  'x = "\\u00e9\\U0001F600"',
  'x = "\\u00e"',
  "x = 1 == 1",
  "x = true && false || !true",
  "x = -1.5e3",
  "x = 0x10",
  "x = 007",
  'x = "${"${1}"}"',
  'x "a" { y = 1 }\n',
  "x { y {} }",
  "x { a = 1, b = 2 }",
  "x = a...",
  "x = [1...]",
  "x = a.b.c[d.e]",
  'x = "$${a}"',
  "x = <<EOT\nEOT\n",
  "x = <<EOT\n",
  "=",
  "x = ",
  "x == 1",
  "x = {a = 1,, }",
  'x = ["a",]',
  "x = [,]",
  "x = {\n a = 1\n}\n",
  "x = a.b\n.c",
  "x = a /* c */ + 1",
  "x = a # c\n + 1",
  '"x" = 1',
  'x "\\n" {}\n',
  "x 1 {}",
  // labels are literal strings; strip markers touch their braces; directives nest as HCL's do
  'x "a${1}" {}\n',
  'x = "${ ~1}"',
  'x = "${1~ }"',
  'x = "${1 ~}"',
  'x = "%{ ~if true}a%{endif}"',
  'x = "%{if true}a%{ else }b%{ else }c%{endif}"',
  'x = "%{for a in b}%{endif}"',
  "x = a.*.b.*",
  "x = a[*].b.*",
];

function nativeAccepts(source: string): boolean {
  try {
    parseHclNative(source);
    return true;
  } catch {
    return false;
  }
}

describe("parseHclNative agrees with HashiCorp's parser", () => {
  it("accepts and rejects the same snippets", async () => {
    const disagreements: string[] = [];
    for (const snippet of snippets) {
      const oracle = (await parseHcl(snippet)).ok;
      if (oracle !== nativeAccepts(snippet)) {
        disagreements.push(`${JSON.stringify(snippet)}: HCL ${oracle ? "accepts" : "rejects"}`);
      }
    }
    expect(disagreements).toEqual([]);
    // the corpus really has both kinds
    const accepted = snippets.filter(nativeAccepts).length;
    expect(accepted).toBeGreaterThan(30);
    expect(snippets.length - accepted).toBeGreaterThan(20);
  });

  it.each([
    ["-1", -1],
    ["- 1.5", -1.5],
    ["!true", false],
    ['"a${1}b"', "a1b"],
    ["[1, 2]", [1, 2]],
    ['{a = 1, "b c" = 2}', { a: 1, "b c": 2 }],
    ["null", null],
    ["1e3", 1000],
    ["0.10", 0.1],
    ['"\\u00e9\\n"', "\u00e9\n"],
    ["<<EOT\nab\nEOT\n", "ab\n"],
    ["<<-EOT\n    a\n      b\n    EOT\n", "a\n  b\n"],
    ["{ a = [1, {b = true}] }", { a: [1, { b: true }] }],
    // where the oracle keeps an escape or leaves an operator unevaluated, the reference
    // (which evaluates the expression) gets these values
    ['"$${x}"', "\u0024{x}"],
    ["1 + 2 * 3", 7],
    ['true ? "y" : "n"', "y"],
    // directives and for expressions are constant when what they iterate over is
    ['"%{if true}x%{endif}"', "x"],
    ["[for x in [1] : x]", [1]],
  ])("evaluates the constant %s", (expression, expected) => {
    const attribute = parseHclNative(`x = ${expression}\n`).attributes[0];
    expect(attribute?.expr.evaluate()).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["var.x"],
    ['"a${var.x}"'],
    ["tolist([])"],
    ["[1, var.x]"],
    ["{ (var.k) = 1 }"],
    ['"%{for x in [1]}${var.x}%{endfor}"'],
    ["[for x in [1] : upper(x)]"],
  ])("marks %s as not constant, keeping its exact source", (expression) => {
    const attribute = parseHclNative(`x = ${expression} # comment\n`).attributes[0];
    expect(attribute?.expr.evaluate()).toMatchObject({ ok: false, notConstant: true });
    expect(attribute?.expr.source).toBe(expression);
  });

  it.each([
    ["[for a in X : [for b in X : [for c in X : 1]]]"],
    ['"%{for a in X}%{for b in X}%{for c in X}abc%{endfor}%{endfor}%{endfor}"'],
  ])("refuses to evaluate %s past a bound on its work, promptly", (shape) => {
    const items = `[${Array.from({ length: 200 }, (_, k) => k).join(",")}]`;
    const attribute = parseHclNative(`x = ${shape.replaceAll("X", items)}\n`).attributes[0];
    const started = performance.now();
    expect(attribute?.expr.evaluate()).toMatchObject({
      ok: false,
      notConstant: false,
      message: expect.stringMatching(/^Expression too large: /),
    });
    // 8 million elements would take far longer than this, and more memory than a daemon has
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("refuses a product that outgrows any number a default can hold", () => {
    const chain = Array.from({ length: 50 }, () => "1e1000").join(" * ");
    const attribute = parseHclNative(`x = ${chain}\n`).attributes[0];
    expect(attribute?.expr.evaluate()).toMatchObject({
      ok: false,
      message: expect.stringMatching(/out of the range a default can hold/),
    });
  });

  it("refuses an operator chain too long to evaluate, as a result and not an exception", () => {
    const chain = Array.from({ length: 50_000 }, () => "1").join(" + ");
    const attribute = parseHclNative(`x = ${chain}\n`).attributes[0];
    expect(attribute?.expr.evaluate()).toEqual({
      ok: false,
      notConstant: false,
      message: "the expression is nested too deeply to evaluate",
    });
  });

  it("records block types, labels and lines", () => {
    const body = parseHclNative(
      '# c\nvariable "a" {\n  default = 1\n}\n\nprovider coder {}\nx "p" "q" { y = 2 }\n',
    );
    expect(body.blocks.map((b) => [b.type, b.labels, b.line])).toEqual([
      ["variable", ["a"], 2],
      ["provider", ["coder"], 6],
      ["x", ["p", "q"], 7],
    ]);
    expect(body.blocks[0]?.body.attributes.map((a) => [a.name, a.line])).toEqual([["default", 3]]);
  });
});
