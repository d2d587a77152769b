// What `provisionerd start` tells the operator about its state: "running" only once coderd
// answered, and gRPC's connection errors without their empty "Resolution note:" tail.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeCoderd } from "../fake-coderd/fake-coderd.js";
import { ensureBuilt, provisionerdStart } from "./cli-binary.js";

const TIMEOUT = 180_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-start-logs-"));
let fake: FakeCoderd;

beforeAll(async () => {
  await ensureBuilt();
  fake = await FakeCoderd.start();
}, TIMEOUT);

afterAll(async () => {
  await fake?.stop();
});

type Line = Record<string, unknown>;

/** Resolves with the JSON log lines seen so far once one of them matches `until`. */
function logsUntil(child: ResultPromise, until: (line: Line) => boolean): Promise<Line[]> {
  return new Promise((resolve, reject) => {
    const lines: Line[] = [];
    let pending = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split("\n");
      pending = complete.pop() ?? "";
      for (const text of complete) {
        if (text.trim() === "") continue;
        const line = JSON.parse(text) as Line;
        lines.push(line);
        if (until(line)) resolve([...lines]);
      }
    });
    child.once("exit", () => reject(new Error(`exited first:\n${JSON.stringify(lines)}`)));
  });
}

const isRunning = (line: Line) => line.msg === "daemon state changed" && line.to === "running";

describe("provisionerd start: state in the log", () => {
  it(
    "does not claim to be running while coderd cannot be reached",
    async () => {
      const child = provisionerdStart({
        coderUrl: "grpc://127.0.0.1:1",
        psk: "some-psk",
        scratch: tmp,
        args: [],
      });
      const lines = await logsUntil(child, (l) => l.msg === "acquire stream failed; reconnecting");
      child.kill("SIGTERM");
      await child;
      expect(lines.filter(isRunning)).toEqual([]);
      const failure = String(lines.at(-1)?.err);
      expect(failure).toContain("ECONNREFUSED");
      expect(failure).not.toContain("Resolution note");
    },
    TIMEOUT,
  );

  it(
    "logs running once coderd answered",
    async () => {
      const child = provisionerdStart({
        coderUrl: fake.grpcUrl,
        psk: fake.psk,
        scratch: tmp,
        args: [],
      });
      const lines = await logsUntil(child, isRunning);
      child.kill("SIGTERM");
      await child;
      const connected = lines.findIndex((l) => l.msg === "connected to coderd");
      expect(connected).toBeGreaterThanOrEqual(0);
      expect(lines.findIndex(isRunning)).toBeGreaterThan(connected);
      expect(lines.at(-1)).toMatchObject({ from: "starting", to: "running" });
    },
    TIMEOUT,
  );
});
