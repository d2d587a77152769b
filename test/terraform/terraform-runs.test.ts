// How many times a workspace build starts terraform, counted by a wrapper given as the
// terraform path. Each start loads every provider of the template, so a new one is a slowdown
// for every user: this test fails when the count grows.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { templateTar } from "../helpers/templates.js";
import {
  applyRequest,
  LogCollector,
  planRequest,
  type Scratch,
  scratchProvisioner,
} from "./helpers/provisioner.js";

const { START, STOP } = WorkspaceTransition;
const noState = new Uint8Array();

let tmp: string;
let countFile: string;
let wrapper: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "terraform-runs-"));
  countFile = join(tmp, "runs");
  wrapper = join(tmp, "terraform");
  const real = (await execa("sh", ["-c", "command -v terraform"])).stdout.trim();
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${countFile}'\nexec '${real}' "$@"\n`);
  chmodSync(wrapper, 0o755);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The terraform subcommands started since the last call. */
function runsSince(): string[] {
  let text = "";
  try {
    text = readFileSync(countFile, "utf8");
  } catch {}
  rmSync(countFile, { force: true });
  return text.split("\n").filter((line) => line !== "");
}

async function build(scratch: Scratch, archive: Uint8Array): Promise<void> {
  const session = await scratch.provisioner.open({
    archive,
    jobId: "runs",
    slot: 0,
    signal: new AbortController().signal,
  });
  try {
    const plan = await session.plan(planRequest(START, noState, new LogCollector()));
    expect(plan.resources.map((r) => r.agents.length)).toEqual([1]);
    const applied = await session.apply(
      applyRequest(START, noState, plan.plan, new LogCollector()),
    );
    expect(applied.resources.map((r) => r.agents.length)).toEqual([1]);
  } finally {
    await session.close();
  }
}

describe("terraform starts per workspace build", { timeout: 300_000 }, () => {
  it("first build of a template version: init, plan, show, apply; the next: plan, show, apply", async () => {
    const tf = await getOfflineTerraform();
    const scratch = scratchProvisioner({ providerMirror: tf.mirrorDir, terraformPath: wrapper });
    try {
      const archive = templateTar("minimal");
      await scratch.provisioner.binary();
      expect(runsSince()).toEqual(["version"]);
      await build(scratch, archive);
      expect(runsSince()).toEqual(["init", "plan", "show", "apply"]);
      await build(scratch, archive);
      expect(runsSince()).toEqual(["plan", "show", "apply"]);

      // The reference's commands, kept behind outputSource=terraform: three more per build.
      const reference = scratchProvisioner({
        providerMirror: tf.mirrorDir,
        terraformPath: wrapper,
        outputSource: "terraform",
        reuseInit: false,
      });
      try {
        await build(reference, archive);
        expect(runsSince()).toEqual([
          "version",
          "init",
          "plan",
          "show",
          "graph",
          "apply",
          "show",
          "graph",
        ]);
      } finally {
        reference.cleanup();
      }
    } finally {
      scratch.cleanup();
    }
  });

  it("a template import's two plans side by side: one init, the STOP plan in its own work dir", async () => {
    const tf = await getOfflineTerraform();
    const scratch = scratchProvisioner({
      providerMirror: tf.mirrorDir,
      terraformPath: wrapper,
      sideBySidePlans: "always",
    });
    try {
      const session = await scratch.provisioner.open({
        archive: templateTar("minimal"),
        jobId: "import",
        slot: 0,
        signal: new AbortController().signal,
      });
      const side = await session.fork?.();
      if (side === undefined) throw new Error("no fork with sideBySidePlans=always");
      try {
        expect(side.directory).not.toBe(session.directory);
        // A fork does not fork again.
        expect(await side.fork?.()).toBeUndefined();
        runsSince();
        const [start, stop] = await Promise.all([
          session.plan(planRequest(START, noState, new LogCollector())),
          side.plan(planRequest(STOP, noState, new LogCollector())),
        ]);
        expect(start.resources.map((r) => r.agents.length)).toEqual([1]);
        // minimal counts its machine by start_count: none when stopped.
        expect(stop.resources).toEqual([]);
        expect(runsSince().sort()).toEqual(["init", "plan", "plan", "show", "show"]);
      } finally {
        await side.close();
        await session.close();
      }
      expect(scratch.workDirs()).toEqual([]);
      const sequential = scratchProvisioner({
        providerMirror: tf.mirrorDir,
        sideBySidePlans: "never",
      });
      try {
        const session = await sequential.provisioner.open({
          archive: templateTar("minimal"),
          jobId: "import",
          slot: 0,
          signal: new AbortController().signal,
        });
        expect(await session.fork?.()).toBeUndefined();
        await session.close();
      } finally {
        sequential.cleanup();
      }
    } finally {
      scratch.cleanup();
    }
  });
});
