// Runs once before the suite: fail fast, with one clear message, when terraform is missing; then
// build the test coder provider's filesystem mirror once for every worker (see
// test/helpers/offline-terraform.ts) and remove it when the run ends.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { createProviderMirror } from "./fixtures/coder-provider/mirror.js";
import { mirrorPaths } from "./helpers/offline-terraform.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    execFileSync("terraform", ["version"], {
      stdio: "ignore",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    });
  } catch {
    throw new Error("terraform is not on PATH: the test suite runs the real terraform binary");
  }

  const dir = await mkdtemp(join(tmpdir(), "provisionerd-test-mirror-"));
  const paths = mirrorPaths(await createProviderMirror(dir));
  project.provide("offlineTerraform", paths);
  return () => rm(dir, { recursive: true, force: true });
}
