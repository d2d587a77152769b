// `provisionerd build` end to end with the real binary, real terraform and the test coder
// provider from an offline filesystem mirror: start → stop → delete through one state file,
// --json checked field by field, the human output, and missing or bad values.
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { processesWithArgument } from "../terraform/helpers/processes.js";
import { ensureBuilt, onceStdoutShows, provisionerd, ROOT } from "./cli-binary.js";

const BUILD_TIMEOUT = 180_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-build-"));
const mirrorDir = path.join(tmp, "mirror");
const common = [
  "--provider-mirror",
  mirrorDir,
  "--work-dir",
  path.join(tmp, "work"),
  "--cache-dir",
  path.join(tmp, "cache"),
];

beforeAll(async () => {
  await Promise.all([ensureBuilt(), createProviderMirror(mirrorDir)]);
}, BUILD_TIMEOUT);

function template(name: string): string {
  return path.join(ROOT, "test/fixtures/templates", name);
}

// biome-ignore lint/suspicious/noExplicitAny: the --json output is checked field by field
type Json = any;

async function buildJson(name: string, args: string[]): Promise<{ json: Json; stderr: string }> {
  const result = await provisionerd(["build", template(name), ...common, "--json", ...args]);
  const stdout = String(result.stdout);
  expect(() => JSON.parse(stdout), `stdout is JSON (stderr: ${result.stderr})`).not.toThrow();
  const json = JSON.parse(stdout);
  expect(result.exitCode, String(result.stderr)).toBe(json.ok ? 0 : 1);
  return { json, stderr: String(result.stderr) };
}

