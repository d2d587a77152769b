import { describe, expect, it } from "vitest";
import {
  assertNoParameterMixing,
  RichParameterMixingError,
  RichParameterValidationError,
  resolveRichParameterValues,
  richParameterIssues,
  validateRichParameterValues,
} from "../../src/parameters/index.js";
import { RichParameter, RichParameterValue } from "../../src/provisioner/model.js";

const param = (name: string, fields: Partial<RichParameter> = {}) =>
  RichParameter.create({ name, type: "string", mutable: true, ...fields });
const val = (name: string, value: string) => RichParameterValue.create({ name, value });

/** The messages for one value of one parameter (new workspace unless `previous`). */
function messages(p: RichParameter, value: string, previous?: string): string[] {
  return richParameterIssues({
    parameters: [p],
    values: [val(p.name, value)],
    ...(previous !== undefined ? { previousValues: [val(p.name, previous)] } : {}),
  }).map((i) => i.message);
}

describe("rich parameter types", () => {
  it("accepts any string for a plain string parameter", () => {
    expect(messages(param("s"), "anything at all")).toEqual([]);
  });

  it("checks numbers", () => {
    const p = param("n", { type: "number" });
    expect(messages(p, "42")).toEqual([]);
    expect(messages(p, "-1.5")).toEqual([]);
    expect(messages(p, "4x")).toEqual(['parameter "n": value "4x" is not a number']);
    expect(messages(p, "0x10")).toEqual(['parameter "n": value "0x10" is not a number']);
  });

  it("checks bools", () => {
    const p = param("b", { type: "bool" });
    expect(messages(p, "true")).toEqual([]);
    expect(messages(p, "false")).toEqual([]);
    expect(messages(p, "yes")).toEqual([
      'parameter "b": boolean value can be either "true" or "false"',
    ]);
  });

  it("checks list(string) as a JSON list of strings", () => {
    const p = param("l", { type: "list(string)" });
    expect(messages(p, '["a","b"]')).toEqual([]);
    expect(messages(p, '["a",1]')).toEqual([
      'parameter "l": value must be a JSON list of strings, e.g. ["a","b"]',
    ]);
    expect(messages(p, "a,b")).toHaveLength(1);
  });

  it("validates the default when the value is empty", () => {
    expect(messages(param("n", { type: "number", defaultValue: "7" }), "")).toEqual([]);
    expect(messages(param("n", { type: "number" }), "")).toEqual([
      'parameter "n": value "" is not a number',
    ]);
  });

  it("reports an unsupported type as a definition problem", () => {
    const issues = richParameterIssues({
      parameters: [param("x", { type: "map" })],
      values: [val("x", "1")],
    });
    expect(issues).toEqual([
      {
        parameter: "x",
        rule: "definition",
        message:
          'parameter "x": unsupported type "map" (one of "string", "number", "bool", "list(string)")',
      },
    ]);
  });
});

describe("rich parameter options", () => {
  const options = [
    { name: "Europe", value: "eu", description: "", icon: "" },
    { name: "US", value: "us", description: "", icon: "" },
  ];

  it("requires one of the option values, and checks nothing else", () => {
    const p = param("region", { options, validationRegex: "^zz$" });
    expect(messages(p, "eu")).toEqual([]);
    expect(messages(p, "asia")).toEqual([
      'parameter "region": value "asia" must be one of the options: "eu", "us"',
    ]);
  });

  it("checks every element of a list(string) against the options", () => {
    const p = param("regions", { type: "list(string)", options });
    expect(messages(p, '["eu","us"]')).toEqual([]);
    expect(messages(p, '["eu","mars","moon"]')).toEqual([
      'parameter "regions": value "mars", "moon" must be one of the options: "eu", "us"',
    ]);
  });
});

