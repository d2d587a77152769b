// Input variables reach terraform through a var file, not `-var` (real terraform runs): no value
// in terraform's argv, and every value means what the same `-var` argument would have meant.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ParameterDestination_Scheme, WorkspaceTransition } from "../../src/provisioner/model.js";
import type { PlanRequest } from "../../src/provisioner/provisioner.js";
import { hclQuoted, parsesLiterally } from "../../src/terraform/var-file.js";
import {
  applyRequest,
  LogCollector,
  openTemplate,
  planRequest,
  provisionFailure,
  type Scratch,
  scratchProvisioner,
} from "./helpers/provisioner.js";

const { START } = WorkspaceTransition;
const noState = new Uint8Array();

const template = `
variable "s" {
  type = string
}
variable "n" {
  type = number
}
variable "b" {
  type = bool
}
variable "u" {
}
variable "l" {
  type = list(string)
}
variable "m" {
  type = map(number)
}
variable "o" {
  type = object({ a = string, b = list(number) })
}
variable "a" {
  type = any
}
output "all" {
  value = { s = var.s, n = var.n, b = var.b, u = var.u, l = var.l, m = var.m, o = var.o, a = var.a }
}
`;

const tricky =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template sequences, on purpose
  'q"uo\\te\\\\ ${var.s} %{ if true }x%{ endif } $${ %%{ $$${ $ % {\nline2\r\n\tend\u0001 é';

/** Value sets, each given both ways: to the provisioner and as `-var` to plain terraform. */
const cases: Array<[string, Record<string, string>]> = [
  [
    "strings with quotes, backslashes, newlines and template sequences",
    {
      s: tricky,
      n: "42",
      b: "true",
      u: tricky,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template sequences, on purpose
      l: '["a", "b\\"c", "${"x"}"]',
      m: '{ one = 1, "two" = 2 }',
      o: '{ a = "x", b = [1, 2] }',
      a: '{ k = ["v"] }',
    },
  ],
  [
    "values that look like expressions stay strings where -var reads literally; JSON text works",
    {
      s: '["not", "a", "list"]',
      n: "-1.25",
      b: "false",
      u: "{ a = 1 }",
      l: '\n[\n  "multi",\n  "line"\n]\n',
      m: '{"json": 7}',
      o: '{"a": "j", "b": []}',
      a: '"just a string"',
    },
  ],
  [
    "empty strings and a heredoc",
    {
      s: "",
      n: "0",
      b: "false",
      u: "",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template sequences, on purpose
      l: '[<<EOT\nhere ${"doc"}\nEOT\n]',
      m: "{}",
      o: '{ a = "", b = [0] }',
      a: "null",
    },
  ],
];

let scratch: Scratch;
let realTerraform: string;
let wrapperDir: string;
let argvLog: string;
beforeAll(() => {
  realTerraform = execFileSync("sh", ["-c", "command -v terraform"], { encoding: "utf8" }).trim();
  wrapperDir = mkdtempSync(join(tmpdir(), "tf-var-file-test-"));
  argvLog = join(wrapperDir, "argv.log");
  // Records every argv terraform is started with (NUL-separated, one line per run).
  const wrapper = join(wrapperDir, "terraform");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nprintf '%s\\0' "$@" >> '${argvLog}'\nprintf '\\n' >> '${argvLog}'\nexec '${realTerraform}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  scratch = scratchProvisioner({ terraformPath: wrapper });
});
afterAll(() => {
  scratch.cleanup();
  rmSync(wrapperDir, { recursive: true, force: true });
});

const open = (files: Record<string, string>) => openTemplate(scratch, files, "job-vars");

const failure = provisionFailure;

/** Plans and applies through the provisioner; the `all` output from the state. */
async function viaProvisioner(extra: Partial<PlanRequest>): Promise<unknown> {
  const session = await open({ "main.tf": template });
  try {
    const plan = await session.plan(planRequest(START, noState, new LogCollector(), extra));
    const applied = await session.apply(
      applyRequest(START, noState, plan.plan, new LogCollector()),
    );
    return JSON.parse(new TextDecoder().decode(applied.state)).outputs.all.value;
  } finally {
    await session.close();
  }
}

