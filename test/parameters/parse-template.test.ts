import { afterEach, describe, expect, it } from "vitest";
import { parseTemplate, TemplateParseError } from "../../src/parameters/index.js";
import {
  ParameterDestination_Scheme,
  ParameterSchema,
  ParameterSchema_TypeSystem,
  ParameterSource_Scheme,
  TemplateVariable,
} from "../../src/provisioner/model.js";
import { makeTemplateDir, type TemplateDir } from "./template-dir.js";

const MANAGED = `provider "coder" {
  feature_use_managed_variables = true
}
`;

let dirs: TemplateDir[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => d.remove()));
  dirs = [];
});

async function parseFiles(files: Record<string, string>) {
  const dir = await makeTemplateDir(files);
  dirs.push(dir);
  return parseTemplate(dir.path);
}

async function parseError(files: Record<string, string>): Promise<TemplateParseError> {
  const error = await parseFiles(files).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemplateParseError);
  return error as TemplateParseError;
}

const schema = (fields: Partial<ParameterSchema>) =>
  ParameterSchema.create({
    redisplayValue: true,
    allowOverrideSource: true,
    defaultDestination: { scheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE },
    ...fields,
  });

describe("parseTemplate: legacy parameter schemas (reference parse_test cases)", () => {
  it("turns a variable with a description into a schema", async () => {
    const result = await parseFiles({
      "main.tf": `variable "A" {\n  description = "Testing!"\n}\n`,
    });
    expect(result.templateVariables).toEqual([]);
    expect(result.parameterSchemas).toEqual([schema({ name: "A", description: "Testing!" })]);
  });

  it("adds a DATA default source for a default", async () => {
    const result = await parseFiles({
      "main.tf": `variable "A" {\n  description = "Testing!"\n  default = "wow"\n}\n`,
    });
    expect(result.parameterSchemas).toEqual([
      schema({
        name: "A",
        description: "Testing!",
        defaultSource: { scheme: ParameterSource_Scheme.DATA, value: "wow" },
      }),
    ]);
  });

  it("takes the first validation block: exact condition text, error, HCL type system", async () => {
    const result = await parseFiles({
      "main.tf": `variable "A" {
  validation {
    condition     = var.A == "value"
    error_message = "must be value"
  }
  validation {
    condition     = length(var.A) > 1
    error_message = "second block is ignored"
  }
}
`,
    });
    expect(result.parameterSchemas).toEqual([
      schema({
        name: "A",
        validationCondition: 'var.A == "value"',
        validationError: "must be value",
        validationTypeSystem: ParameterSchema_TypeSystem.HCL,
      }),
    ]);
  });

  it("keeps multi-line condition source verbatim and reads contains() choices sorted", async () => {
    const result = await parseFiles({
      "main.tf": `variable "region" {
  default = "us-east1-a"
  validation {
    condition = contains([
      "us-east1-a",   # east
      "us-central1-a",
    ], var.region)
    error_message = "Unknown region."
  }
}
`,
    });
    const [region] = result.parameterSchemas;
    expect(region?.validationCondition).toBe(
      'contains([\n      "us-east1-a",   # east\n      "us-central1-a",\n    ], var.region)',
    );
    expect(region?.validationContains).toEqual(["us-central1-a", "us-east1-a"]);
    expect(region?.validationError).toBe("Unknown region.");
  });

  it("ignores a first validation block without a condition", async () => {
    const result = await parseFiles({
      "main.tf": `variable "A" {
  validation {
    error_message = "no condition"
  }
}
`,
    });
    expect(result.parameterSchemas[0]?.validationTypeSystem).toBe(ParameterSchema_TypeSystem.None);
    expect(result.parameterSchemas[0]?.validationError).toBe("");
  });

  it("marks sensitive variables as not redisplayed and not overridable", async () => {
    const result = await parseFiles({
      "main.tf": `variable "token" {\n  sensitive = true\n  default = "hunter2"\n}\n`,
    });
    expect(result.parameterSchemas).toEqual([
      schema({
        name: "token",
        redisplayValue: false,
        allowOverrideSource: false,
        defaultSource: { scheme: ParameterSource_Scheme.DATA, value: "hunter2" },
      }),
    ]);
  });
});

