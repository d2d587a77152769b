import { describe, expect, it } from "vitest";
import {
  assertNoMissingParameters,
  computeParameterValues,
  MissingParametersError,
  missingParameters,
  ParameterComputeError,
  toParameterValues,
} from "../../src/parameters/index.js";
import {
  ParameterDestination_Scheme,
  ParameterSchema,
  ParameterSource_Scheme,
  ParameterValue,
} from "../../src/provisioner/model.js";

// Schemas as Parse produces them.
function variable(name: string, opts: { default?: string; sensitive?: boolean } = {}) {
  return ParameterSchema.create({
    name,
    allowOverrideSource: !opts.sensitive,
    redisplayValue: !opts.sensitive,
    defaultDestination: { scheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE },
    ...(opts.default !== undefined
      ? { defaultSource: { scheme: ParameterSource_Scheme.DATA, value: opts.default } }
      : {}),
  });
}

const value = (name: string, sourceValue: string) => ({ name, sourceValue });
const pick = (values: ReturnType<typeof computeParameterValues>) =>
  values.map((v) => [v.name, v.sourceValue, v.scope, v.defaultSourceValue]);

describe("computeParameterValues (reference compute_test cases)", () => {
  it("gives nothing without defaults or values", () => {
    expect(computeParameterValues({ schemas: [variable("a")] })).toEqual([]);
  });

  it("uses the default, flagged as such, with scope import_job", () => {
    const [computed] = computeParameterValues({ schemas: [variable("a", { default: "d" })] });
    expect(computed).toEqual({
      name: "a",
      sourceValue: "d",
      destinationScheme: "provisioner_variable",
      scope: "import_job",
      defaultSourceValue: true,
      schemaIndex: 0,
      sensitive: false,
    });
  });

  it("lets a template value beat the default", () => {
    const values = computeParameterValues({
      schemas: [variable("a", { default: "d" })],
      templateValues: [value("a", "t")],
    });
    expect(pick(values)).toEqual([["a", "t", "template", false]]);
  });

  it("does not let a workspace override a value when the schema forbids it", () => {
    const values = computeParameterValues({
      schemas: [variable("secret", { default: "d", sensitive: true })],
      workspaceValues: [value("secret", "w")],
    });
    expect(pick(values)).toEqual([["secret", "d", "import_job", true]]);
    expect(values[0]?.sensitive).toBe(true);
  });

  it("lets a workspace override when allowed", () => {
    const values = computeParameterValues({
      schemas: [variable("a", { default: "d" })],
      workspaceValues: [value("a", "w")],
    });
    expect(pick(values)).toEqual([["a", "w", "workspace", false]]);
  });
});

