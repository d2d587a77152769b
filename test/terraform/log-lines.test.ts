import { describe, expect, it } from "vitest";
import { LogLevel } from "../../src/provisioner/model.js";
import { convertJsonLogLine, convertLogLevel } from "../../src/terraform/log-lines.js";

const json = (value: object) => JSON.stringify(value);

describe("convertJsonLogLine", () => {
  it("maps @level and @message", () => {
    expect(
      convertJsonLogLine(
        json({
          "@level": "info",
          "@message": "terraform_data.a: Creating...",
          type: "apply_start",
        }),
      ),
    ).toEqual([{ level: LogLevel.INFO, output: "terraform_data.a: Creating..." }]);
  });

  it("adds the diagnostic detail, one line per line, at the diagnostic's level", () => {
    const logs = convertJsonLogLine(
      json({
        "@level": "error",
        "@message": "Error: Invalid reference",
        type: "diagnostic",
        diagnostic: {
          severity: "error",
          summary: "Invalid reference",
          detail:
            "A reference to a resource type must be followed by\nat least one attribute access.",
        },
      }),
    );
    expect(logs).toEqual([
      { level: LogLevel.ERROR, output: "Error: Invalid reference" },
      { level: LogLevel.ERROR, output: "A reference to a resource type must be followed by" },
      { level: LogLevel.ERROR, output: "at least one attribute access." },
    ]);
  });

  it("maps diagnostic severity warning to WARN without the reference's extra line (quirk 3)", () => {
    const logs = convertJsonLogLine(
      json({
        "@level": "warn",
        "@message": "Warning: Deprecated attribute",
        diagnostic: { severity: "warning", summary: "Deprecated attribute", detail: "Use x." },
      }),
    );
    expect(logs).toEqual([
      { level: LogLevel.WARN, output: "Warning: Deprecated attribute" },
      { level: LogLevel.WARN, output: "Use x." },
    ]);
  });

  it("puts the diagnostic's file and line in its first line, then the source lines it points at", () => {
    // As terraform 1.11 prints it for a variable default its validation refuses.
    const line =
      '{"@level":"error","@message":"Error: Invalid value for variable","@module":"terraform.ui","diagnostic":{"severity":"error","summary":"Invalid value for variable","detail":"Unsupported region.\\n\\nThis was checked by the validation rule at main.tf:15,3-13.","range":{"filename":"main.tf","start":{"line":13,"column":1,"byte":0},"end":{"line":13,"column":18,"byte":17}},"snippet":{"context":null,"code":"variable \\"region\\" {","start_line":13,"highlight_start_offset":0,"highlight_end_offset":17,"values":[{"traversal":"var.region","statement":"is \\"mars\\""}]}},"type":"diagnostic"}';
    expect(convertJsonLogLine(line)).toEqual([
      { level: LogLevel.ERROR, output: "Error: main.tf:13: Invalid value for variable" },
      { level: LogLevel.ERROR, output: '  13: variable "region" {' },
      { level: LogLevel.ERROR, output: '    var.region is "mars"' },
      { level: LogLevel.ERROR, output: "Unsupported region." },
      { level: LogLevel.ERROR, output: "" },
      {
        level: LogLevel.ERROR,
        output: "This was checked by the validation rule at main.tf:15,3-13.",
      },
    ]);
  });

  it("names the variable, never the value, when a diagnostic points into the plan's var file", () => {
    const logs = convertJsonLogLine(
      json({
        "@level": "error",
        "@message": "Error: Invalid value for variable",
        diagnostic: {
          severity: "error",
          summary: "Invalid value for variable",
          detail: "Token too short.",
          range: { filename: "/work/job-1/provisionerd-inputs.tfvars", start: { line: 2 } },
          snippet: {
            context: null,
            code: 'api_token = "0"',
            start_line: 2,
            values: [{ traversal: "var.api_token", statement: 'is "0"' }],
          },
        },
      }),
    );
    expect(logs).toEqual([
      { level: LogLevel.ERROR, output: 'Error: variable "api_token": Invalid value for variable' },
      { level: LogLevel.ERROR, output: "Token too short." },
    ]);
  });

  it("keeps a line whose location or snippet is malformed, without them", () => {
    const logs = convertJsonLogLine(
      json({
        "@level": "error",
        "@message": "Error: Bad",
        diagnostic: { severity: "error", summary: "Bad", range: { filename: 3 }, snippet: "x" },
      }),
    );
    expect(logs).toEqual([{ level: LogLevel.ERROR, output: "Error: Bad" }]);
  });

  it("keeps the reference's notice for levels it really does not know", () => {
    expect(convertJsonLogLine(json({ "@level": "loud", "@message": "hi" }))).toEqual([
      { level: LogLevel.WARN, output: "unable to convert log level loud" },
      { level: LogLevel.INFO, output: "hi" },
    ]);
  });

  it("passes non-JSON lines through at INFO and drops blank ones", () => {
    expect(convertJsonLogLine("Acquiring state lock. This may take a few moments...")).toEqual([
      { level: LogLevel.INFO, output: "Acquiring state lock. This may take a few moments..." },
    ]);
    expect(convertJsonLogLine("   ")).toEqual([]);
    expect(convertJsonLogLine('{"not": "a log line"}')).toEqual([
      { level: LogLevel.INFO, output: '{"not": "a log line"}' },
    ]);
    expect(convertJsonLogLine("{broken json")).toEqual([
      { level: LogLevel.INFO, output: "{broken json" },
    ]);
  });

  it("converts levels case-insensitively", () => {
    expect(convertLogLevel("TRACE")).toBe(LogLevel.TRACE);
    expect(convertLogLevel("Debug")).toBe(LogLevel.DEBUG);
    expect(convertLogLevel("warn")).toBe(LogLevel.WARN);
    expect(convertLogLevel("Warning")).toBe(LogLevel.WARN);
    expect(convertLogLevel("ERROR")).toBe(LogLevel.ERROR);
    expect(convertLogLevel("fatal")).toBeUndefined();
  });
});