describe("parseTemplate: every variable type and default encoding", () => {
  const typed = `variable "s" {
  type    = string
  default = "text with \\"quotes\\""
}
variable "legacy_quoted" {
  type    = "string"
}
variable "n" {
  type    = number
  default = 1.50
}
variable "b" {
  type    = bool
  default = false
}
variable "l" {
  type    = list(string)
  default = ["a", "<b>"]
}
variable "m" {
  type    = map(number)
  default = { zeta = 1, alpha = 2 }
}
variable "o" {
  type = object({
    name = string # the name
    size = optional(number)
  })
  default = { name = "x", size = null }
}
variable "t" {
  type    = tuple([string, number])
  default = ["a", 1]
}
variable "a" {
  type    = any
  default = null
}
variable "untyped" {
  default = <<-EOT
    heredoc line
  EOT
}
`;

  it("renders types as source text and defaults as text (strings verbatim, rest JSON)", async () => {
    const result = await parseFiles({ "main.tf": typed });
    const rows = result.parameterSchemas.map((s) => [
      s.name,
      s.validationValueType,
      s.defaultSource?.value,
    ]);
    expect(rows).toEqual([
      ["s", "string", 'text with "quotes"'],
      ["legacy_quoted", "string", undefined],
      ["n", "number", "1.5"],
      ["b", "bool", "false"],
      ["l", "list(string)", '["a","\\u003cb\\u003e"]'],
      ["m", "map(number)", '{"alpha":2,"zeta":1}'],
      [
        "o",
        "object({\n    name = string # the name\n    size = optional(number)\n  })",
        '{"name":"x","size":null}',
      ],
      ["t", "tuple([string, number])", '["a",1]'],
      ["a", "any", undefined],
      ["untyped", "", "heredoc line\n"],
    ]);
  });

  it("gives managed template variables the same encodings, required when no default", async () => {
    const result = await parseFiles({ "main.tf": MANAGED + typed });
    expect(result.parameterSchemas).toEqual([]);
    const rows = result.templateVariables.map((v) => [v.name, v.type, v.defaultValue, v.required]);
    expect(rows).toEqual([
      ["s", "string", 'text with "quotes"', false],
      ["legacy_quoted", "string", "", true],
      ["n", "number", "1.5", false],
      ["b", "bool", "false", false],
      ["l", "list(string)", '["a","\\u003cb\\u003e"]', false],
      ["m", "map(number)", '{"alpha":2,"zeta":1}', false],
      [
        "o",
        "object({\n    name = string # the name\n    size = optional(number)\n  })",
        '{"name":"x","size":null}',
        false,
      ],
      ["t", "tuple([string, number])", '["a",1]', false],
      ["a", "any", "", true],
      ["untyped", "", "heredoc line\n", false],
    ]);
  });
});

describe("parseTemplate: managed template variables", () => {
  it("matches the reference example with a bool default and sensitive", async () => {
    const result = await parseFiles({
      "main.tf": `${MANAGED}variable "A" {
  description = "Testing!"
  type        = bool
  default     = true
  sensitive   = true
}
`,
    });
    expect(result.templateVariables).toEqual([
      TemplateVariable.create({
        name: "A",
        description: "Testing!",
        type: "bool",
        defaultValue: "true",
        required: false,
        sensitive: true,
      }),
    ]);
  });

  it("marks a variable without default as required with an empty default", async () => {
    const result = await parseFiles({
      "main.tf": `${MANAGED}variable "A" {\n  description = "Testing!"\n  type = string\n}\n`,
    });
    expect(result.templateVariables).toEqual([
      TemplateVariable.create({
        name: "A",
        description: "Testing!",
        type: "string",
        required: true,
      }),
    ]);
  });

  it("uses the flag of the first file (by name) that sets it", async () => {
    const result = await parseFiles({
      "a.tf": `provider "coder" {\n  feature_use_managed_variables = false\n}\n`,
      "b.tf": MANAGED,
      "vars.tf": `variable "x" {}\n`,
    });
    expect(result.templateVariables).toEqual([]);
    expect(result.parameterSchemas.map((s) => s.name)).toEqual(["x"]);
  });

  it("reads the flag from a .tf.json file too", async () => {
    const result = await parseFiles({
      "main.tf.json": JSON.stringify({
        provider: { coder: { feature_use_managed_variables: true } },
        variable: { x: { default: "y" } },
      }),
    });
    expect(result.templateVariables.map((v) => [v.name, v.defaultValue])).toEqual([["x", "y"]]);
  });

  it("rejects a flag that is not a boolean, naming the file and line", async () => {
    const error = await parseError({
      "main.tf": `\nprovider "coder" {\n  feature_use_managed_variables = var.x\n}\n`,
    });
    expect(error.message).toBe(
      'main.tf:2: provider "coder": feature_use_managed_variables must be true or false',
    );
  });
});

