// Work dirs, cache dirs and terraform binaries that cannot be used: each is refused before any
// job runs, with one line naming the flag and the reason, exit 2 (never a hang, never a raw
// errno from deep inside a job).
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, provisionerd, ROOT } from "./cli-binary.js";

beforeAll(ensureBuilt, 180_000);

const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-paths-"));
const aFile = path.join(tmp, "a-file");
writeFileSync(aFile, "not a dir");
const template = path.join(ROOT, "test/fixtures/templates/minimal");
// A hang (the old behaviour on /proc) ends the command here and fails the test.
const within = { timeout: 60_000 };

function errorLines(text: unknown): string[] {
  return String(text)
    .split("\n")
    .filter((line) => line !== "");
}

function build(args: string[]) {
  return provisionerd(
    [
      "build",
      template,
      "--work-dir",
      path.join(tmp, "work"),
      "--cache-dir",
      path.join(tmp, "cache"),
      "--state-file",
      path.join(tmp, "paths.tfstate"),
      ...args,
    ],
    within,
  );
}

// /sys refuses new entries even to root (EPERM), as an unwritable directory does to a user.
const sysDir = "/sys/kernel";

describe("unusable --work-dir and --cache-dir", () => {
  const cases: Array<[string, string[], string]> = [
    [
      "a --work-dir under /proc (the kernel refuses the name)",
      ["--work-dir", "/proc/x"],
      'provisionerd build: --work-dir: cannot use "/proc/x": the file system does not allow creating it',
    ],
    [
      "a --cache-dir under /proc",
      ["--cache-dir", "/proc/x/y"],
      'provisionerd build: --cache-dir: cannot use "/proc/x/y": the file system does not allow creating it',
    ],
    [
      "a --work-dir below a file",
      ["--work-dir", path.join(aFile, "work")],
      `provisionerd build: --work-dir: cannot use "${path.join(aFile, "work")}": a part of the path is not a directory`,
    ],
  ];
  for (const [name, args, expected] of cases) {
    it(`build: ${name}`, async () => {
      const result = await build(args);
      expect(result.exitCode, String(result.stderr)).toBe(2);
      expect(errorLines(result.stderr)).toEqual([expected]);
    });
  }

  it.skipIf(!existsSync(sysDir))(
    "build: an existing --work-dir that takes no new entries",
    async () => {
      const result = await build(["--work-dir", sysDir]);
      expect(result.exitCode, String(result.stderr)).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        `provisionerd build: --work-dir: cannot use "${sysDir}": permission denied`,
      ]);
    },
  );

  it.skipIf(!existsSync(sysDir))(
    "start: an existing --cache-dir that takes no new entries, before contacting coderd",
    async () => {
      const result = await provisionerd(
        [
          "start",
          "--coder-url",
          "http://127.0.0.1:1",
          "--psk",
          "s3cret-psk",
          "--work-dir",
          path.join(tmp, "work"),
          "--cache-dir",
          sysDir,
        ],
        within,
      );
      expect(result.exitCode, String(result.stderr)).toBe(2);
      expect(errorLines(result.stderr)).toEqual([
        `provisionerd start: --cache-dir: cannot use "${sysDir}": permission denied`,
      ]);
    },
  );
});

describe("a --terraform-path that is not a usable terraform", () => {
  it("build: a program that is not terraform", async () => {
    const result = await build(["--terraform-path", "/bin/true"]);
    expect(result.exitCode, String(result.stderr)).toBe(2);
    expect(errorLines(result.stderr)).toEqual([
      'provisionerd build: --terraform-path: "/bin/true" is not terraform: "version -json" printed nothing, not a terraform_version',
    ]);
    expect(String(result.stdout)).toBe("");
  });

  it("build and start: a terraform older than the minimum", async () => {
    const old = path.join(tmp, "old-terraform");
    writeFileSync(old, '#!/bin/sh\necho \'{"terraform_version":"1.0.11"}\'\n');
    chmodSync(old, 0o755);
    const expected =
      ': --terraform-path: terraform version "1.0.11" is too old. required >= "1.1.0"';
    const built = await build(["--terraform-path", old]);
    expect(built.exitCode, String(built.stderr)).toBe(2);
    expect(errorLines(built.stderr)).toEqual([`provisionerd build${expected}`]);
    const started = await provisionerd(
      [
        "start",
        "--coder-url",
        "http://127.0.0.1:1",
        "--psk",
        "s3cret-psk",
        "--work-dir",
        path.join(tmp, "work"),
        "--cache-dir",
        path.join(tmp, "start-cache"),
        "--terraform-path",
        old,
      ],
      within,
    );
    expect(started.exitCode, String(started.stderr)).toBe(2);
    expect(errorLines(started.stderr)).toEqual([`provisionerd start${expected}`]);
  });
});
