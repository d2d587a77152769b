// `provisionerd --help` and every bad flag: one line naming the flag, exit code 2.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, ensureBuilt, provisionerd } from "./cli-binary.js";

beforeAll(ensureBuilt, 180_000);

const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-flags-"));
const aFile = path.join(tmp, "a-file");
writeFileSync(aFile, "not a dir");
// A real certificate and key, so TLS flag checks get past "is this a PEM file".
const certFile = path.join(tmp, "client.pem");
const keyFile = path.join(tmp, "client.key");
execFileSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    "/CN=provisionerd-test",
  ],
  { stdio: "ignore" },
);

// Enough for `start` to get past validation of everything but the flag under test.
const required = ["--coder-url", "grpc://127.0.0.1:1", "--psk", "s3cret-psk"];

function lines(text: unknown): string[] {
  return String(text)
    .split("\n")
    .filter((line) => line !== "");
}

describe("provisionerd --help", () => {
  it("lists the commands", async () => {
    const result = await provisionerd(["--help"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Usage: provisionerd/);
    expect(result.stdout).toMatch(/^\s+start\b/m);
    expect(result.stdout).toMatch(/^\s+build\b/m);
  });

  it("prints usage on stderr and exits 2 without a command", async () => {
    const result = await provisionerd([]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/Usage: provisionerd/);
  });

  it("start --help lists every flag with its env var and default", async () => {
    const result = await provisionerd(["start", "--help"]);
    expect(result.exitCode).toBe(0);
    const help = String(result.stdout).replace(/\s+/g, " ");
    const flags: Array<[string, string, string | undefined]> = [
      ["--coder-url", "CODER_URL", undefined],
      ["--psk", "CODER_PROVISIONER_DAEMON_PSK", undefined],
      ["--tag", "CODER_PROVISIONERD_TAGS", undefined],
      ["--name", "CODER_PROVISIONER_DAEMON_NAME", os.hostname()],
      ["--concurrency", "CODER_PROVISIONERD_CONCURRENCY", '"1"'],
      ["--poll-interval", "CODER_PROVISIONERD_POLL_INTERVAL", '"1s"'],
      ["--poll-jitter", "CODER_PROVISIONERD_POLL_JITTER", '"100ms"'],
      ["--force-cancel-interval", "CODER_PROVISIONERD_FORCE_CANCEL_INTERVAL", '"10m"'],
      ["--cache-dir", "CODER_CACHE_DIRECTORY", ".cache/coder"],
      ["--work-dir", "CODER_PROVISIONERD_WORK_DIR", "provisionerd"],
      ["--terraform-path", "CODER_PROVISIONERD_TERRAFORM_PATH", '"terraform"'],
      ["--provider-mirror", "CODER_PROVISIONERD_PROVIDER_MIRROR", undefined],
      ["--tls-ca", "CODER_PROVISIONERD_TLS_CA", undefined],
      ["--tls-cert", "CODER_PROVISIONERD_TLS_CERT", undefined],
      ["--tls-key", "CODER_PROVISIONERD_TLS_KEY", undefined],
      ["--log-level", "CODER_PROVISIONERD_LOG_LEVEL", '"info"'],
      ["--log-format", "CODER_PROVISIONERD_LOG_FORMAT", "json, pretty when stderr is a terminal"],
      ["--metrics-address", "CODER_PROVISIONERD_METRICS_ADDRESS", "off"],
      ["--max-jobs", "CODER_PROVISIONERD_MAX_JOBS", '"0"'],
    ];
    for (const [flag, env, defaultText] of flags) {
      const at = help.indexOf(`${flag} `);
      expect(at, `${flag} is listed`).toBeGreaterThanOrEqual(0);
      const entry = help.slice(at, help.indexOf(")", help.indexOf(`env: ${env}`, at)) + 1);
      expect(entry, `${flag} names its env var`).toContain(`env: ${env}`);
      if (defaultText) expect(entry, `${flag} shows its default`).toContain(defaultText);
    }
    expect(help).toMatch(/SIGTERM\s+drain/);
  });

  it("build --help lists its flags", async () => {
    const result = await provisionerd(["build", "--help"]);
    expect(result.exitCode).toBe(0);
    for (const flag of [
      "--transition",
      "--param",
      "--var",
      "--rich-param",
      "--state-file",
      "--provider-mirror",
      "--json",
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(String(result.stdout).replace(/\s+/g, " ")).toContain(
      '--transition <transition> workspace transition to build (one of: start, stop, delete) (default: "start")',
    );
    const help = String(result.stdout).replace(/\s+/g, " ");
    expect(help).toContain("template a template directory or a .tar/.tar.gz file");
    // A build has no job slots: its cache dir is just the plugin cache.
    expect(help).toMatch(/--cache-dir <dir> Terraform provider plugin cache, kept between builds/);
    expect(help).not.toMatch(/slot/);
  });

  it("--version prints the package version", async () => {
    const result = await provisionerd(["--version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("bad start flags: one line naming the flag, exit 2", () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["unknown flag", ["--frobnicate"], /unknown option '--frobnicate'/],
    ["missing flag value", ["--name"], /option '--name <name>' argument missing/],
    [
      "coder url",
      ["--coder-url", "ftp://x"],
      /^provisionerd start: --coder-url: expected an http:\/\/, https:\/\/, grpc:\/\/ or grpcs:\/\/ URL .*got "ftp:\/\/x"$/,
    ],
    [
      "concurrency",
      ["--concurrency", "0"],
      /^provisionerd start: --concurrency: expected a whole number of job slots, 1 or more, got "0"$/,
    ],
    [
      "concurrency above the daemon's limit",
      ["--concurrency", "100"],
      /^provisionerd start: --concurrency: expected at most 64 job slots, got "100"$/,
    ],
    [
      "poll interval of zero",
      ["--poll-interval", "0s"],
      /^provisionerd start: --poll-interval: expected a duration above 0, got "0s"$/,
    ],
    [
      "concurrency text",
      ["--concurrency", "two"],
      /^provisionerd start: --concurrency: expected .* got "two"$/,
    ],
    [
      "poll interval",
      ["--poll-interval", "5"],
      /^provisionerd start: --poll-interval: expected a duration such as 500ms, 1s, 1m30s or 10m, got "5"$/,
    ],
    [
      "poll jitter",
      ["--poll-jitter", "soon"],
      /^provisionerd start: --poll-jitter: expected a duration .* got "soon"$/,
    ],
    [
      "force cancel",
      ["--force-cancel-interval", "0s"],
      /^provisionerd start: --force-cancel-interval: expected a duration above 0, got "0s"$/,
    ],
    [
      "tag",
      ["--tag", "novalue"],
      /^provisionerd start: --tag: expected a tag as key=value, got "novalue"$/,
    ],
    [
      "log level",
      ["--log-level", "loud"],
      /^provisionerd start: --log-level: expected one of trace, debug, info, warn, error, got "loud"$/,
    ],
    [
      "log format",
      ["--log-format", "xml"],
      /^provisionerd start: --log-format: expected one of json, pretty, got "xml"$/,
    ],
    [
      "metrics address",
      ["--metrics-address", "localhost"],
      /^provisionerd start: --metrics-address: expected host:port such as 127.0.0.1:2112 or :2112, got "localhost"$/,
    ],
    [
      "metrics port",
      ["--metrics-address", ":70000"],
      /^provisionerd start: --metrics-address: expected host:port/,
    ],
    [
      "max jobs",
      ["--max-jobs", "-1"],
      /^provisionerd start: --max-jobs: expected a whole number of jobs, 0 for no limit, got "-1"$/,
    ],
    [
      "terraform path",
      ["--terraform-path", "/nonexistent/terraform"],
      /^provisionerd start: --terraform-path: "\/nonexistent\/terraform" is not an executable file$/,
    ],
    [
      "terraform name",
      ["--terraform-path", "no-such-terraform-xyz"],
      /^provisionerd start: --terraform-path: "no-such-terraform-xyz" was not found on PATH$/,
    ],
    [
      "provider mirror dir",
      ["--provider-mirror", "/nonexistent/mirror"],
      /^provisionerd start: --provider-mirror: expected a provider mirror directory or an https:\/\/ URL, but "\/nonexistent\/mirror" is not a directory$/,
    ],
    [
      "provider mirror url",
      ["--provider-mirror", "http://mirror.internal/"],
      /^provisionerd start: --provider-mirror: expected a directory or an https:\/\/ network mirror URL/,
    ],
    [
      "work dir is a file",
      ["--work-dir", aFile],
      /^provisionerd start: --work-dir: expected a directory, but ".*a-file" is a file$/,
    ],
    [
      "tls ca missing",
      ["--tls-ca", "/nonexistent/ca.pem"],
      /^provisionerd start: --tls-ca: expected a readable file, got "\/nonexistent\/ca.pem"$/,
    ],
  ];

  for (const [name, args, expected] of cases) {
    it(name, async () => {
      const result = await provisionerd(["start", ...required, ...args]);
      expect(result.exitCode).toBe(2);
      const errorLines = lines(result.stderr);
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(expected);
      expect(result.stdout).toBe("");
    });
  }

  it("reports a missing --coder-url (the URL decides which credentials are needed)", async () => {
    const result = await provisionerd(["start"]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      "provisionerd start: --coder-url: required: set --coder-url or CODER_URL",
    ]);
  });

  it("names the credentials each kind of URL needs", async () => {
    const grpc = await provisionerd(["start", "--coder-url", "grpc://127.0.0.1:1"]);
    expect(grpc.exitCode).toBe(2);
    expect(lines(grpc.stderr)).toEqual([
      "provisionerd start: --psk: required with a grpc:// URL: set CODER_PROVISIONER_DAEMON_PSK (or --psk)",
    ]);
    const coderd = await provisionerd(["start", "--coder-url", "https://coder.test"]);
    expect(coderd.exitCode).toBe(2);
    expect(lines(coderd.stderr)).toEqual([
      "provisionerd start: --token: required with an http(s):// URL: set CODER_SESSION_TOKEN (--token), CODER_PROVISIONER_DAEMON_PSK (--psk) or CODER_PROVISIONER_DAEMON_KEY (--key)",
    ]);
    const v017 = await provisionerd([
      "start",
      "--coder-url",
      "https://coder.test",
      "--coderd-api",
      "v0.17",
    ]);
    expect(v017.exitCode).toBe(2);
    expect(lines(v017.stderr)).toEqual([
      "provisionerd start: --token: required with coderd v0.17: set CODER_SESSION_TOKEN (or --token)",
      "provisionerd start: --organization: required with coderd v0.17: set CODER_ORGANIZATION (or --organization) to the organization's id",
    ]);
  });

  it("refuses tags with a provisioner key: coderd takes them from the key", async () => {
    const env = cleanEnv({ CODER_PROVISIONER_DAEMON_KEY: "k".repeat(43) });
    const result = await provisionerd(
      ["start", "--coder-url", "https://coder.test", "--tag", "pool=gpu"],
      { env },
    );
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      "provisionerd start: --tag: cannot be given with a provisioner key (--key, CODER_PROVISIONER_DAEMON_KEY): coderd takes the tags from the key",
    ]);
  });

  it("names the environment variable when the bad value came from it", async () => {
    const env = cleanEnv({
      CODER_URL: "grpc://127.0.0.1:1",
      CODER_PROVISIONER_DAEMON_PSK: "s3cret-psk",
      CODER_PROVISIONERD_POLL_INTERVAL: "fast",
      CODER_PROVISIONERD_TAGS: "region=eu,broken",
    });
    const result = await provisionerd(["start"], { env });
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'provisionerd start: CODER_PROVISIONERD_TAGS (--tag): expected a tag as key=value, got "broken"',
      'provisionerd start: CODER_PROVISIONERD_POLL_INTERVAL (--poll-interval): expected a duration such as 500ms, 1s, 1m30s or 10m, got "fast"',
    ]);
  });

  it("needs --tls-key with --tls-cert", async () => {
    const result = await provisionerd([
      "start",
      "--coder-url",
      "grpcs://coder.test",
      "--psk",
      "k3y",
      "--tls-cert",
      certFile,
    ]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      "provisionerd start: --tls-key: required with --tls-cert",
    ]);
  });

  it("needs https when TLS files are given", async () => {
    const result = await provisionerd(["start", ...required, "--tls-ca", certFile]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'provisionerd start: --coder-url: TLS files were given, so expected an https:// or grpcs:// URL, got "grpc://127.0.0.1:1"',
    ]);
  });

  it("never echoes the PSK", async () => {
    const result = await provisionerd(["start", "--psk", "s3cret-psk", "--coder-url", "nope"]);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).not.toContain("s3cret-psk");
  });
});