describe("parseTemplate: which files, in which order", () => {
  it("orders by file name then line, reads .tf.json, skips hidden/backup files and sub-dirs", async () => {
    const result = await parseFiles({
      "b.tf": `variable "b2" {}\n\n\nvariable "b1" {}\n`,
      "a.tf": `# comment\nvariable "a9" {}\nvariable "a1" {\n  default = "{ not a block }"\n}\n`,
      "c.tf.json": `{\n  "variable": {\n    "c2": {},\n    "c1": { "default": ["x"], "type": "list(string)" }\n  }\n}\n`,
      ".hidden.tf": `variable "hidden" {}\n`,
      "main.tf~": `variable "vim_backup" {}\n`,
      "#main.tf#": `variable "emacs_autosave" {}\n`,
      "notes.txt": `variable "not_terraform" {}\n`,
      "modules/child/main.tf": `variable "child" {}\n`,
    });
    expect(result.parameterSchemas.map((s) => s.name)).toEqual([
      "a9",
      "a1",
      "b2",
      "b1",
      "c2",
      "c1",
    ]);
    expect(result.parameterSchemas[5]?.defaultSource?.value).toBe('["x"]');
    expect(result.parameterSchemas[5]?.validationValueType).toBe("list(string)");
  });

  it("reads JSON validation blocks and strips the interpolation wrapper", async () => {
    const result = await parseFiles({
      "main.tf.json": JSON.stringify({
        variable: {
          region: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform JSON syntax
            validation: { condition: '${contains(["b", "a"], var.region)}', error_message: "bad" },
          },
        },
      }),
    });
    expect(result.parameterSchemas[0]?.validationCondition).toBe(
      'contains(["b", "a"], var.region)',
    );
    expect(result.parameterSchemas[0]?.validationContains).toEqual(["a", "b"]);
  });

  it("merges override files into the declaration they override, keeping its position", async () => {
    const result = await parseFiles({
      "main.tf": `variable "a" {\n  description = "base"\n  default = "1"\n}\nvariable "b" {}\n`,
      "override.tf": `variable "a" {\n  default = "2"\n  sensitive = true\n}\n`,
    });
    expect(result.parameterSchemas).toEqual([
      schema({
        name: "a",
        description: "base",
        defaultSource: { scheme: ParameterSource_Scheme.DATA, value: "2" },
        redisplayValue: false,
        allowOverrideSource: false,
      }),
      schema({ name: "b" }),
    ]);
  });

  it("returns nothing for a directory without variables", async () => {
    const result = await parseFiles({ "main.tf": `resource "terraform_data" "x" {}\n` });
    expect(result).toEqual({ templateVariables: [], parameterSchemas: [] });
  });
});

