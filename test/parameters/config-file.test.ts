// One reader decides what a `.tf` file means: the native parser. HashiCorp's parser
// (WebAssembly) is asked only to word the errors of a file the native parser rejected, and never
// for a valid file. To show the split, the native parser is made to reject one valid file, as a
// gap in it would.
import { describe, expect, it, vi } from "vitest";
import { readHclConfig } from "../../src/parameters/config-file.js";
import * as wasm from "../../src/parameters/hcl-parser.js";

const GAP = "# the native parser rejects this file";

vi.mock("../../src/parameters/hcl-native.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/parameters/hcl-native.js")>();
  return {
    ...actual,
    parseHclNative: (source: string) => {
      if (source.includes(GAP)) throw new actual.HclNativeSyntaxError(2, "native parser's words");
      return actual.parseHclNative(source);
    },
  };
});

vi.mock("../../src/parameters/hcl-parser.js", { spy: true });

const file = { name: "main.tf", syntax: "hcl", override: false } as const;

describe("readHclConfig: the native parser decides, HashiCorp's parser words errors", () => {
  it("never reads a file's variables from HashiCorp's parser, even where it accepts the file", async () => {
    const source = `${GAP}\nvariable "x" {\n  default = "y"\n}\n`;
    expect((await wasm.parseHcl(source)).ok).toBe(true);
    expect(await readHclConfig(file, source)).toEqual({
      variables: [],
      diagnostics: [{ file: "main.tf", line: 2, message: "native parser's words" }],
    });
  });

  it("gives HCL's own words for a file both reject", async () => {
    const result = await readHclConfig(file, `variable "x" {\n  default =\n}\n`);
    expect(result.variables).toEqual([]);
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ file: "main.tf", line: 2 });
    expect(result.diagnostics[0]?.message).toMatch(
      /^Invalid expression; Expected the start of an expression/,
    );
  });

  it("does not ask HashiCorp's parser about a valid file", async () => {
    vi.mocked(wasm.parseHcl).mockClear();
    const result = await readHclConfig(file, `variable "x" {\n  default = ["a", "b"][1]\n}\n`);
    expect(result.variables.map((v) => [v.name, v.default])).toEqual([["x", { value: "b" }]]);
    expect(wasm.parseHcl).not.toHaveBeenCalled();
  });
});
