// A build asked for with a log level (coderd sends "debug") gets terraform's own log in the job's
// log, each line at terraform's level; other builds do not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogLevel, WorkspaceTransition } from "../../src/provisioner/model.js";
import { convertStderrLine } from "../../src/terraform/log-lines.js";
import {
  applyRequest,
  LogCollector,
  metadata,
  openTemplate,
  planRequest,
  type Scratch,
  scratchProvisioner,
} from "./helpers/provisioner.js";

const { START } = WorkspaceTransition;

describe("terraform's stderr lines", () => {
  it("its JSON log lines keep their level; anything else is an error", () => {
    expect(
      convertStderrLine(
        '{"@level":"debug","@message":"using hcl","@timestamp":"2026-01-01T00:00:00Z"}',
      ),
    ).toEqual([{ level: LogLevel.DEBUG, output: "using hcl" }]);
    expect(convertStderrLine('{"@level":"trace","@message":"a\\nb"}')).toEqual([
      { level: LogLevel.TRACE, output: "a" },
      { level: LogLevel.TRACE, output: "b" },
    ]);
    expect(convertStderrLine("Error: no such file")).toEqual([
      { level: LogLevel.ERROR, output: "Error: no such file" },
    ]);
    expect(convertStderrLine('{"not":"a log line"}')).toEqual([
      { level: LogLevel.ERROR, output: '{"not":"a log line"}' },
    ]);
    expect(convertStderrLine("  ")).toEqual([]);
  });
});

describe("log level with real terraform", () => {
  let scratch: Scratch;
  beforeAll(() => {
    scratch = scratchProvisioner();
  });
  afterAll(() => scratch.cleanup());

  const template = { "main.tf": 'resource "terraform_data" "box" {\n  input = "x"\n}\n' };
  const noState = new Uint8Array();
  const isTerraformDebug = (l: { level: LogLevel; output: string }) =>
    l.level === LogLevel.DEBUG && l.output.startsWith("using github.com/hashicorp/");

  it("debug: plan and apply log terraform's internals, each line at terraform's level", async () => {
    const session = await openTemplate(scratch, template, "job-debug");
    try {
      const config = { metadata: metadata(START), state: noState, logLevel: "debug" };
      const planLogs = new LogCollector();
      const plan = await session.plan(planRequest(START, noState, planLogs, { config }));
      const applyLogs = new LogCollector();
      await session.apply(applyRequest(START, noState, plan.plan, applyLogs, { config }));
      for (const logs of [planLogs, applyLogs]) {
        expect(logs.logs).toContainEqual({
          level: LogLevel.INFO,
          output: expect.stringMatching(/^Terraform version: \d+\.\d+\.\d+/),
        });
        expect(logs.logs.some(isTerraformDebug)).toBe(true);
        expect(logs.logs.some((l) => l.level === LogLevel.TRACE)).toBe(true);
        // No raw JSON log line leaks through as text.
        expect(logs.text()).not.toContain('"@level"');
      }
      expect(applyLogs.text()).toContain("Apply complete!");
    } finally {
      await session.close();
    }
  });

  it("without a log level: no terraform internals", async () => {
    const session = await openTemplate(scratch, template, "job-quiet");
    try {
      const logs = new LogCollector();
      await session.plan(planRequest(START, noState, logs));
      expect(logs.logs.some(isTerraformDebug)).toBe(false);
      expect(logs.logs.some((l) => l.level === LogLevel.TRACE)).toBe(false);
    } finally {
      await session.close();
    }
  });
});
