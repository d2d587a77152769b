// The coderd v0.17 adapter: every v0.17.4 message sample survives the trip through our own
// messages (so no field coderd sends or expects is lost by the name mapping), and the daemon
// takes a workspace's whole life (import, dry run, start, stop, delete) from the strict dRPC
// fake with real terraform.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import * as ours from "../../src/proto/provisionerd.js";
import { type TerraformScratch, terraformScratch } from "../daemon/helpers/terraform.js";
import { sharedData } from "../helpers/shared-data.js";
import {
  type CoderdSetup,
  LIFECYCLE_TIMEOUT,
  lifecycle,
  startV017,
} from "./helpers/coderd-daemon.js";

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
  let setup: CoderdSetup | undefined;

  beforeAll(async () => {
    scratch = await terraformScratch();
  });
  afterAll(() => scratch.cleanup());
  afterEach(async () => {
    await setup?.close();
    setup = undefined;
  });

  it("imports, dry-runs, starts, stops and deletes, handing state from build to build", {
    timeout: LIFECYCLE_TIMEOUT,
  }, async () => {
    setup = await startV017(scratch);
    const { imported, start } = await lifecycle(setup.fake);
    const updates = imported.updates as v017.UpdateJobRequest[];
    const lines = updates.flatMap((u) => u.logs.map((l) => l.output));
    expect(lines.some((l) => l.includes("Terraform"))).toBe(true);
    const build = (start.terminal as v017.CompletedJob).type;
    if (build?.$case !== "workspaceBuild") throw new Error("not a workspace build result");
    expect(build.value.resources.flatMap((r) => r.agents).length).toBeGreaterThan(0);
  });

  it("stops with coderd's refusal when the session token is wrong", async () => {
    setup = await startV017(scratch, { token: "zzzzzzzzzz-0123456789abcdefghijkl" });
    await expect(setup.daemon.done).rejects.toThrow(
      /401.*API key secret is invalid.*we sent a session token/,
    );
  });
});
