// The dRPC fake coderd of both generations, driven by our typed clients: refusals as coderd
// words them, job ownership, one terminal message per job, AcquireJobWithCancel semantics, and a
// v2 daemon that reconnects under its name keeping its job.
import { afterEach, describe, expect, it } from "vitest";
import { type CoderdConnection, connectCoderd } from "../../src/coderd/connection.js";
import {
  type CoderdCredential,
  CoderdRefusedError,
  v2ServeRequest,
  v017ServeRequest,
} from "../../src/coderd/handshake.js";
import { DrpcRemoteError } from "../../src/coderd/transport/errors.js";
import { CoderdV2Client } from "../../src/coderd/v2/client.js";
import * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { CoderdV017Client } from "../../src/coderd/v017/client.js";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import { FakeCoderdDrpc, randomUUIDFixed as ORG } from "./fake-coderd-drpc.js";

const TOKEN = "Wj5gXk0aQe-6QfvS9oBtVvMZyqYdkLh1c";
const PSK = "wire-sample-psk-0123456789";
const KEY = "pk0123456789abcdefghijklmnopqrstuvwxyzABCDE";

let fake: FakeCoderdDrpc | undefined;

/** Waits for a condition on the fake's state, one event-loop turn at a time. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setImmediate(r));
}
const open: CoderdConnection[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await fake?.close();
  fake = undefined;
});

async function v017Connect(token = TOKEN, tags: Record<string, string> = {}) {
  const f = fake as FakeCoderdDrpc;
  const connection = await connectCoderd(
    v017ServeRequest({ coderUrl: f.url, organization: ORG, sessionToken: token, tags }),
    { credential: "session-token" },
  );
  open.push(connection);
  return new CoderdV017Client(connection.drpc);
}

async function v2Connect(
  credential: CoderdCredential,
  options: {
    name?: string;
    tags?: Record<string, string>;
    organization?: string;
    apiVersion?: string;
  } = {},
) {
  const f = fake as FakeCoderdDrpc;
  const connection = await connectCoderd(
    v2ServeRequest({
      coderUrl: f.url,
      organization: options.organization,
      credential,
      tags: options.tags ?? {},
      name: options.name ?? "daemon-a",
      buildVersion: "v0.1.0",
      apiVersion: options.apiVersion,
    }),
    { credential: credential.kind, apiVersion: options.apiVersion ?? "1.18" },
  );
  open.push(connection);
  return { client: new CoderdV2Client(connection.drpc), connection };
}

describe("fake coderd v0.17 over dRPC", () => {
  it("refuses a bad token with coderd's 401 text, fatal", async () => {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: true } },
    });
    const failure = await v017Connect("Wj5gXk0aQe-wrongwrongwrongwrongww").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CoderdRefusedError);
    expect(failure).toMatchObject({ status: 401, fatal: true });
    expect((failure as Error).message).toContain("API key secret is invalid.");
  });

  it("polls, runs a job to one terminal message, and enforces ownership and cancel", async () => {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: true } },
    });
    const client = await v017Connect(TOKEN, { pool: "gpu" });
    expect((await client.acquireJob()).jobId).toBe("");
    const wrongPool = fake.enqueue({ provisioner: "terraform" }, { tags: { pool: "cpu" } });
    const job = fake.enqueue(
      { provisioner: "terraform", userName: "ü" },
      { tags: { pool: "gpu" } },
    );
    const acquired = await client.acquireJob();
    expect(acquired).toMatchObject({ jobId: job.id, userName: "ü" });
    expect(fake.jobs.get(wrongPool.id)?.state).toBe("queued");
    expect(fake.daemons[0]?.tags).toEqual({ pool: "gpu", scope: "organization" });

    const update = await client.updateJob(v017.UpdateJobRequest.fromPartial({ jobId: job.id }));
    expect(update.canceled).toBe(false);
    fake.cancel(job.id);
    expect(
      (await client.updateJob(v017.UpdateJobRequest.fromPartial({ jobId: job.id }))).canceled,
    ).toBe(true);

    // Another daemon (another connection) does not own it.
    const other = await v017Connect();
    await expect(
      other.updateJob(v017.UpdateJobRequest.fromPartial({ jobId: job.id })),
    ).rejects.toMatchObject({
      message: "you don't own this job",
      code: 0n,
    });
    await expect(
      client.updateJob(v017.UpdateJobRequest.fromPartial({ jobId: "not-a-uuid" })),
    ).rejects.toMatchObject({
      message: "parse job id: invalid UUID length: 10",
    });

    await client.completeJob(v017.CompletedJob.fromPartial({ jobId: job.id }));
    const again = await client
      .failJob(v017.FailedJob.fromPartial({ jobId: job.id, error: "x" }))
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DrpcRemoteError);
    expect(again).toMatchObject({ message: "job already completed" });
    expect(fake.violations).toEqual([`job ${job.id}: a second terminal message`]);
    expect(fake.jobs.get(job.id)?.state).toBe("completed");
  });
});

describe("fake coderd v2 over dRPC", () => {
  const start = () =>
    FakeCoderdDrpc.start({
      generation: "v2",
      psk: PSK,
      sessionTokens: { [TOKEN]: { orgAdmin: false, userId: "u1" } },
      provisionerKeys: { [KEY]: { organization: ORG, tags: { pool: "key-pool" } } },
      organizations: [
        { id: ORG, name: "coder", isDefault: true },
        { id: "11111111-2222-4333-8444-555555555555", name: "other-org" },
      ],
    });

  it("refuses: wrong PSK (saying we sent a PSK), a version too new, PSK outside the default org", async () => {
    fake = await start();
    const wrong = await v2Connect({ kind: "psk", psk: "nope" }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ status: 401, fatal: true });
    expect((wrong as Error).message).toContain(
      "API key or external provisioner authentication required, but none provided",
    );
    expect((wrong as Error).message).toContain("we sent a provisioner daemon PSK");
    const tooNew = await v2Connect({ kind: "psk", psk: PSK }, { apiVersion: "1.99" }).catch(
      (e: unknown) => e,
    );
    expect(tooNew).toMatchObject({ status: 400, field: "version" });
    expect((tooNew as Error).message).toContain(
      "server is at version 1.18, behind requested minor version 1.99",
    );
    const otherOrg = await v2Connect(
      { kind: "psk", psk: PSK },
      { organization: "other-org" },
    ).catch((e: unknown) => e);
    expect(otherOrg).toMatchObject({ status: 403 });
    expect((otherOrg as Error).message).toContain(
      "PSK auth is only allowed for the default organization 'coder'",
    );
    const userScope = await v2Connect({ kind: "session-token", token: TOKEN }).catch(
      (e: unknown) => e,
    );
    expect((userScope as Error).message).toContain("user unauthorized");
  });

  it("refuses a key with tags (403) and a token with a PSK (400), as coderd does", async () => {
    fake = await start();
    const base = v2ServeRequest({
      coderUrl: fake.url,
      credential: { kind: "provisioner-key", key: KEY },
      tags: {},
      name: "d",
      buildVersion: "v0",
    });
    // Built by hand: our request builder refuses tags with a key before dialling.
    const withTags = new URL(base.url);
    withTags.searchParams.append("tag", "pool=gpu");
    const tagged = await connectCoderd(
      { url: withTags, headers: base.headers },
      { credential: "provisioner-key" },
    ).catch((e: unknown) => e);
    expect(tagged).toMatchObject({ status: 403, fatal: true });
    expect((tagged as Error).message).toContain(
      "tags are not allowed when using a provisioner key",
    );
    const both = await connectCoderd(
      {
        url: base.url,
        headers: {
          "Coder-Provisioner-Daemon-PSK": PSK,
          "Coder-Session-Token": TOKEN,
          "X-Coder-Build-Version": "v0",
        },
      },
      { credential: "psk" },
    ).catch((e: unknown) => e);
    expect(both).toMatchObject({ status: 400, field: "credential" });
  });

  it("a provisioner key brings its own tags", async () => {
    fake = await start();
    await v2Connect({ kind: "provisioner-key", key: KEY });
    expect(fake.daemons[0]).toMatchObject({
      credential: "provisioner-key",
      tags: { pool: "key-pool", scope: "organization" },
      apiVersion: "1.18",
    });
  });

  it("AcquireJobWithCancel blocks until a job exists; CancelAcquire on three idle streams gives three empty jobs", async () => {
    fake = await start();
    const { client } = await v2Connect({ kind: "psk", psk: PSK });
    const waiting = await client.acquireJobWithCancel();
    let settled = false;
    void waiting.job.then(() => {
      settled = true;
    });
    await until(() => fake?.waiting === 1);
    expect(settled).toBe(false);
    const job = fake.enqueue({ provisioner: "terraform" });
    expect((await waiting.job).jobId).toBe(job.id);

    const idle = await Promise.all([1, 2, 3].map(() => client.acquireJobWithCancel()));
    const started = Date.now();
    await Promise.all(idle.map((a) => a.cancel()));
    const jobs = await Promise.all(idle.map((a) => a.job));
    expect(jobs.map((j) => j.jobId)).toEqual(["", "", ""]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a daemon that reconnects under its name keeps reporting its job; another name does not own it", async () => {
    fake = await start();
    const first = await v2Connect({ kind: "psk", psk: PSK }, { name: "stable" });
    const job = fake.enqueue({ provisioner: "terraform" });
    const acquire = await first.client.acquireJobWithCancel();
    expect((await acquire.job).jobId).toBe(job.id);
    first.connection.close();
    await first.connection.closed;

    const stranger = await v2Connect({ kind: "psk", psk: PSK }, { name: "someone-else" });
    await expect(
      stranger.client.updateJob(v2.UpdateJobRequest.fromPartial({ jobId: job.id })),
    ).rejects.toMatchObject({ message: "you don't own this job" });

    const again = await v2Connect({ kind: "psk", psk: PSK }, { name: "stable" });
    await again.client.updateJob(v2.UpdateJobRequest.fromPartial({ jobId: job.id }));
    await again.client.completeJob(v2.CompletedJob.fromPartial({ jobId: job.id }));
    expect(fake.jobs.get(job.id)?.state).toBe("completed");
    expect(fake.violations).toEqual([]);
  });

  it("a dropped AcquireJobWithCancel stream frees the waiter", async () => {
    fake = await start();
    const { client } = await v2Connect({ kind: "psk", psk: PSK });
    const controller = new AbortController();
    const pending = await client.acquireJobWithCancel(controller.signal);
    controller.abort(new Error("shutting down"));
    await expect(pending.job).rejects.toThrow("shutting down");
    await until(() => fake?.waiting === 0);
    // The next job goes to the next stream, not to the dropped one.
    const next = await client.acquireJobWithCancel();
    await until(() => fake?.waiting === 1);
    const job = fake.enqueue({ provisioner: "terraform" });
    expect((await next.job).jobId).toBe(job.id);
  });
});
