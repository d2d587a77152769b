// `provisionerd build` never drops Terraform state: without --state-file it keeps it beside the
// template, a failed or interrupted first start still records the workspace, a state file that
// cannot be written or read is refused before anything runs, and state that cannot be written
// at the end is rescued to another place that the output names.
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { templatePath } from "../helpers/templates.js";
import { ensureBuilt, onceStdoutShows, provisionerd } from "./cli-binary.js";

const BUILD_TIMEOUT = 180_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-state-"));
const mirrorDir = path.join(tmp, "mirror");
const cacheDir = path.join(tmp, "cache");
const common = [
  "--provider-mirror",
  mirrorDir,
  "--work-dir",
  path.join(tmp, "work"),
  "--cache-dir",
  cacheDir,
];

beforeAll(async () => {
  await Promise.all([ensureBuilt(), createProviderMirror(mirrorDir)]);
}, BUILD_TIMEOUT);

/** A copy of example template `name`, so that state written beside it stays out of the repo. */
function templateCopy(name: string): string {
  const dir = mkdtempSync(path.join(tmp, `${name}-`));
  cpSync(templatePath(name), dir, { recursive: true });
  return dir;
}

function stateResources(file: string): string[] {
  const state = JSON.parse(readFileSync(file, "utf8"));
  return state.resources.map((r: { type: string; name: string }) => `${r.type}.${r.name}`).sort();
}

function errorLines(text: unknown): string[] {
  return String(text)
    .split("\n")
    .filter((line) => line !== "");
}

describe("state is kept by default", () => {
  it(
    "a build without --state-file keeps the state beside the template and says so; stop finds it",
    async () => {
      const template = templateCopy("minimal");
      const stateFile = path.join(template, "provisionerd-local.tfstate");
      const start = await provisionerd(["build", template, ...common]);
      expect(start.exitCode, String(start.stderr)).toBe(0);
      expect(String(start.stdout)).toContain(`State written to ${stateFile}`);
      expect(stateResources(stateFile)).toContain("terraform_data.dev");
      const record = JSON.parse(readFileSync(`${stateFile}.build.json`, "utf8"));

      const stop = await provisionerd([
        "build",
        template,
        ...common,
        "--transition",
        "stop",
        "--json",
      ]);
      expect(stop.exitCode, String(stop.stderr)).toBe(0);
      const json = JSON.parse(String(stop.stdout));
      expect(json.build.stateFile).toBe(stateFile);
      expect(json.workspace.id).toBe(record.workspaceId);
      expect(stateResources(stateFile)).not.toContain("terraform_data.dev");
    },
    BUILD_TIMEOUT,
  );

  it(
    "an interrupted first start records the workspace, so delete builds the same one",
    async () => {
      const template = templateCopy("created-then-slow");
      const stateFile = path.join(tmp, "interrupted-first.tfstate");
      const child = provisionerd([
        "build",
        template,
        ...common,
        "--param",
        "sleep_seconds=60",
        "--state-file",
        stateFile,
      ]);
      onceStdoutShows(child, "sleeping 60s", () => child.kill("SIGINT"));
      const start = await child;
      expect(start.exitCode, String(start.stderr)).toBe(130);
      expect(stateResources(stateFile)).toContain("terraform_data.first");
      const record = JSON.parse(readFileSync(`${stateFile}.build.json`, "utf8"));
      expect(record.lastTransition).toBe("start");

      const del = await provisionerd([
        "build",
        template,
        ...common,
        "--state-file",
        stateFile,
        "--transition",
        "delete",
        "--json",
      ]);
      expect(del.exitCode, String(del.stderr)).toBe(0);
      expect(JSON.parse(String(del.stdout)).workspace.id).toBe(record.workspaceId);
      expect(stateResources(stateFile)).toEqual([]);
    },
    BUILD_TIMEOUT,
  );
});

describe("a state file that cannot be used is refused before anything runs, exit 2", () => {
  const aFile = path.join(tmp, "a-file");
  writeFileSync(aFile, "not a dir");
  const cases: Array<[string, string, string]> = [
    [
      "its directory cannot be created",
      "/proc/x/ws.tfstate",
      'provisionerd build: --state-file: cannot write "/proc/x/ws.tfstate": the file system does not allow creating it',
    ],
    [
      "a part of its path is a file",
      path.join(aFile, "ws.tfstate"),
      `provisionerd build: --state-file: cannot write "${path.join(aFile, "ws.tfstate")}": a part of the path is not a directory`,
    ],
  ];
  for (const [name, stateFile, expected] of cases) {
    it(name, async () => {
      const result = await provisionerd([
        "build",
        templatePath("minimal"),
        ...common,
        "--state-file",
        stateFile,
      ]);
      expect(result.exitCode, String(result.stderr)).toBe(2);
      expect(errorLines(result.stderr)).toEqual([expected]);
      expect(String(result.stdout)).toBe("");
    });
  }

  it("a state file that is not JSON is named with the reason", async () => {
    const stateFile = path.join(tmp, "corrupt.tfstate");
    writeFileSync(stateFile, '{"version": 4, "resources": [');
    const result = await provisionerd([
      "build",
      templatePath("minimal"),
      ...common,
      "--state-file",
      stateFile,
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(2);
    const lines = errorLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^provisionerd build: --state-file: "${stateFile}" is not a Terraform state: not JSON \\(.+\\)$`,
      ),
    );
    expect(String(result.stdout)).toBe("");
  });
});

describe("state that cannot be written at the end", () => {
  it(
    "is rescued to the cache dir, and the output says where",
    async () => {
      const stateDir = path.join(tmp, "vanishing");
      mkdirSync(stateDir);
      const stateFile = path.join(stateDir, "ws.tfstate");
      const child = provisionerd([
        "build",
        templateCopy("created-then-slow"),
        ...common,
        "--param",
        "sleep_seconds=3",
        "--state-file",
        stateFile,
      ]);
      // The check before the build passed; now the state's directory becomes a file.
      onceStdoutShows(child, "sleeping 3s", () => {
        rmSync(stateDir, { recursive: true });
        writeFileSync(stateDir, "in the way");
      });
      const result = await child;
      expect(result.exitCode, String(result.stderr)).toBe(1);
      const line = errorLines(result.stderr).at(-1) ?? "";
      const match =
        /^provisionerd build: --state-file: cannot write "(.+)": a part of the path is not a directory; the state was saved to "(.+)" instead: move it to "(.+)" \(and "(.+)" to "(.+)"\) before the next build$/.exec(
          line,
        );
      expect(match, line).not.toBeNull();
      const [, wanted, rescued, moveTo, record, recordTo] = match as unknown as string[];
      expect(wanted).toBe(stateFile);
      expect(moveTo).toBe(stateFile);
      expect(path.dirname(rescued as string)).toBe(path.join(cacheDir, "rescued-state"));
      expect(stateResources(rescued as string)).toEqual([
        "terraform_data.first",
        "terraform_data.slow",
      ]);
      expect(record).toBe(`${rescued}.build.json`);
      expect(recordTo).toBe(`${stateFile}.build.json`);
      expect(existsSync(record as string)).toBe(true);
    },
    BUILD_TIMEOUT,
  );
});
