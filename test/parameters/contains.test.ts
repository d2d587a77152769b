import { describe, expect, it } from "vitest";
import { ContainsConditionError, containsValues } from "../../src/parameters/index.js";

describe("containsValues", () => {
  it("reads the reference example, sorted", () => {
    expect(containsValues('contains(["us-east1-a","us-central1-a"], var.region)')).toEqual([
      "us-central1-a",
      "us-east1-a",
    ]);
  });

  it("handles whitespace, comments, trailing commas, escapes and duplicates", () => {
    const condition = `contains([
      "b\\"quoted\\"", # a comment
      "a\\u00e9",      // another
      /* block */ "a\\u00e9",
      "$\${literal}",
    ], lower(var.x))`;
    // "\u0024{literal}" is the text ${literal}: `$${` escapes an interpolation in HCL.
    expect(containsValues(condition)).toEqual([
      "\u0024{literal}",
      "a\u00e9",
      "a\u00e9",
      'b"quoted"',
    ]);
  });

  it("reads a list that is any constant expression, as a default is read", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template, not a JS one
    expect(containsValues('contains([for r in ["b", "a"] : "${r}-1"], var.x)')).toEqual([
      "a-1",
      "b-1",
    ]);
    expect(containsValues('contains(["x", "y"][*], var.x)')).toEqual(["x", "y"]);
  });

  it("keeps only string elements", () => {
    expect(containsValues('contains(["x", 1, true, null, ["n"], {a = 1}], var.v)')).toEqual(["x"]);
  });

  it.each([
    ['var.region == "us"'],
    ['contains(["a"])'],
    ['contains(["a"], var.x) && var.y != ""'],
    ['!contains(["a"], var.x)'],
    ['containsx(["a"], var.x)'],
    ["length(var.x) > 0"],
    ['contains("abc", var.x)'],
    ["true"],
    [""],
  ])("yields nothing for %j", (condition) => {
    expect(containsValues(condition)).toEqual([]);
  });

  it("refuses a list it cannot read without evaluating", () => {
    expect(() => containsValues("contains(local.regions, var.x)")).toThrow(ContainsConditionError);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template, not a JS one
    expect(() => containsValues('contains(["a-${var.y}"], var.x)')).toThrow(
      /^parse value: the first argument of contains\(\) must be a list of literal values$/,
    );
  });

  it("reports malformed conditions as parse errors", () => {
    expect(() => containsValues('contains(["a", "b"')).toThrow(/^parse condition: /);
    expect(() => containsValues('contains(["a"], var.x')).toThrow(/^parse condition: missing "\)"/);
    expect(() => containsValues('contains(["unterminated], var.x)')).toThrow(
      /^parse condition: unterminated string/,
    );
  });
});
