import { describe, expect, it } from "vitest";
import {
  buildVariableValues,
  importVariableValues,
  RequiredTemplateVariablesError,
  resolveTemplateVariables,
  templateVariableValues,
  VariableValueError,
} from "../../src/parameters/index.js";
import { TemplateVariable, VariableValue } from "../../src/provisioner/model.js";

const tv = (name: string, fields: Partial<TemplateVariable> = {}) =>
  TemplateVariable.create({ name, type: "string", ...fields });

describe("resolveTemplateVariables", () => {
  const variables = [
    tv("region", { defaultValue: "eu" }),
    tv("token", { required: true, sensitive: true }),
    tv("size", { type: "number", defaultValue: "3" }),
    tv("flag", { type: "bool", required: true }),
  ];

  it("takes the user's value, else the default", () => {
    const resolved = resolveTemplateVariables(variables, [
      VariableValue.create({ name: "token", value: "s3cret" }),
      VariableValue.create({ name: "size", value: "5" }),
      VariableValue.create({ name: "flag", value: "false" }),
      VariableValue.create({ name: "unknown", value: "ignored" }),
    ]);
    expect(resolved.map((v) => [v.name, v.value])).toEqual([
      ["region", "eu"],
      ["token", "s3cret"],
      ["size", "5"],
      ["flag", "false"],
    ]);
    expect(templateVariableValues(resolved)).toEqual([
      VariableValue.create({ name: "region", value: "eu", sensitive: false }),
      VariableValue.create({ name: "token", value: "s3cret", sensitive: true }),
      VariableValue.create({ name: "size", value: "5", sensitive: false }),
      VariableValue.create({ name: "flag", value: "false", sensitive: false }),
    ]);
  });

  it("names every required variable without a value (an empty value counts as none)", () => {
    let error: unknown;
    try {
      resolveTemplateVariables(variables, [VariableValue.create({ name: "token", value: "" })]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RequiredTemplateVariablesError);
    expect((error as Error).message).toBe("required template variables need values: token, flag");
    expect((error as RequiredTemplateVariablesError).names).toEqual(["token", "flag"]);
  });

  it("rejects malformed values without echoing them", () => {
    expect(() =>
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
      resolveTemplateVariables(variables, [{ name: "token", value: 7 } as any]),
    ).toThrow(new VariableValueError("invalid template variable value #1: bad value"));
  });
});

describe("import and build values", () => {
  it("adds the active version's values the user did not give, all flagged sensitive", () => {
    const active = resolveTemplateVariables(
      [tv("a", { defaultValue: "1" }), tv("b", { required: true })],
      [VariableValue.create({ name: "b", value: "old-b" })],
    );
    expect(
      importVariableValues([VariableValue.create({ name: "a", value: "new-a" })], active),
    ).toEqual([
      VariableValue.create({ name: "a", value: "new-a", sensitive: true }),
      VariableValue.create({ name: "b", value: "old-b", sensitive: true }),
    ]);
  });

  it("sends builds the stored values that are set, defaulted or required", () => {
    const stored = [
      { ...tv("set"), value: "x" },
      { ...tv("defaulted", { defaultValue: "d" }), value: "" },
      { ...tv("required", { required: true }), value: "" },
      { ...tv("empty"), value: "" },
    ];
    expect(buildVariableValues(stored).map((v) => [v.name, v.value])).toEqual([
      ["set", "x"],
      ["defaulted", ""],
      ["required", ""],
    ]);
  });
});
