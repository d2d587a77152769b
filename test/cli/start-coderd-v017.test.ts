// `provisionerd start` (the real binary) with an http:// URL takes jobs from the strict dRPC fake
// coderd (generation v0.17) with a session token, an organization and a tag, and ends with
// coderd's own text when coderd refuses it.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import { FakeCoderdDrpc, randomUUIDFixed } from "../coderd/fake-coderd-drpc.js";
import { ended, importJob, TOKEN } from "../coderd/helpers/coderd-daemon.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { templateTar } from "../helpers/templates.js";
import { cleanEnv, ensureBuilt, provisionerd } from "./cli-binary.js";

const TIMEOUT = 120_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-v017-"));
let fake: FakeCoderdDrpc | undefined;
let mirrorDir: string;

beforeAll(async () => {
  await ensureBuilt();
  mirrorDir = (await getOfflineTerraform()).mirrorDir;
}, TIMEOUT);

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The binary against `url`, one-shot (--max-jobs 1), logging JSON. */
function start(url: URL, args: string[]) {
  const dir = mkdtempSync(path.join(tmp, "daemon-"));
  return provisionerd(
    [
      "start",
      "--coder-url",
      url.href,
      "--log-format",
      "json",
      "--poll-interval",
      "100ms",
      "--max-jobs",
      "1",
      "--work-dir",
      path.join(dir, "work"),
      "--cache-dir",
      path.join(dir, "cache"),
      "--provider-mirror",
      mirrorDir,
      ...args,
    ],
    { env: cleanEnv(), buffer: true, timeout: TIMEOUT },
  );
}

describe("provisionerd start against coderd v0.17", () => {
  it("takes a template import with --token, --organization and --tag", {
    timeout: TIMEOUT,
  }, async () => {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: true } },
    });
    // The job needs tag a=b, so only a daemon carrying it may take it.
    const job = fake.enqueue(importJob(templateTar("minimal")), { tags: { a: "b" } });
    const result = await start(fake.url, [
      "--token",
      TOKEN,
      "--organization",
      randomUUIDFixed,
      "--tag",
      "a=b",
    ]);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    await ended(job);
    expect(job.failure).toBeUndefined();
    expect((job.terminal as v017.CompletedJob).type?.$case).toBe("templateImport");
    expect(fake.daemons.map((d) => d.tags)).toEqual([{ a: "b", scope: "organization" }]);
    expect(fake.violations).toEqual([]);
    expect(String(result.stderr)).not.toContain(TOKEN);
  });

  it("exits 1 with coderd's text when coderd refuses the daemon", {
    timeout: TIMEOUT,
  }, async () => {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: false } },
    });
    const result = await start(fake.url, [
      "--token",
      TOKEN,
      "--organization",
      randomUUIDFixed,
      "--tag",
      "a=b",
    ]);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain(
      "You aren't allowed to create provisioner daemons for the organization.",
    );
  });

  // coderd's only tag refusal (400, a tag without "=") never reaches coderd: the flag's own
  // check refuses it first, as a usage error.
  it("a tag coderd would refuse is refused before connecting, naming --tag", {
    timeout: TIMEOUT,
  }, async () => {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: true } },
    });
    const result = await start(fake.url, [
      "--token",
      TOKEN,
      "--organization",
      randomUUIDFixed,
      "--tag",
      "pool",
    ]);
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toMatch(/--tag.*key=value.*pool/);
    expect(fake.daemons).toEqual([]);
  });
});