describe("parseTemplate: errors", () => {
  it("reports the reference's bad-syntax example as file:line: message", async () => {
    const error = await parseError({ "main.tf": "a;sd;ajsd;lajsd;lasjdf;a\n" });
    expect(error.message).toContain(
      'main.tf:1: Invalid character; The ";" character is not valid.',
    );
  });

  it("reports every diagnostic of every file, not just the first", async () => {
    const error = await parseError({
      "a.tf": `variable "x" {\n  default =\n}\n`,
      "b.tf": `variable "ok" {}\nvariable "bad" {\n  sensitive = 3\n}\n`,
      "c.tf.json": `{\n  "variable": {\n    "q": {,}\n  }\n}\n`,
      "d.tf": "a;b\n",
      "e.tf": `variable {}\n`,
    });
    const lines = error.message.split("\n");
    expect(lines[0]).toMatch(/^a\.tf:2: Invalid expression; /);
    expect(lines).toContain('b.tf:3: variable "bad": sensitive must be true or false');
    expect(lines).toContain("c.tf.json:3: expected a quoted object key");
    expect(lines.filter((l) => l.startsWith("d.tf:1: "))).toHaveLength(2);
    expect(lines).toContain(
      "e.tf:1: Missing name for variable: all variable blocks must have 1 label (name)",
    );
    expect(error.diagnostics).toHaveLength(lines.length);
  });

  it("rejects duplicate declarations across files and within a file", async () => {
    const error = await parseError({
      "a.tf": `variable "x" {}\n\nvariable "x" {}\n`,
      "b.tf": `variable "y" {}\n`,
      "c.tf": `\nvariable "y" {}\n`,
    });
    expect(error.message.split("\n")).toEqual([
      'a.tf:3: Duplicate variable declaration: a variable named "x" was already declared at a.tf:1; variable names must be unique within a module',
      'c.tf:2: Duplicate variable declaration: a variable named "y" was already declared at b.tf:1; variable names must be unique within a module',
    ]);
  });

  it("rejects an override of a variable that was never declared", async () => {
    const error = await parseError({ "x_override.tf": `variable "ghost" {}\n` });
    expect(error.message).toMatch(
      /^x_override\.tf:1: Missing base variable declaration to override/,
    );
  });

  it("rejects invalid variable names and attribute-form validation", async () => {
    const error = await parseError({
      "main.tf": `variable "1x" {}\nvariable "v" {\n  validation = { condition = true }\n}\n`,
    });
    expect(error.message.split("\n")).toEqual([
      'main.tf:1: Invalid variable name "1x": a name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes',
      'main.tf:3: variable "v": validation must be a block',
    ]);
  });

  it("rejects defaults that are not constant, as Terraform does", async () => {
    const error = await parseError({
      "main.tf": `variable "a" {\n  default = upper("x")\n}\nvariable "b" {\n  default = 1 + 2\n}\n`,
    });
    expect(error.message).toBe(
      'main.tf:2: variable "a": default must be a constant value (variables, function calls and references are not allowed here)',
    );
  });

  it("reports nesting too deep to parse as an error of that file, and keeps working", async () => {
    const deep = `${"[".repeat(20000)}${"]".repeat(20000)}`;
    const error = await parseError({ "main.tf": `locals {\n  deep = ${deep}\n}\n` });
    expect(error.message).toBe("main.tf: the file is nested too deeply to parse");
    const after = await parseFiles({ "main.tf": `variable "a" {\n  default = "x"\n}\n` });
    expect(after.parameterSchemas.map((s) => s.name)).toEqual(["a"]);
  });

  it("rejects files that are not UTF-8, naming the line", async () => {
    const dir = await makeTemplateDir({});
    dirs.push(dir);
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      `${dir.path}/main.tf`,
      Buffer.concat([
        Buffer.from('variable "a" {}\n# caf'),
        Buffer.from([0xe9]),
        Buffer.from("\n"),
      ]),
    );
    const error = await parseTemplate(dir.path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateParseError);
    expect((error as Error).message).toBe(
      "main.tf:2: Invalid UTF-8: the file is not valid UTF-8 text",
    );
  });

  it("fails clearly for a missing directory", async () => {
    const error = await parseTemplate("/nonexistent/template-dir").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateParseError);
    expect((error as Error).message).toBe(".: cannot read the template directory (ENOENT)");
  });

  it("stops when its signal is aborted", async () => {
    const dir = await makeTemplateDir({ "main.tf": `variable "a" {}\n` });
    dirs.push(dir);
    const controller = new AbortController();
    controller.abort(new Error("job cancelled"));
    await expect(parseTemplate(dir.path, { signal: controller.signal })).rejects.toThrow(
      "job cancelled",
    );
  });
});
