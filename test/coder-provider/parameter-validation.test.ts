// coder_parameter's value rules and messages (terraform-provider-coder v0.6.x).
import { describe, expect, it } from "vitest";
import { richParameterEnvName } from "../../src/parameters/terraform-inputs.js";
import {
  compileGoRegexp,
  goAtoi,
  goQuote,
  isGoFloat,
  parseGoBool,
} from "../fixtures/coder-provider/src/gofmt.js";
import {
  evaluateParameter,
  type ParameterInput,
  type ParameterValidation,
  parameterEnvironmentVariable,
  validateParameterValue,
} from "../fixtures/coder-provider/src/parameter.js";

const noValidation: ParameterValidation = { min: 0, max: 0, monotonic: "", regex: "", error: "" };
const rule = (r: Partial<ParameterValidation>): ParameterValidation => ({ ...noValidation, ...r });

function parameter(p: Partial<ParameterInput>): ParameterInput {
  return { name: "Example", type: "string", default: "", option: [], validation: [], ...p };
}

describe("Validation.Valid messages", () => {
  it.each([
    ["number", "12", rule({ min: 1, max: 8 }), "value 12 is more than the maximum 8"],
    ["number", "0", rule({ min: 1, max: 8 }), "value 0 is less than the minimum 1"],
    ["number", "abc", rule({ min: 1, max: 8 }), 'value "abc" is not a number'],
    ["number", "2.5", rule({ min: 1, max: 8 }), 'value "2.5" is not a number'],
    ["number", "5", rule({ monotonic: "increasing" }), "value 5 is more than the maximum 0"],
    [
      "number",
      "0",
      rule({ monotonic: "sideways" }),
      'number monotonicity can be either "increasing" or "decreasing"',
    ],
    [
      "number",
      "1",
      rule({ regex: "^1$", error: "x" }),
      "a regex cannot be specified for a number type",
    ],
    ["bool", "true", rule({ min: 7 }), "a min cannot be specified for a bool type"],
    ["string", "a", rule({ max: 3 }), "a max cannot be specified for a string type"],
    ["bool", "yes", rule({}), 'boolean value can be either "true" or "false"'],
    ["string", "x", rule({ regex: "^a" }), "an error must be specified with a regex validation"],
    [
      "string",
      "http://example.com",
      rule({ regex: "^https://", error: "Use https" }),
      'Use https (value "http://example.com" does not match "^https://")',
    ],
  ])("%s %j with %j fails with %j", (type, value, validation, message) => {
    expect(validateParameterValue(type, value, validation)).toBe(message);
  });

  it.each([
    ["number", "-3", rule({ min: -5, max: 0 })],
    ["number", "8", rule({ min: 1, max: 8, monotonic: "decreasing" })],
    ["bool", "false", rule({})],
    ["string", "https://x", rule({ regex: "^https://", error: "Use https" })],
    ["string", "anything", rule({})],
  ])("%s %j passes %j", (type, value, validation) => {
    expect(validateParameterValue(type, value, validation)).toBeUndefined();
  });

  it("reports a pattern JS cannot compile, with the Go provider's odd <nil> prefix", () => {
    expect(validateParameterValue("string", "x", rule({ regex: "(a", error: "e" }))).toMatch(
      /^compile regex <nil>: error parsing regexp: /,
    );
  });
});

