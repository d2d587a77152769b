// The coderd v0.17 adapter: every v0.17.4 message sample survives the trip through our own
// messages (so no field coderd sends or expects is lost by the name mapping), and the daemon
// takes a template import and a workspace build from the strict dRPC fake with real terraform.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import * as ours from "../../src/proto/provisionerd.js";
import {
  type TerraformScratch,
  templateTar,
  terraformScratch,
} from "../daemon/helpers/terraform.js";
import { sharedData } from "../helpers/shared-data.js";
import {
  buildJob,
  ended,
  importJob,
  LONG,
  startV017,
  type V017Setup,
} from "./helpers/v017-daemon.js";

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

describe("daemon over the coderd v0.17 adapter (real terraform)", () => {
  let scratch: TerraformScratch;
  let setup: V017Setup | undefined;

  beforeAll(async () => {
    scratch = await terraformScratch();
  });
  afterAll(() => scratch.cleanup());
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  it("imports a template, then builds a workspace from it", { timeout: LONG }, async () => {
    setup = await startV017(scratch);
    const { fake } = setup;
    const archive = templateTar("minimal");
    const imported = await ended(fake.enqueue(importJob(archive)));
    expect(imported.failure).toBeUndefined();
    const importResult = (imported.terminal as v017.CompletedJob).type;
    expect(importResult?.$case).toBe("templateImport");
    if (importResult?.$case !== "templateImport") return;
    expect(importResult.value.startResources.length).toBeGreaterThan(0);
    const updates = imported.updates as v017.UpdateJobRequest[];
    const lines = updates.flatMap((u) => u.logs.map((l) => l.output));
    expect(lines.some((l) => l.includes("Terraform"))).toBe(true);

    const built = await ended(fake.enqueue(buildJob(archive)));
    expect(built.failure).toBeUndefined();
    const build = (built.terminal as v017.CompletedJob).type;
    expect(build?.$case).toBe("workspaceBuild");
    if (build?.$case !== "workspaceBuild") return;
    expect(JSON.parse(build.value.state.toString("utf8")).resources.length).toBeGreaterThan(0);
    expect(build.value.resources.flatMap((r) => r.agents).length).toBeGreaterThan(0);
    expect(fake.violations).toEqual([]);
  });

  it("stops with coderd's refusal when the session token is wrong", async () => {
    setup = await startV017(scratch, { token: "zzzzzzzzzz-0123456789abcdefghijkl" });
    await expect(setup.daemon.done).rejects.toThrow(
      /401.*API key secret is invalid.*we sent a session token/,
    );
  });
});
