// The coderd v0.17 adapter: every v0.17.4 message sample survives the trip through our own
// messages (so no field coderd sends or expects is lost by the name mapping), and the daemon
// takes a template import and a workspace build from the strict dRPC fake with real terraform.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { coderdV017 } from "../../src/coderd/adapters/v017-adapter.js";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import { createDaemon, type Daemon } from "../../src/daemon/index.js";
import * as ours from "../../src/proto/provisionerd.js";
import {
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "../daemon/helpers/terraform.js";
import { sharedData } from "../helpers/shared-data.js";
import { FakeCoderdDrpc, type FakeJob, randomUUIDFixed } from "./fake-coderd-drpc.js";

type Codec = {
  decode(bytes: Uint8Array): unknown;
  encode(message: never): { finish(): Uint8Array };
  fromPartial(object: never): unknown;
};
const pairs: Record<string, [Codec, Codec]> = {
  AcquiredJob: [v017.AcquiredJob, ours.AcquiredJob],
  UpdateJobRequest: [v017.UpdateJobRequest, ours.UpdateJobRequest],
  UpdateJobResponse: [v017.UpdateJobResponse, ours.UpdateJobResponse],
  CommitQuotaRequest: [v017.CommitQuotaRequest, ours.CommitQuotaRequest],
  CommitQuotaResponse: [v017.CommitQuotaResponse, ours.CommitQuotaResponse],
  FailedJob: [v017.FailedJob, ours.FailedJob],
  CompletedJob: [v017.CompletedJob, ours.CompletedJob],
};

const samples = sharedData("coderd-wire/messages/v0.17.4");
describe.skipIf(!samples.ok)("v0.17.4 samples through our own messages", () => {
  const files = samples.ok
    ? readdirSync(samples.path).filter((f) => f.endsWith(".bin") && !f.includes("Empty__"))
    : [];
  it("covers every job message", () => {
    const names = new Set(files.map((f) => f.slice("provisionerd.".length, f.indexOf("__"))));
    expect([...names].sort()).toEqual(Object.keys(pairs).sort());
  });
  for (const file of files) {
    it(file, () => {
      const name = file.slice("provisionerd.".length, file.indexOf("__"));
      const [theirs, mine] = pairs[name] as [Codec, Codec];
      const bytes = new Uint8Array(readFileSync(join(samples.path, file)));
      const back = theirs.fromPartial(mine.fromPartial(theirs.decode(bytes) as never) as never);
      expect(Buffer.from(theirs.encode(back as never).finish()).toString("hex")).toBe(
        Buffer.from(bytes).toString("hex"),
      );
    });
  }
});

const TOKEN = "abcdefghij-0123456789abcdefghijkl";
const LONG = 120_000;

describe("daemon over the coderd v0.17 adapter (real terraform)", () => {
  let scratch: TerraformScratch;
  let fake: FakeCoderdDrpc;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    scratch = await terraformScratch();
  });
  afterAll(() => scratch.cleanup());
  afterEach(async () => {
    await daemon?.close();
    daemon = undefined;
    await fake?.close();
  });

  async function start(token = TOKEN, tags: Record<string, string> = {}) {
    fake = await FakeCoderdDrpc.start({
      generation: "v0.17",
      sessionTokens: { [TOKEN]: { orgAdmin: true } },
    });
    const coderUrl = new URL(fake.url.href.replace(/^ws/, "http"));
    daemon = createDaemon({
      coderUrl: coderUrl.href,
      connect: coderdV017({ coderUrl, organization: randomUUIDFixed, sessionToken: token, tags }),
      daemonId: "5d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
      provisioners: [scratch.provisioner],
      pollIntervalMs: 20,
      pollJitterMs: 0,
      heartbeatIntervalMs: 250,
    });
    await daemon.start();
    return daemon;
  }

  async function ended(job: FakeJob): Promise<FakeJob> {
    await vi.waitFor(() => expect(job.state).toMatch(/completed|failed/), {
      timeout: LONG,
      interval: 50,
    });
    return job;
  }

  it("imports a template, then builds a workspace from it", { timeout: LONG }, async () => {
    await start();
    const archive = templateTar("minimal");
    const imported = await ended(
      fake.enqueue({
        provisioner: "terraform",
        userName: "admin",
        templateSourceArchive: archive,
        type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
      }),
    );
    expect(imported.failure).toBeUndefined();
    const importResult = (imported.terminal as v017.CompletedJob).type;
    expect(importResult?.$case).toBe("templateImport");
    if (importResult?.$case !== "templateImport") return;
    expect(importResult.value.startResources.length).toBeGreaterThan(0);
    const updates = imported.updates as v017.UpdateJobRequest[];
    const lines = updates.flatMap((u) => u.logs.map((l) => l.output));
    expect(lines.some((l) => l.includes("Terraform"))).toBe(true);

    const built = await ended(
      fake.enqueue({
        provisioner: "terraform",
        userName: "admin",
        templateSourceArchive: archive,
        type: {
          $case: "workspaceBuild",
          value: {
            workspaceBuildId: "0b5a5f5e-1111-4222-8333-944445555666",
            workspaceName: "ws",
            metadata: {
              coderUrl: "http://coder",
              workspaceTransition: 0,
              workspaceName: "ws",
              workspaceOwner: "admin",
              workspaceId: "1b5a5f5e-1111-4222-8333-944445555666",
              workspaceOwnerId: "2b5a5f5e-1111-4222-8333-944445555666",
              workspaceOwnerEmail: "admin@example.com",
            },
          },
        },
      }),
    );
    expect(built.failure).toBeUndefined();
    const build = (built.terminal as v017.CompletedJob).type;
    expect(build?.$case).toBe("workspaceBuild");
    if (build?.$case !== "workspaceBuild") return;
    expect(JSON.parse(build.value.state.toString("utf8")).resources.length).toBeGreaterThan(0);
    expect(build.value.resources.flatMap((r) => r.agents).length).toBeGreaterThan(0);
    expect(fake.violations).toEqual([]);
  });

  it("stops with coderd's refusal when the session token is wrong", async () => {
    const d = await start("zzzzzzzzzz-0123456789abcdefghijkl");
    await expect(d.done).rejects.toThrow(/401.*API key secret is invalid.*we sent a session token/);
  });
});
