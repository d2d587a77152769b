import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  richParameterEnvName,
  TerraformInputError,
  toTerraformInputs,
} from "../../src/parameters/index.js";
import {
  ParameterDestination_Scheme,
  ParameterValue,
  RichParameterValue,
  VariableValue,
} from "../../src/provisioner/model.js";

describe("richParameterEnvName", () => {
  it("is CODER_PARAMETER_ + lower-case hex sha256 of the name", () => {
    const hex = createHash("sha256").update("Example").digest("hex");
    expect(richParameterEnvName("Example")).toBe(`CODER_PARAMETER_${hex}`);
    expect(richParameterEnvName("Example")).toMatch(/^CODER_PARAMETER_[0-9a-f]{64}$/);
    expect(richParameterEnvName("example")).not.toBe(richParameterEnvName("Example"));
  });
});

describe("toTerraformInputs", () => {
  it("routes legacy, managed and rich values and collects the sensitive ones", () => {
    const inputs = toTerraformInputs({
      parameterValues: [
        ParameterValue.create({
          name: "region",
          value: "eu=west",
          destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
        }),
        ParameterValue.create({
          name: "TF_VAR_zone",
          value: "b",
          destinationScheme: ParameterDestination_Scheme.ENVIRONMENT_VARIABLE,
        }),
        ParameterValue.create({
          name: "db_password",
          value: "hunter2",
          destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
          sensitive: true,
        }),
      ],
      variableValues: [
        VariableValue.create({ name: "token", value: "s3cret", sensitive: true }),
        VariableValue.create({ name: "empty_secret", value: "", sensitive: true }),
        VariableValue.create({ name: "size", value: "3" }),
      ],
      richParameterValues: [RichParameterValue.create({ name: "Example", value: "v" })],
    });
    expect(inputs.vars).toEqual([
      "region=eu=west",
      "db_password=hunter2",
      "token=s3cret",
      "empty_secret=",
      "size=3",
    ]);
    expect(inputs.env).toEqual({ TF_VAR_zone: "b", [richParameterEnvName("Example")]: "v" });
    expect(inputs.secrets).toEqual([
      { label: 'parameter "db_password"', value: "hunter2" },
      { label: 'template variable "token"', value: "s3cret" },
    ]);
  });

  it("refuses names terraform or the OS would misread, without printing values", () => {
    const bad = [
      {
        parameterValues: [
          ParameterValue.create({
            name: "a=b",
            value: "hunter2",
            destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
          }),
        ],
      },
      { variableValues: [VariableValue.create({ name: "", value: "hunter2" })] },
      {
        parameterValues: [
          ParameterValue.create({
            name: "X",
            value: "hunter2\0",
            destinationScheme: ParameterDestination_Scheme.ENVIRONMENT_VARIABLE,
          }),
        ],
      },
      {
        parameterValues: [
          ParameterValue.create({
            name: "x",
            value: "hunter2",
            // A value the model has no member for, as a caller past the type checks could pass.
            destinationScheme: -1 as ParameterDestination_Scheme,
          }),
        ],
      },
    ];
    const messages = bad.map((values) => {
      try {
        toTerraformInputs(values);
        return "no error";
      } catch (error) {
        expect(error).toBeInstanceOf(TerraformInputError);
        return (error as Error).message;
      }
    });
    expect(messages).toEqual([
      'invalid parameter name "a=b"',
      'invalid template variable name ""',
      'the value of parameter "X" contains a NUL character',
      'unsupported parameter type -1 for parameter "x"',
    ]);
    for (const m of messages) expect(m).not.toContain("hunter2");
  });
});