describe("computeParameterValues: the whole precedence", () => {
  const schemas = [
    variable("only_import"),
    variable("import_vs_default", { default: "default" }),
    variable("template_wins", { default: "default" }),
    variable("workspace_wins", { default: "default" }),
    variable("dry_run_wins", { default: "default" }),
    variable("sensitive_no_default", { sensitive: true }),
  ];

  it("applies import-job < default < template < workspace < dry-run, sorted by schema", () => {
    const values = computeParameterValues({
      schemas,
      importJobValues: [
        value("dry_run_wins", "import"),
        value("only_import", "import"),
        value("import_vs_default", "import"),
        value("template_wins", "import"),
        value("not_declared", "ignored"),
      ],
      templateValues: [
        value("template_wins", "template"),
        value("workspace_wins", "template"),
        value("dry_run_wins", "template"),
      ],
      workspaceValues: [
        value("workspace_wins", "workspace"),
        value("dry_run_wins", "workspace"),
        value("sensitive_no_default", "workspace-first"),
      ],
      additionalValues: [value("dry_run_wins", "dry-run")],
    });
    expect(pick(values)).toEqual([
      ["only_import", "import", "import_job", false],
      // an import-job value exists, so the default is not injected
      ["import_vs_default", "import", "import_job", false],
      ["template_wins", "template", "template", false],
      ["workspace_wins", "workspace", "workspace", false],
      ["dry_run_wins", "dry-run", "workspace", false],
      // a workspace may set a sensitive value nobody set before; it may not replace one
      ["sensitive_no_default", "workspace-first", "workspace", false],
    ]);
  });

  it("keeps dry-run values from replacing a sensitive value (they act as workspace scope)", () => {
    const values = computeParameterValues({
      schemas: [variable("s", { sensitive: true, default: "d" })],
      additionalValues: [value("s", "dry")],
    });
    expect(pick(values)).toEqual([["s", "d", "import_job", true]]);
  });

  it("takes the destination from the value row, the schema's only for its default", () => {
    const values = computeParameterValues({
      schemas: [variable("TF_VAR_region"), variable("b", { default: "x" })],
      templateValues: [
        { name: "TF_VAR_region", sourceValue: "eu", destinationScheme: "environment_variable" },
      ],
    });
    expect(values.map((v) => [v.name, v.destinationScheme])).toEqual([
      ["TF_VAR_region", "environment_variable"],
      ["b", "provisioner_variable"],
    ]);
  });

  it("blanks values of sensitive schemas when asked to hide them", () => {
    const values = computeParameterValues({
      schemas: [
        variable("s", { sensitive: true, default: "hunter2" }),
        variable("p", { default: "v" }),
      ],
      hideRedisplayValues: true,
    });
    expect(values.map((v) => [v.name, v.sourceValue])).toEqual([
      ["s", ""],
      ["p", "v"],
    ]);
  });

  it("rejects unsupported source schemes, naming the parameter but not the value", () => {
    expect(() =>
      computeParameterValues({
        schemas: [variable("a")],
        templateValues: [{ name: "a", sourceValue: "hunter2", sourceScheme: "file" }],
      }),
    ).toThrow(new ParameterComputeError('unsupported source scheme "file" for parameter "a"'));
  });

  it("rejects malformed value rows with a message that names the row", () => {
    const error = (() => {
      try {
        computeParameterValues({
          schemas: [variable("a")],
          // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
          workspaceValues: [value("a", "ok"), { name: "a", sourceValue: 42 as any }],
        });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ParameterComputeError);
    expect(error?.message).toBe('invalid workspace parameter value #2 "a": bad sourceValue');
  });
});

describe("missing parameters", () => {
  const schemas = [variable("a"), variable("b", { default: "x" }), variable("c")];

  it("lists every schema without a value, in order", () => {
    const values = computeParameterValues({ schemas });
    expect(missingParameters(schemas, values)).toEqual(["a", "c"]);
  });

  it("throws one `missing parameter: <name>` line per missing schema", () => {
    const values = computeParameterValues({ schemas });
    let error: unknown;
    try {
      assertNoMissingParameters(schemas, values);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MissingParametersError);
    expect((error as MissingParametersError).message).toBe(
      "missing parameter: a\nmissing parameter: c",
    );
    expect((error as MissingParametersError).names).toEqual(["a", "c"]);
  });

  it("counts an empty value as given (the reference checks presence)", () => {
    const values = computeParameterValues({
      schemas,
      importJobValues: [value("a", ""), value("c", "")],
    });
    expect(() => assertNoMissingParameters(schemas, values)).not.toThrow();
  });
});

describe("toParameterValues", () => {
  it("maps destinations and flags sensitive values", () => {
    const values = computeParameterValues({
      schemas: [variable("token", { sensitive: true }), variable("REGION")],
      templateValues: [
        value("token", "s3cret"),
        { name: "REGION", sourceValue: "eu", destinationScheme: "environment_variable" },
      ],
    });
    expect(toParameterValues(values)).toEqual([
      ParameterValue.create({
        name: "token",
        value: "s3cret",
        destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
        sensitive: true,
      }),
      ParameterValue.create({
        name: "REGION",
        value: "eu",
        destinationScheme: ParameterDestination_Scheme.ENVIRONMENT_VARIABLE,
        sensitive: false,
      }),
    ]);
  });

  it("refuses the `none` destination", () => {
    const values = computeParameterValues({
      schemas: [variable("a")],
      templateValues: [{ name: "a", sourceValue: "x", destinationScheme: "none" }],
    });
    expect(() => toParameterValues(values)).toThrow(
      'unrecognized destination scheme "none" for parameter "a"',
    );
  });
});
