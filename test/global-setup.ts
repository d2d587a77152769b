// Runs once before the suite: fail fast, with one clear message, when terraform is missing.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  try {
    execFileSync("terraform", ["version"], {
      stdio: "ignore",
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    });
  } catch {
    throw new Error("terraform is not on PATH: the test suite runs the real terraform binary");
  }
}
