import { describe, expect, it } from "vitest";
import { LogLevel } from "../../src/proto/provisioner.js";
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