function stateResources(file: string): string[] {
  const state = JSON.parse(readFileSync(file, "utf8"));
  return state.resources.map((r: Json) => `${r.type}.${r.name}`).sort();
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function stages(json: Json, job: "import" | "build"): string[] {
  const seen: string[] = [];
  for (const line of json.logs) {
    if (line.job === job && line.stage !== seen.at(-1)) seen.push(line.stage);
  }
  return seen;
}

describe("provisionerd build", () => {
  it(
    "starts, stops and deletes a workspace through one state file (--json)",
    async () => {
      const stateFile = path.join(tmp, "apps.tfstate");
      const start = (await buildJson("apps-and-metadata", ["--state-file", stateFile])).json;
      expect(start.ok).toBe(true);
      expect(start.import.status).toBe("completed");
      expect(start.import.gitAuthProviders).toEqual(["github"]);
      expect(start.import.startResources.map((r: Json) => r.name).sort()).toEqual(["home", "vm"]);
      expect(start.build.status).toBe("completed");
      expect(start.build.dailyCost).toBe(29);
      const vm = start.build.resources.find((r: Json) => r.name === "vm");
      expect(vm).toMatchObject({ type: "terraform_data", dailyCost: 29 });
      expect(vm.agents).toHaveLength(1);
      expect(vm.agents[0]).toMatchObject({
        name: "main",
        operatingSystem: "linux",
        architecture: "amd64",
      });
      expect(vm.agents[0].auth).toEqual({ token: "[REDACTED]" });
      expect(vm.agents[0].apps.map((a: Json) => a.slug)).toEqual([
        "code-server",
        "docs",
        "monitor",
        "preview",
      ]);
      expect(vm.metadata.find((m: Json) => m.key === "api_key")).toMatchObject({
        sensitive: true,
        value: "[REDACTED]",
      });
      expect(JSON.stringify(start)).not.toContain("squirrel");
      expect(start.build.resources.find((r: Json) => r.name === "home").hide).toBe(true);
      expect(stages(start, "import")).toEqual([
        "Setting up",
        "No README.md provided",
        "Parsing template parameters",
        "Detecting persistent resources",
        "Detecting ephemeral resources",
        "Cleaning Up",
      ]);
      expect(stages(start, "build")).toEqual([
        "Setting up",
        "Planning infrastructure",
        "Commit quota",
        "Starting workspace",
        "Cleaning Up",
      ]);
      expect(
        start.logs.filter((l: Json) => l.stage === "Commit quota").map((l: Json) => l.output),
      ).toEqual([
        "Build cost       —   29",
        "Budget           —   unlimited",
        "Credits consumed —   29",
      ]);
      expect(start.build.stateWritten).toBe(true);
      expect(statSync(stateFile).mode & 0o777).toBe(0o600);
      expect(stateResources(stateFile)).toContain("terraform_data.vm");

      const stop = (
        await buildJson("apps-and-metadata", ["--state-file", stateFile, "--transition", "stop"])
      ).json;
      expect(stop.ok).toBe(true);
      expect(stop.workspace.id).toBe(start.workspace.id);
      expect(stages(stop, "build")).toContain("Stopping workspace");
      expect(stop.build.resources.map((r: Json) => r.name)).toEqual(["home"]);
      expect(stateResources(stateFile)).not.toContain("terraform_data.vm");
      expect(stateResources(stateFile)).toContain("terraform_data.home");

      const del = (
        await buildJson("apps-and-metadata", ["--state-file", stateFile, "--transition", "delete"])
      ).json;
      expect(del.ok).toBe(true);
      expect(del.workspace.id).toBe(start.workspace.id);
      expect(stages(del, "build")).toContain("Destroying workspace");
      expect(stages(del, "build")).not.toContain("Commit quota");
      expect(del.build.resources).toEqual([]);
      expect(stateResources(stateFile)).toEqual([]);
    },
    BUILD_TIMEOUT,
  );

  it(
    "prints readable progress and a resource table when stdout is not a terminal",
    async () => {
      const stateFile = path.join(tmp, "minimal.tfstate");
      const result = await provisionerd([
        "build",
        template("minimal"),
        ...common,
        "--state-file",
        stateFile,
      ]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      const out = String(result.stdout);
      expect(out).not.toContain("\u001b[");
      const lines = out.split("\n");
      const headers = lines
        .filter((line) => /^ {2}\[ *\d+\.\ds\] \S/.test(line))
        .map((line) => line.slice(11));
      expect(headers).toEqual([
        "Setting up",
        "Adding README.md...",
        "Parsing template parameters",
        "Detecting persistent resources",
        "Detecting ephemeral resources",
        "Cleaning Up",
        "Setting up",
        "Planning infrastructure",
        "Starting workspace",
        "Cleaning Up",
      ]);
      expect(lines[0]).toBe("Importing template minimal");
      expect(out).toMatch(/^✔ Template imported \(\d/m);
      expect(out).toMatch(/^Building workspace local \(start\)$/m);
      // Terraform's own lines, indented under their stage.
      expect(out).toMatch(/^ {11}Apply complete! Resources: 2 added, 0 changed, 0 destroyed\.$/m);
      expect(out).toMatch(/^✔ Workspace started \(\d/m);
      expect(out).toMatch(/^RESOURCE +TYPE \/ DETAIL +COST\/DAY$/m);
      expect(out).toMatch(/^dev +terraform_data +0$/m);
      expect(out).toMatch(/^└─ agent main +\w+\/\w+, auth: token$/m);
      expect(out).toMatch(/^Daily cost: 0$/m);
      expect(out).toContain(`State written to ${stateFile}`);
    },
    BUILD_TIMEOUT,
  );

  it(
    "lists every missing value in one error off a terminal, exit 2",
    async () => {
      const rich = await provisionerd(["build", template("rich-parameters"), ...common]);
      expect(rich.exitCode).toBe(2);
      expect(String(rich.stderr).trim().split("\n").at(-1)).toBe(
        "provisionerd build: missing values: --rich-param Project (give each as <flag> name=value, or run in a terminal to be asked)",
      );
      const legacy = await provisionerd(["build", template("legacy-variables"), ...common]);
      expect(legacy.exitCode).toBe(2);
      expect(String(legacy.stderr).trim().split("\n").at(-1)).toMatch(
        /^provisionerd build: missing values: --param api_token \(/,
      );
      const managed = await provisionerd(["build", template("managed-variables"), ...common]);
      expect(managed.exitCode).toBe(2);
      expect(String(managed.stderr).trim().split("\n").at(-1)).toMatch(
        /^provisionerd build: missing values: --var registry_password \(/,
      );
    },
    BUILD_TIMEOUT,
  );

  it(
    "builds with rich parameters, keeps them for the next build, and rejects bad values",
    async () => {
      const stateFile = path.join(tmp, "rich.tfstate");
      const start = (
        await buildJson("rich-parameters", [
          "--state-file",
          stateFile,
          "--rich-param",
          "Project=demo",
          "--rich-param",
          "Disk size=50",
          "--rich-param",
          "Region=us-east",
        ])
      ).json;
      expect(start.ok).toBe(true);
      // In the converter's order: the module's resources by address, as terraform lists them.
      expect(start.import.richParameters.map((p: Json) => p.name)).toEqual([
        "CPU cores",
        "Disk size",
        "Enable Docker",
        "Dotfiles URL",
        "Project",
        "Region",
      ]);
      const env = start.build.resources.find((r: Json) => r.name === "vm").agents[0].env;
      expect(env).toMatchObject({ PROJECT: "demo", REGION: "us-east" });

      // The stop build gets the start's values without repeating them.
      const stop = (
        await buildJson("rich-parameters", ["--state-file", stateFile, "--transition", "stop"])
      ).json;
      expect(stop.ok).toBe(true);
      expect(stop.values.richParameters).toEqual(
        expect.arrayContaining([
          { name: "Project", value: "demo" },
          { name: "Disk size", value: "50" },
          { name: "Region", value: "us-east" },
        ]),
      );

      const shrink = await provisionerd([
        "build",
        template("rich-parameters"),
        ...common,
        "--state-file",
        stateFile,
        "--rich-param",
        "Disk size=20",
        "--rich-param",
        "Region=mars",
      ]);
      expect(shrink.exitCode).toBe(2);
      const errors = String(shrink.stderr).trim().split("\n").slice(-2);
      expect(errors).toEqual([
        'provisionerd build: --rich-param: parameter "Disk size": value 20 must be equal or greater than the previous value 50 (monotonic increasing)',
        'provisionerd build: --rich-param: parameter "Region": the parameter is immutable and cannot be changed after the workspace was created',
      ]);
    },
    BUILD_TIMEOUT,
  );

  it(
    "keeps sensitive variable values out of every output and the build record",
    async () => {
      const stateFile = path.join(tmp, "managed.tfstate");
      const secret = "hunter2-registry-pw";
      const { json, stderr } = await buildJson("managed-variables", [
        "--state-file",
        stateFile,
        "--var",
        `registry_password=${secret}`,
        "--var",
        "docker_image=debian:12",
      ]);
      expect(json.ok).toBe(true);
      expect(json.values.variables).toEqual(
        expect.arrayContaining([
          { name: "registry_password", value: "[REDACTED]", sensitive: true },
          { name: "docker_image", value: "debian:12", sensitive: false },
        ]),
      );
      expect(JSON.stringify(json)).not.toContain(secret);
      expect(stderr).not.toContain(secret);
      const record = readFileSync(`${stateFile}.build.json`, "utf8");
      expect(record).not.toContain(secret);
      expect(JSON.parse(record).variableValues).toContainEqual({
        name: "docker_image",
        value: "debian:12",
      });
    },
    BUILD_TIMEOUT,
  );

  it(
    "stops terraform gracefully on Ctrl-C, keeps the partial state, exit 130",
    async () => {
      const stateFile = path.join(tmp, "interrupted.tfstate");
      const child = provisionerd([
        "build",
        template("slow-and-chatty"),
        ...common,
        "--param",
        "sleep_seconds=60",
        "--state-file",
        stateFile,
      ]);
      // One Ctrl-C, once terraform is busy (a second one would force).
      onceStdoutShows(child, "sleeping 60s", () => child.kill("SIGINT"));
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(130);
      expect(String(result.stderr)).toContain("Canceling: terraform stops gracefully");
      expect(String(result.stdout)).toMatch(
        /^✖ Workspace build failed: apply terraform: terraform apply: canceled/m,
      );
      expect(String(result.stderr)).toContain(
        `The state left by the failed build was written to ${stateFile}`,
      );
      expect(stateResources(stateFile)).toEqual(["terraform_data.chatty"]);
    },
    BUILD_TIMEOUT,
  );

  it(
    "keeps the state terraform wrote when a second Ctrl-C kills it, exit 130",
    async () => {
      const stateFile = path.join(tmp, "forced.tfstate");
      const workDir = path.join(tmp, "work-forced");
      const child = provisionerd([
        "build",
        template("created-then-slow"),
        ...common,
        "--work-dir",
        workDir,
        "--param",
        "sleep_seconds=60",
        "--state-file",
        stateFile,
      ]);
      let applyPid: number | undefined;
      onceStdoutShows(child, "sleeping 60s", () => {
        // `first` is in terraform's state file now. Stopped, terraform cannot finish the graceful
        // cancel before the second interrupt: only the kill can end it.
        applyPid = processesWithArgument("-auto-approve").find((pid) =>
          commandLine(pid).some((arg) => arg.startsWith(workDir)),
        );
        if (applyPid !== undefined) process.kill(applyPid, "SIGSTOP");
        child.kill("SIGINT");
      });
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        const before = stderr;
        stderr += chunk.toString();
        if (!before.includes("Canceling:") && stderr.includes("Canceling:")) child.kill("SIGINT");
      });
      const result = await child;
      expect(applyPid, "terraform apply was running").toBeDefined();
      expect(result.exitCode, String(result.stderr)).toBe(130);
      expect(String(result.stderr)).toContain("Forcing: killing terraform now");
      expect(String(result.stderr)).toContain(
        `The state left by the failed build was written to ${stateFile}`,
      );
      expect(stateResources(stateFile)).toEqual(["terraform_data.first"]);
    },
    BUILD_TIMEOUT,
  );

  it(
    "reports a template that fails to plan, exit 1",
    async () => {
      const result = await provisionerd(["build", template("broken"), ...common]);
      expect(result.exitCode).toBe(1);
      expect(String(result.stdout)).toMatch(
        /^✖ Template import failed: template import provision for start: /m,
      );
      expect(String(result.stderr)).toMatch(
        /^provisionerd build: template import provision for start: .+/m,
      );
      const { json } = await buildJson("broken", []);
      expect(json.ok).toBe(false);
      expect(json.import.status).toBe("failed");
      expect(json.import.error).toMatch(/^template import provision for start: /);
      expect(json.build.status).toBe("skipped");
    },
    BUILD_TIMEOUT,
  );
});
