// The fake coderd must be strict, or the daemon tests prove nothing: it refuses (and records)
// sequence gaps, calls for jobs a daemon does not own, a second terminal message, and hands
// tagged jobs only to daemons carrying their tags.
import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CoderdClient } from "../../src/coderd/adapters/grpc-client.js";
import { AuthenticationRefusedError, CoordinatorRefusedError } from "../../src/daemon/errors.js";
import { emptyUpdate } from "../../src/daemon/log-batcher.js";
import {
  type DaemonIdentity,
  type Log,
  LogLevel,
  LogSource,
  WorkspaceTransition,
} from "../../src/provisioner/model.js";
import { FakeCoderd } from "./fake-coderd.js";
import { buildPayload } from "./payloads.js";

let fake: FakeCoderd;
const clients: CoderdClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await fake.stop();
});

function client(psk = fake.psk, daemonId = randomUUID()) {
  const c = new CoderdClient({
    coderUrl: fake.url,
    psk,
    daemonId,
    rpcTimeoutMs: 5_000,
    logger: pino({ level: "silent" }),
  });
  clients.push(c);
  return {
    c,
    identity: (tags: Record<string, string> = {}): DaemonIdentity => ({
      id: daemonId,
      name: "t",
      version: "0",
      provisioners: ["terraform"],
      tags,
    }),
  };
}

const never = new AbortController().signal;
const log = (sequence: number): Log => ({
  source: LogSource.PROVISIONER,
  level: LogLevel.INFO,
  createdAt: Date.now(),
  stage: "s",
  output: `l${sequence}`,
  sequence,
});
const update = (jobId: string, logs: Log[]) => emptyUpdate(jobId, logs);

describe("fake coderd strictness", () => {
  it("refuses a wrong PSK as UNAUTHENTICATED", async () => {
    fake = await FakeCoderd.start();
    const { c, identity } = client("nope");
    await expect(c.acquireJob({ daemon: identity(), waitMs: 0 }, never)).rejects.toBeInstanceOf(
      AuthenticationRefusedError,
    );
  });

  it("enforces tags, ownership, log continuity and a single terminal message", async () => {
    fake = await FakeCoderd.start();
    const tagged = fake.enqueueJob({
      kind: "workspace_build",
      payload: buildPayload({ transition: WorkspaceTransition.START }),
      archive: Buffer.from("x"),
      tags: { pool: "a" },
    });
    const owner = client();
    const other = client();
    expect((await other.c.acquireJob({ daemon: other.identity(), waitMs: 0 }, never)).jobId).toBe(
      "",
    );
    expect(
      (await owner.c.acquireJob({ daemon: owner.identity({ pool: "a" }), waitMs: 0 }, never)).jobId,
    ).toBe(tagged);

    await expect(other.c.updateJob(update(tagged, []), never)).rejects.toBeInstanceOf(
      CoordinatorRefusedError,
    );
    await owner.c.updateJob(update(tagged, [log(1), log(2)]), never);
    await owner.c.updateJob(update(tagged, [log(2), log(3)]), never); // a retried line is kept once
    await expect(owner.c.updateJob(update(tagged, [log(5)]), never)).rejects.toThrow(
      /sequence gap: expected 4, got 5/,
    );
    expect(fake.job(tagged).logs.map((l) => l.sequence)).toEqual([1, 2, 3]);
    expect(fake.job(tagged).duplicateLines).toBe(1);

    await owner.c.failJob(
      { jobId: tagged, error: "boom", errorCode: "INTERNAL", timings: [] },
      never,
    );
    await expect(
      owner.c.completeJob(
        {
          jobId: tagged,
          type: { $case: "workspaceBuild", value: { state: Buffer.alloc(0), resources: [] } },
          timings: [],
        },
        never,
      ),
    ).rejects.toThrow(/already completed/);
    expect(fake.violations.map((v) => v.message)).toEqual([
      "you don't own this job",
      "log sequence gap: expected 4, got 5",
      "completeJob after the job ended",
    ]);
  });
});