describe("evaluateParameter", () => {
  it("uses the default, then the environment variable", () => {
    const p = parameter({ default: "eu" });
    expect(evaluateParameter(p, {})).toEqual({ value: "eu" });
    expect(evaluateParameter(p, { [parameterEnvironmentVariable("Example")]: "us" })).toEqual({
      value: "us",
    });
    // Present but empty still wins over the default.
    expect(evaluateParameter(p, { [parameterEnvironmentVariable("Example")]: "" })).toEqual({
      value: "",
    });
    expect(evaluateParameter(parameter({}), {})).toEqual({ value: "" });
  });

  it("names the variable CODER_PARAMETER_<sha256 hex of name>, as the daemon does", () => {
    // printf Example | sha256sum
    expect(parameterEnvironmentVariable("Example")).toBe(
      "CODER_PARAMETER_d029f87e3d80f8fd9b1be67c7426b4cc1ff47b4a9d0a8461c826a59d8c5eb6cd",
    );
    expect(parameterEnvironmentVariable("CPU cores")).toBe(richParameterEnvName("CPU cores"));
  });

  it("checks defaults against the type", () => {
    expect(evaluateParameter(parameter({ type: "number", default: "ten" }), {}).error).toBe(
      '"ten" is not a number',
    );
    expect(evaluateParameter(parameter({ type: "number", default: "1e3" }), {})).toEqual({
      value: "1e3",
    });
    expect(evaluateParameter(parameter({ type: "bool", default: "yes" }), {}).error).toBe(
      '"yes" is not a bool',
    );
    expect(evaluateParameter(parameter({ type: "list", default: "x" }), {}).error).toBe(
      'invalid type "list"',
    );
  });

  it("validates the resolved value, not just the default", () => {
    const p = parameter({ type: "number", default: "2", validation: [rule({ min: 1, max: 8 })] });
    expect(evaluateParameter(p, { [parameterEnvironmentVariable("Example")]: "9" })).toEqual({
      value: "9",
      error: "value 9 is more than the maximum 8",
    });
  });

  it("does not require the value to be one of the options (v0.6 quirk)", () => {
    const p = parameter({
      default: "a",
      option: [
        { name: "A", value: "a", description: "", icon: "" },
        { name: "B", value: "b", description: "", icon: "" },
      ],
    });
    expect(evaluateParameter(p, { [parameterEnvironmentVariable("Example")]: "z" })).toEqual({
      value: "z",
    });
  });

  it("rejects duplicate option names and values and mistyped option values", () => {
    const option = (name: string, value: string) => ({ name, value, description: "", icon: "" });
    expect(
      evaluateParameter(parameter({ option: [option("A", "a"), option("A", "b")] }), {}).error,
    ).toBe('multiple options cannot have the same name "A"');
    expect(
      evaluateParameter(parameter({ option: [option("A", "a"), option("B", "a")] }), {}).error,
    ).toBe('multiple options cannot have the same value "a"');
    expect(
      evaluateParameter(parameter({ type: "number", option: [option("One", "one")] }), {}).error,
    ).toBe('"one" is not a number');
  });
});

describe("Go look-alikes", () => {
  it("quotes like strconv.Quote", () => {
    expect(goQuote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(goQuote("line\n\ttab\x01\x7f")).toBe('"line\\n\\ttab\\x01\\x7f"');
    expect(goQuote("héllo ✓")).toBe('"héllo ✓"');
  });

  it("parses bools like strconv.ParseBool", () => {
    expect(["1", "t", "T", "TRUE", "true", "True"].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(["0", "f", "F", "FALSE", "false", "False"].map(parseGoBool)).toEqual(
      Array(6).fill(false),
    );
    expect(parseGoBool("yes")).toBeUndefined();
    expect(parseGoBool("tRUE")).toBeUndefined();
  });

  it("accepts the float syntaxes strconv.ParseFloat accepts", () => {
    for (const ok of [
      "1",
      "-2.5",
      "1.",
      ".5",
      "1e3",
      "+1E-2",
      "inf",
      "-Infinity",
      "NaN",
      "0x1p-2",
    ]) {
      expect(isGoFloat(ok), ok).toBe(true);
    }
    for (const bad of ["", ".", "abc", "1_000", "1e", "1.2.3", " 1"]) {
      expect(isGoFloat(bad), bad).toBe(false);
    }
  });

  it("parses ints like strconv.Atoi", () => {
    expect(goAtoi("+5")).toBe(5);
    expect(goAtoi("-007")).toBe(-7);
    expect(goAtoi("1.0")).toBeUndefined();
    expect(goAtoi("9223372036854775808")).toBeUndefined();
    expect(goAtoi("")).toBeUndefined();
  });

  it("runs RE2-only syntax as JS regular expressions", () => {
    expect(compileGoRegexp("(?i)^abc$").test("ABC")).toBe(true);
    expect(compileGoRegexp("\\Aab\\z").test("ab")).toBe(true);
    expect(compileGoRegexp("\\Aab\\z").test("ab\n")).toBe(false);
    expect(compileGoRegexp("^[[:digit:]]+$").test("123")).toBe(true);
    expect(compileGoRegexp("^\\pL+$").test("héllo")).toBe(true);
    expect(compileGoRegexp("^a\\-b$").test("a-b")).toBe(true);
  });
});