describe("rich parameter validation block", () => {
  it("applies the regex with the template's error message", () => {
    const p = param("user", { validationRegex: "^[a-z]+$", validationError: "lower-case only" });
    expect(messages(p, "alice")).toEqual([]);
    expect(messages(p, "Alice")).toEqual([
      'parameter "user": lower-case only (value "Alice" does not match "^[a-z]+$")',
    ]);
  });

  it("understands RE2 flag groups and refuses JavaScript-only syntax", () => {
    expect(messages(param("u", { validationRegex: "(?i)^abc$" }), "ABC")).toEqual([]);
    expect(messages(param("u", { validationRegex: "^(?=a)" }), "a")).toEqual([
      'parameter "u": invalid validation regex "^(?=a)": lookahead and lookbehind are not supported by RE2',
    ]);
  });

  it("checks min and max, including a bound of 0", () => {
    const p = param("cpu", {
      type: "number",
      validationMin: 0,
      validationMinSet: true,
      validationMax: 8,
      validationMaxSet: true,
    });
    expect(messages(p, "0")).toEqual([]);
    expect(messages(p, "8")).toEqual([]);
    expect(messages(p, "-1")).toEqual(['parameter "cpu": value -1 is less than the minimum 0']);
    expect(messages(p, "9")).toEqual(['parameter "cpu": value 9 is more than the maximum 8']);
  });

  it("treats non-zero bounds without the *_set flags as set (older rows)", () => {
    const p = param("cpu", { type: "number", validationMin: 2, validationMax: 4 });
    expect(messages(p, "1")).toEqual(['parameter "cpu": value 1 is less than the minimum 2']);
    expect(messages(param("free", { type: "number" }), "-100")).toEqual([]);
  });

  it("reports definition problems: regex on a number, min on a string, bad monotonic", () => {
    expect(messages(param("n", { type: "number", validationRegex: "x" }), "1")).toEqual([
      'parameter "n": a regex cannot be specified for a number type',
    ]);
    expect(messages(param("s", { validationMin: 1, validationMinSet: true }), "x")).toEqual([
      'parameter "s": a min cannot be specified for a string type',
    ]);
    // what the provider stores for a regex-only block: min = 0 (its default), flagged as set
    const regexOnly = param("r", {
      validationRegex: "^a",
      validationError: "e",
      validationMinSet: true,
    });
    expect(messages(regexOnly, "abc")).toEqual([]);
    expect(messages(param("n", { type: "number", validationMonotonic: "up" }), "1")).toEqual([
      'parameter "n": number monotonicity can be either "increasing" or "decreasing"',
    ]);
  });
});

describe("rich parameters against the previous build", () => {
  const increasing = param("disk", { type: "number", validationMonotonic: "increasing" });
  const decreasing = param("quota", { type: "number", validationMonotonic: "decreasing" });

  it("compares monotonic values as numbers, not strings", () => {
    // As strings "9" > "10"; as numbers 10 ≥ 9 is an increase.
    expect(messages(increasing, "10", "9")).toEqual([]);
    expect(messages(increasing, "9", "10")).toEqual([
      'parameter "disk": value 9 must be equal or greater than the previous value 10 (monotonic increasing)',
    ]);
    expect(messages(decreasing, "9", "10")).toEqual([]);
    expect(messages(decreasing, "10", "9")).toEqual([
      'parameter "quota": value 10 must be equal or lower than the previous value 9 (monotonic decreasing)',
    ]);
  });

  it("does not apply monotonic rules to a new workspace", () => {
    expect(messages(increasing, "1")).toEqual([]);
  });

  it("refuses to change an immutable parameter, but accepts the same value again", () => {
    const p = param("zone", { mutable: false });
    expect(messages(p, "b", "a")).toEqual([
      'parameter "zone": the parameter is immutable and cannot be changed after the workspace was created',
    ]);
    expect(messages(p, "a", "a")).toEqual([]);
    expect(messages(p, "b")).toEqual([]); // creating the workspace sets it
  });
});

describe("validateRichParameterValues / resolveRichParameterValues", () => {
  const parameters = [
    param("region", { defaultValue: "eu" }),
    param("size", { type: "number", defaultValue: "1" }),
    param("name"),
  ];

  it("collects every broken rule of every value, each naming parameter and rule", () => {
    let error: unknown;
    try {
      validateRichParameterValues({
        parameters,
        values: [val("", "x"), val("ghost", "1"), val("size", "big"), val("size", "2")],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RichParameterValidationError);
    const issues = (error as RichParameterValidationError).issues;
    expect(issues.map((i) => [i.parameter, i.rule])).toEqual([
      ["", "name"],
      ["ghost", "undefined"],
      ["size", "type"],
      ["size", "duplicate"],
    ]);
    expect((error as Error).message.split("\n")).toEqual([
      "workspace build parameter #1: the parameter name is missing",
      'parameter "ghost" is not defined in the template ("coder_parameter")',
      'parameter "size": value "big" is not a number',
      'parameter "size": a value is given more than once',
    ]);
  });

  it("stores exactly the given values when creating a workspace", () => {
    expect(resolveRichParameterValues({ parameters, values: [val("size", "3")] })).toEqual([
      val("size", "3"),
    ]);
  });

  it("carries previous values over for parameters a later build does not give", () => {
    const stored = resolveRichParameterValues({
      parameters,
      values: [val("size", "4")],
      previousValues: [val("region", "us"), val("size", "3"), val("removed", "x")],
    });
    expect(stored).toEqual([val("region", "us"), val("size", "4")]);
  });

  it("refuses rich parameters together with legacy parameter values", () => {
    expect(() => assertNoParameterMixing(parameters, 1)).toThrow(RichParameterMixingError);
    expect(() => assertNoParameterMixing(parameters, 0)).not.toThrow();
    expect(() => assertNoParameterMixing([], 3)).not.toThrow();
  });
});