/** The same with plain `terraform apply -var name=value ...`: the reference behaviour. */
function viaDashVar(values: Record<string, string>): unknown {
  const dir = mkdtempSync(join(tmpdir(), "tf-dash-var-"));
  try {
    writeFileSync(join(dir, "main.tf"), template);
    const vars = Object.entries(values).flatMap(([k, v]) => ["-var", `${k}=${v}`]);
    const env = { ...process.env, TF_IN_AUTOMATION: "1" };
    for (const args of [
      ["init", "-input=false", "-no-color"],
      ["apply", "-input=false", "-no-color", "-auto-approve", ...vars],
    ]) {
      const run = spawnSync(realTerraform, args, { cwd: dir, env, encoding: "utf8" });
      if (run.status !== 0) throw new Error(`terraform ${args[0]}: ${run.stderr}`);
    }
    const state = JSON.parse(readFileSync(join(dir, "terraform.tfstate"), "utf8"));
    return state.outputs.all.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("input variables through a var file", () => {
  it.each(cases)("%s: the state holds what -var gives", async (_, values) => {
    const variableValues = Object.entries(values).map(([name, value]) => ({
      name,
      value,
      sensitive: true,
    }));
    const got = await viaProvisioner({ variableValues });
    expect(got).toEqual(viaDashVar(values));
  });

  it("string, number, bool and untyped values arrive byte for byte", async () => {
    const values = { ...cases[0]?.[1], n: "1e3", b: "true" } as Record<string, string>;
    const got = (await viaProvisioner({
      variableValues: Object.entries(values).map(([name, value]) => ({
        name,
        value,
        sensitive: false,
      })),
    })) as Record<string, unknown>;
    expect(got.s).toBe(tricky);
    expect(got.u).toBe(tricky);
    expect(got.n).toBe(1000);
    expect(got.b).toBe(true);
    expect(got.l).toEqual(["a", 'b"c', "x"]);
    expect(got.m).toEqual({ one: 1, two: 2 });
    expect(got.o).toEqual({ a: "x", b: [1, 2] });
  });

  it("legacy PROVISIONER_VARIABLE parameters go the same way", async () => {
    const values: Record<string, string> = { ...cases[1]?.[1], s: tricky };
    const got = await viaProvisioner({
      parameterValues: Object.entries(values).map(([name, value]) => ({
        name,
        value,
        sensitive: true,
        destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
      })),
    });
    expect(got).toEqual(viaDashVar(values));
  });

  it("no value reaches terraform's argv; the var file is gone after the plan", async () => {
    writeFileSync(argvLog, "");
    const secret = "argv-secret-4f1c9a";
    const values = { ...cases[0]?.[1], s: secret, u: `${secret}-u`, l: `["${secret}-l"]` };
    const session = await open({ "main.tf": template });
    try {
      await session.plan(
        planRequest(START, noState, new LogCollector(), {
          variableValues: Object.entries(values).map(([name, value]) => ({
            name,
            value,
            sensitive: true,
          })),
        }),
      );
      const runs = readFileSync(argvLog, "utf8")
        .split("\n")
        .filter((r) => r !== "")
        .map((r) => r.split("\0").filter((a) => a !== ""));
      const plan = runs.find((args) => args[0] === "plan");
      expect(plan).toBeDefined();
      expect(plan?.filter((a) => a === "-var")).toEqual([]);
      expect(plan?.some((a) => a.startsWith("-var-file="))).toBe(true);
      for (const args of runs) expect(args.join(" ")).not.toContain(secret);
      const varFile = plan?.find((a) => a.startsWith("-var-file="))?.slice("-var-file=".length);
      expect(varFile?.startsWith(session.directory)).toBe(true);
      expect(() => readFileSync(varFile as string)).toThrow(/ENOENT/);
    } finally {
      await session.close();
    }
  });

  it("a value for an undeclared variable still fails the plan, naming it", async () => {
    const session = await open({ "main.tf": template });
    try {
      const variableValues = [
        ...Object.entries(cases[0]?.[1] ?? {}).map(([name, value]) => ({
          name,
          value,
          sensitive: false,
        })),
        { name: "nope", value: "x", sensitive: false },
      ];
      const error = await failure(
        session.plan(planRequest(START, noState, new LogCollector(), { variableValues })),
      );
      expect(error.code).toBe("PARAMETERS");
      expect(error.message).toContain('undeclared variable: a variable named "nope"');
    } finally {
      await session.close();
    }
  });

  it("an HCL-mode value that is more than one expression fails as it does with -var", async () => {
    const values = { ...cases[0]?.[1], l: '["a"])\ns = ("injected"' } as Record<string, string>;
    expect(() => viaDashVar(values)).toThrow();
    const session = await open({ "main.tf": template });
    try {
      const error = await failure(
        session.plan(
          planRequest(START, noState, new LogCollector(), {
            variableValues: Object.entries(values).map(([name, value]) => ({
              name,
              value,
              sensitive: true,
            })),
          }),
        ),
      );
      expect(error.code).toBe("PARAMETERS");
      expect(error.message).toContain('variable "l" is not a valid HCL expression');
      expect(error.message).not.toContain("injected");
    } finally {
      await session.close();
    }
  });
});

describe("var file text", () => {
  it("reads values literally exactly for untyped and primitive types, as -var does", () => {
    for (const t of ["", "string", "number", "bool", " string "]) {
      expect(parsesLiterally(t)).toBe(true);
    }
    for (const t of ["any", "list(string)", "map(any)", "object({a=string})", "set(number)"]) {
      expect(parsesLiterally(t)).toBe(false);
    }
  });

  it("quotes every special sequence", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template sequences, on purpose
    expect(hclQuoted('a"b\\c\n${x}%{y}\u0001')).toBe('"a\\"b\\\\c\\n$${x}%%{y}\\u0001"');
  });
});
