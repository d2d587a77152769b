// `provisionerd start` (the real binary) against the coderd v2 dRPC fake: the generation comes
// from coderd's buildinfo, the PSK from Coder's own variable, a template import and a workspace's
// start, stop and delete run with real terraform, and a refused PSK ends the process with one
// line that names the PSK.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { FakeCoderdDrpc } from "../coderd/fake-coderd-drpc.js";
import { LIFECYCLE_TIMEOUT, lifecycle } from "../coderd/helpers/coderd-daemon.js";
import { type TerraformScratch, terraformScratch } from "../daemon/helpers/terraform.js";
import { cleanEnv, ensureBuilt, provisionerd } from "./cli-binary.js";

const TIMEOUT = LIFECYCLE_TIMEOUT;
const PSK = "psk-0123456789-abcdefghij";
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-v2-"));
let scratch: TerraformScratch;
let fake: FakeCoderdDrpc | undefined;

beforeAll(async () => {
  await ensureBuilt();
  scratch = await terraformScratch();
}, TIMEOUT);
afterAll(() => scratch?.cleanup());
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function start(psk: string) {
  const dir = mkdtempSync(path.join(tmp, "daemon-"));
  const coderUrl = (fake as FakeCoderdDrpc).url.href;
  return provisionerd(
    [
      "start",
      "--coder-url",
      coderUrl,
      "--name",
      "cli-daemon",
      "--log-format",
      "json",
      "--work-dir",
      path.join(dir, "work"),
      "--cache-dir",
      path.join(dir, "cache"),
      "--provider-mirror",
      scratch.mirrorDir,
    ],
    { env: cleanEnv({ CODER_PROVISIONER_DAEMON_PSK: psk }), buffer: true },
  );
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("provisionerd start against coderd v2", () => {
  it(
    "detects coderd v2, takes an import and a workspace's start, stop and delete with the PSK, and drains on SIGTERM",
    async () => {
      fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
      const child = start(PSK);
      let stderr = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      // Import, dry run, then the workspace's start, stop and delete, each checked on what the
      // fake received (decoded with the v2 layout) and each build from the state handed back.
      await lifecycle(fake);
      expect(fake.daemons.map((d) => [d.name, d.credential, d.apiVersion])).toEqual([
        ["cli-daemon", "psk", "1.18"],
      ]);
      await vi.waitFor(() => expect(fake?.waiting).toBe(1), { timeout: 10_000, interval: 20 });
      child.kill("SIGTERM");
      const result = await child;
      expect(result.exitCode, stderr).toBe(0);
      expect(fake.cancelAcquires).toBe(1);
      const detected = jsonLines(stderr).filter((l) => l.msg === "coderd generation detected");
      expect(detected.map((l) => [l.coderdApi, l.coderdVersion])).toEqual([
        ["v2", "v2.35.0+f963381"],
      ]);
      expect(stderr).not.toContain(PSK);
    },
    TIMEOUT,
  );

  it(
    "exits 1 with one fatal line naming the PSK when coderd refuses it",
    async () => {
      fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
      const result = await start("not-the-psk");
      expect(result.exitCode).toBe(1);
      const fatal = jsonLines(String(result.stderr)).filter(
        (l) => l.level === 60 || l.level === "fatal",
      );
      expect(fatal).toHaveLength(1);
      expect(fatal[0]?.msg).toMatch(/401.*we sent a provisioner daemon PSK/);
      expect(fatal[0]?.hint).toMatch(/CODER_PROVISIONER_DAEMON_PSK/);
      expect(String(result.stderr)).not.toContain("not-the-psk");
    },
    TIMEOUT,
  );
});
