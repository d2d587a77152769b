// A build or dry run whose Metadata names the template version's module files gets them from
// coderd by DownloadFile before the daemon sees the job; a file that fails its checks, or that
// coderd does not have, fails the job at coderd with one message naming the file id.
import { createHash, randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type CoderdV2Adapter, coderdV2 } from "../../src/coderd/adapters/v2-adapter.js";
import { AcquireJobRequest } from "../../src/provisioner/model.js";
import { FakeCoderdDrpc, type FakeJob } from "./fake-coderd-drpc.js";

const PSK = "psk-0123456789-abcdefghij";
const MIB = 1024 * 1024;

describe("module files by DownloadFile over the coderd v2 adapter", () => {
  let fake: FakeCoderdDrpc;
  let adapter: CoderdV2Adapter;

  beforeAll(async () => {
    fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
    const coderUrl = new URL(fake.url.href.replace(/^ws/, "http"));
    adapter = coderdV2({
      coderUrl,
      credential: { kind: "psk", psk: PSK },
      tags: {},
      name: "module-files",
      buildVersion: "v0.0.0-test",
    })({
      daemonId: "6d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
      logger: pino({ level: "silent" }),
      rpcTimeoutMs: 10_000,
      reconnectMaxMs: 1_000,
      onContact: () => {},
      onFatal: () => {},
    }) as CoderdV2Adapter;
  });
  afterAll(async () => {
    adapter?.close();
    await fake?.close();
  });

  function enqueue(kind: "workspaceBuild" | "templateDryRun", fileId: string): FakeJob {
    const metadata = { coderUrl: "http://coder", templateVersionModulesFile: fileId };
    return fake.enqueue({
      provisioner: "terraform",
      userName: "admin",
      templateSourceArchive: Buffer.from("not read here"),
      type:
        kind === "workspaceBuild"
          ? {
              $case: kind,
              value: { workspaceBuildId: "b", state: Buffer.from("prior state"), metadata },
            }
          : { $case: kind, value: { metadata } },
    });
  }

  async function acquire() {
    return adapter.acquireJob(AcquireJobRequest.create(), new AbortController().signal);
  }

  it("hands the daemon a build carrying the downloaded files, in order over several chunks", async () => {
    const data = randomBytes(5 * MIB + 123);
    const id = fake.storeFile(data);
    const job = enqueue("workspaceBuild", id);
    const got = await acquire();
    expect(got.jobId).toBe(job.id);
    if (got.type?.$case !== "workspaceBuild") throw new Error(`not a build: ${got.type?.$case}`);
    expect(got.type.value.metadata?.templateVersionModulesFile).toBe(id);
    expect(got.type.value.metadata?.templateVersionModuleFiles?.equals(data)).toBe(true);
    expect(fake.downloads.at(-1)).toBe(id);
    expect(fake.violations).toEqual([]);
  });

  it("downloads for a template dry run too", async () => {
    const data = randomBytes(1000);
    const id = fake.storeFile(data);
    enqueue("templateDryRun", id);
    const got = await acquire();
    if (got.type?.$case !== "templateDryRun") throw new Error(`not a dry run: ${got.type?.$case}`);
    expect(got.type.value.metadata?.templateVersionModuleFiles?.equals(data)).toBe(true);
  });

  it("downloads nothing for a build without module files", async () => {
    const before = fake.downloads.length;
    enqueue("workspaceBuild", "");
    const got = await acquire();
    if (got.type?.$case !== "workspaceBuild") throw new Error(`not a build: ${got.type?.$case}`);
    expect(got.type.value.metadata?.templateVersionModuleFiles).toBeUndefined();
    expect(fake.downloads.length).toBe(before);
  });

  it("fails the job at coderd when the file's sha256 does not match, naming the file id", async () => {
    const data = randomBytes(3 * MIB);
    const id = "f00dfeed-0000-4000-8000-000000000001";
    fake.files.set(id, { data, hash: createHash("sha256").update("other bytes").digest() });
    const job = enqueue("workspaceBuild", id);
    const got = await acquire();
    expect(got.jobId).toBe("");
    await vi.waitFor(() => expect(job.state).toBe("failed"), { timeout: 10_000, interval: 20 });
    expect(job.failure).toBe(
      `downloading the template version's module files (file ${id}) failed: /provisionerd.ProvisionerDaemon/DownloadFile: sha256 of the received file does not match`,
    );
    // The build's state goes back with the failure, so coderd keeps it.
    const failed = job.terminal as { type?: { $case: string; value: { state?: Buffer } } };
    expect(failed.type?.value.state?.toString()).toBe("prior state");
  });

  it("stops reading at the first chunk beyond what DataUpload announced", async () => {
    const data = randomBytes(6 * MIB);
    const id = "f00dfeed-0000-4000-8000-000000000003";
    fake.files.set(id, {
      data,
      hash: createHash("sha256").update(data).digest(),
      announce: { size: 4 * MIB, chunks: 2 },
    });
    const job = enqueue("workspaceBuild", id);
    expect((await acquire()).jobId).toBe("");
    await vi.waitFor(() => expect(job.state).toBe("failed"), { timeout: 10_000, interval: 20 });
    expect(job.failure).toBe(
      `downloading the template version's module files (file ${id}) failed: /provisionerd.ProvisionerDaemon/DownloadFile: chunk 2 goes beyond the announced 2 chunks / ${4 * MIB} bytes`,
    );
  });

  it("fails the job with coderd's own error for a file it does not have", async () => {
    const id = "f00dfeed-0000-4000-8000-000000000002";
    const job = enqueue("templateDryRun", id);
    const got = await acquire();
    expect(got.jobId).toBe("");
    await vi.waitFor(() => expect(job.state).toBe("failed"), { timeout: 10_000, interval: 20 });
    expect(job.failure).toBe(
      `downloading the template version's module files (file ${id}) failed: /provisionerd.ProvisionerDaemon/DownloadFile: coderd: get file: sql: no rows in result set`,
    );
    expect(fake.violations).toEqual([]);
  });
});