describe("build --json on bad input", () => {
  it("prints a JSON error object on stdout too, exit 2", async () => {
    const result = await provisionerd(["build", path.join(tmp, "missing"), "--json"]);
    expect(result.exitCode).toBe(2);
    const message = `<template>: expected a template directory or a .tar/.tar.gz file, but "${path.join(tmp, "missing")}" does not exist`;
    expect(JSON.parse(String(result.stdout))).toEqual({
      ok: false,
      error: { kind: "usage", exitCode: 2, messages: [message] },
    });
    expect(lines(result.stderr)).toEqual([`provisionerd build: ${message}`]);
  });

  it("also for an unknown flag", async () => {
    const result = await provisionerd(["build", tmp, "--json", "--frobnicate"]);
    expect(result.exitCode).toBe(2);
    const json = JSON.parse(String(result.stdout));
    expect(json.ok).toBe(false);
    expect(json.error.messages[0]).toMatch(/unknown option '--frobnicate'/);
  });
});

describe("bad build flags", () => {
  it("rejects a missing template", async () => {
    const result = await provisionerd(["build", path.join(tmp, "missing")]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `provisionerd build: <template>: expected a template directory or a .tar/.tar.gz file, but "${path.join(tmp, "missing")}" does not exist`,
    ]);
  });

  it("rejects a template file that is not an archive", async () => {
    const result = await provisionerd(["build", aFile]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)[0]).toMatch(
      /^provisionerd build: <template>: expected a template directory or a \.tar\/\.tar\.gz file/,
    );
  });

  it("rejects a bad transition and a bad parameter", async () => {
    const result = await provisionerd([
      "build",
      tmp,
      "--transition",
      "reboot",
      "--rich-param",
      "x",
    ]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      'provisionerd build: --transition: expected one of start, stop, delete, got "reboot"',
      'provisionerd build: --rich-param: expected a rich parameter as key=value, got "x"',
    ]);
  });

  it("needs the state of an earlier start to stop", async () => {
    const noFlag = await provisionerd(["build", tmp, "--transition", "stop"]);
    expect(noFlag.exitCode).toBe(2);
    // Without the flag, the default beside the template is where an earlier start left it.
    expect(lines(noFlag.stderr)).toEqual([
      `provisionerd build: --state-file: --transition stop needs the state of an earlier start, but "${path.join(tmp, "provisionerd-local.tfstate")}" (the default) does not exist`,
    ]);
    const missing = path.join(tmp, "none.tfstate");
    const noFile = await provisionerd([
      "build",
      tmp,
      "--transition",
      "delete",
      "--state-file",
      missing,
    ]);
    expect(noFile.exitCode).toBe(2);
    expect(lines(noFile.stderr)).toEqual([
      `provisionerd build: --state-file: --transition delete needs the state of an earlier start, but "${missing}" does not exist`,
    ]);
  });

  it("rejects an extra argument", async () => {
    const result = await provisionerd(["build", tmp, "extra"]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/too many arguments/);
  });
});
