// The log/cancel fixture: configurable output volume and a sleep that an interrupt ends.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { initializedTemplate, type Workdir } from "./terraform.js";

interface ProvisionProgress {
  type: string;
  hook?: { provisioner?: string; output?: string };
}

describe("slow-and-chatty template", () => {
  let wd: Workdir;
  beforeAll(async () => {
    wd = await initializedTemplate("slow-and-chatty");
  });
  afterAll(() => wd?.dispose());

  it("prints the configured number of lines from local-exec at apply", async () => {
    const out = await wd.ok(["apply", "-input=false", "-json", "-auto-approve", "-var=lines=5"]);
    const lines = out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as ProvisionProgress)
      .filter((m) => m.type === "provision_progress" && m.hook?.provisioner === "local-exec")
      .map((m) => m.hook?.output)
      .filter((line) => !line?.startsWith("Executing: "));
    expect(lines).toEqual([
      "chatty line 1 of 5",
      "chatty line 2 of 5",
      "chatty line 3 of 5",
      "chatty line 4 of 5",
      "chatty line 5 of 5",
      "sleeping 0s",
    ]);
    const state = await wd.showJson();
    expect(state.values?.outputs?.lines?.value).toBe(5);
  });

  it("prints again on the next apply (the resource is replaced every time)", async () => {
    const out = await wd.ok([
      "apply",
      "-input=false",
      "-no-color",
      "-auto-approve",
      "-var=lines=2",
    ]);
    expect(out).toContain("terraform_data.chatty must be replaced");
    expect(out).toContain("(local-exec): chatty line 2 of 2");
    await wd.ok(["apply", "-destroy", "-input=false", "-no-color", "-auto-approve"]);
  });

  it("stops sleeping when terraform is interrupted", async () => {
    const tf = await getOfflineTerraform();
    const child = spawn(
      "terraform",
      [
        "apply",
        "-input=false",
        "-no-color",
        "-auto-approve",
        "-var=lines=3",
        "-var=sleep_seconds=600",
      ],
      { cwd: wd.dir, env: { ...process.env, ...tf.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const sleeping = new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("(local-exec): sleeping 600s")) resolve();
      });
      void exited.then(() => reject(new Error(`terraform exited before sleeping:\n${output}`)));
    });
    await sleeping;
    expect(output).toContain("chatty line 3 of 3");
    child.kill("SIGINT");
    // Without `exec sleep` in the template the orphaned sleep would hold the output pipe and
    // this would not return before the test times out.
    const [code] = await exited;
    expect(code).toBe(1);
    expect(output).toContain("Interrupt received");
  });
});
