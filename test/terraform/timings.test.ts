// Stage and resource timings from real terraform runs: every stage a call ran, and each resource
// action terraform's `-json` output reports, with real start and end times.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Timing, TimingState, WorkspaceTransition } from "../../src/provisioner/model.js";
import { nowMicros, TimingRecorder, timestampMicros } from "../../src/terraform/timings.js";
import { templatePath } from "../helpers/templates.js";
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
const { COMPLETED, FAILED } = TimingState;

/** What identifies a timing, without its times. */
const what = (t: Timing) => ({
  stage: t.stage,
  resource: t.resource,
  action: t.action,
  source: t.source,
  state: t.state,
});

describe("timing recorder", () => {
  it("reads terraform's timestamps to the microsecond, offsets included", () => {
    expect(timestampMicros("2026-11-27T15:47:20.912216Z")).toBe(
      Date.parse("2026-11-27T15:47:20Z") * 1000 + 912_216,
    );
    expect(timestampMicros("2026-11-27T17:47:20.5+02:00")).toBe(
      Date.parse("2026-11-27T15:47:20Z") * 1000 + 500_000,
    );
    expect(timestampMicros("yesterday")).toBeUndefined();
  });

  it("pairs a resource's start with its end; a span that never ended is left out", () => {
    const recorder = new TimingRecorder();
    const hook = (type: string, at: string, addr: string, action?: string) =>
      JSON.stringify({
        "@timestamp": `2026-11-27T15:00:${at}Z`,
        type,
        hook: { resource: { addr, implied_provider: "null" }, ...(action ? { action } : {}) },
      });
    recorder.line("apply", hook("apply_start", "01.000001", "null_resource.a", "create"));
    recorder.line("apply", hook("apply_start", "01.5", "null_resource.b", "create"));
    recorder.line("apply", hook("apply_errored", "03.25", "null_resource.a", "create"));
    recorder.line("apply", "not json");
    const base = Date.parse("2026-11-27T15:00:00Z") * 1000;
    expect(recorder.timings()).toEqual([
      {
        startUs: base + 1_000_001,
        endUs: base + 3_250_000,
        action: "create",
        source: "null",
        resource: "null_resource.a",
        stage: "apply",
        state: FAILED,
      },
    ]);
  });
});

describe("timings with real terraform", () => {
  let scratch: Scratch;
  beforeAll(() => {
    scratch = scratchProvisioner();
  });
  afterAll(() => scratch.cleanup());

  // Two terraform_data resources, the second with a local-exec provisioner (no sleep here).
  const fixture = {
    "main.tf": readFileSync(join(templatePath("created-then-slow"), "main.tf"), "utf8"),
  };
  const variableValues = [{ name: "sleep_seconds", value: "0", sensitive: false }];

  it("plan, apply and a second plan report each stage and each resource action", async () => {
    const session = await openTemplate(scratch, fixture, "job-timings");
    try {
      const planned: Timing[] = [];
      const before = nowMicros();
      const plan = await session.plan(
        planRequest(START, noState, new LogCollector(), {
          variableValues,
          onTimings: (t) => void planned.push(...t),
        }),
      );
      const applied: Timing[] = [];
      const result = await session.apply(
        applyRequest(START, noState, plan.plan, new LogCollector(), {
          onTimings: (t) => void applied.push(...t),
        }),
      );
      const refreshed: Timing[] = [];
      await session.plan(
        planRequest(START, result.state, new LogCollector(), {
          variableValues,
          onTimings: (t) => void refreshed.push(...t),
        }),
      );
      const after = nowMicros();

      const stage = (name: string) => ({
        stage: name,
        resource: `coder_stage_${name}`,
        action: "terraform",
        source: "coder",
        state: COMPLETED,
      });
      const graph = {
        stage: "graph",
        resource: "state file",
        action: "building terraform dependency graph",
        source: "terraform",
        state: COMPLETED,
      };
      const resource = (stageName: string, address: string, action: string) => ({
        stage: stageName,
        resource: address,
        action,
        source: "terraform",
        state: COMPLETED,
      });
      // The first plan initializes the work dir; a fresh plan refreshes nothing.
      expect(planned.map(what)).toEqual([stage("init"), stage("plan"), graph, stage("graph")]);
      expect(applied.map(what)).toEqual(
        expect.arrayContaining([
          stage("apply"),
          graph,
          stage("graph"),
          resource("apply", "terraform_data.first", "create"),
          resource("apply", "terraform_data.slow", "create"),
          resource("apply", "terraform_data.slow", "provision"),
        ]),
      );
      expect(applied).toHaveLength(6);
      // With state, the plan refreshes each resource; init is not run again.
      expect(refreshed.map(what)).toEqual(
        expect.arrayContaining([
          stage("plan"),
          resource("plan", "terraform_data.first", "state refresh"),
          resource("plan", "terraform_data.slow", "state refresh"),
        ]),
      );
      expect(refreshed.map((t) => t.stage)).not.toContain("init");

      for (const t of [...planned, ...applied, ...refreshed]) {
        expect(t.startUs, `${t.stage} ${t.resource}`).toBeGreaterThanOrEqual(before - 1_000_000);
        expect(t.endUs, `${t.stage} ${t.resource}`).toBeGreaterThanOrEqual(t.startUs);
        expect(t.endUs, `${t.stage} ${t.resource}`).toBeLessThanOrEqual(after + 1_000_000);
      }
      // A resource's creation lies within the apply stage that ran it.
      const applyStage = applied.find((t) => t.resource === "coder_stage_apply") as Timing;
      const created = applied.find((t) => t.resource === "terraform_data.first") as Timing;
      expect(created.startUs).toBeGreaterThanOrEqual(applyStage.startUs - 1_000_000);
      expect(created.endUs).toBeLessThanOrEqual(applyStage.endUs + 1_000_000);
    } finally {
      await session.close();
    }
  });

  it("a failed apply still reports its timings: the stage and the resource as FAILED", async () => {
    const session = await openTemplate(
      scratch,
      {
        "main.tf": `
resource "terraform_data" "bad" {
  provisioner "local-exec" {
    command = "exit 3"
  }
}
`,
      },
      "job-timings-fail",
    );
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      const applied: Timing[] = [];
      const error = await provisionFailure(
        session.apply(
          applyRequest(START, noState, plan.plan, new LogCollector(), {
            onTimings: (t) => void applied.push(...t),
          }),
        ),
      );
      expect(error.code).toBe("TERRAFORM");
      expect(applied.map(what)).toEqual(
        expect.arrayContaining([
          {
            stage: "apply",
            resource: "coder_stage_apply",
            action: "terraform",
            source: "coder",
            state: FAILED,
          },
          {
            stage: "apply",
            resource: "terraform_data.bad",
            action: "provision",
            source: "terraform",
            state: FAILED,
          },
        ]),
      );
    } finally {
      await session.close();
    }
  });
});
