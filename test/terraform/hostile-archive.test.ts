// Hostile template archives end to end: a real template import through the daemon and the fake
// coderd, with real terraform. Whatever an archive holds, nothing lands outside the job's work
// dir and terraform never runs code the archive brought.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { type Harness, startHarness } from "../daemon/helpers/harness.js";
import { type TerraformScratch, terraformScratch } from "../daemon/helpers/terraform.js";
import type { FakeJob } from "../fake-coderd/fake-coderd.js";
import { terraformPlatform } from "../fixtures/coder-provider/mirror.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import {
  LogCollector,
  openTemplate,
  planRequest,
  provisionFailure,
} from "./helpers/provisioner.js";
import { makeTar, type TarEntry } from "./helpers/tar.js";

const LONG = 120_000;
const mainTf = { name: "main.tf", data: 'resource "terraform_data" "x" {}\n' };

let scratch: TerraformScratch;
let h: Harness | undefined;
/** Where the attacks aim: beside the work dirs, two levels above each job's work dir. */
let escaped: string;

beforeAll(async () => {
  scratch = await terraformScratch();
  escaped = join(scratch.root, "escaped");
  mkdirSync(escaped);
});
afterAll(() => scratch.cleanup());
afterEach(async () => {
  await h?.teardown();
  h = undefined;
});

async function importArchive(entries: TarEntry[]): Promise<FakeJob> {
  h ??= await startHarness();
  if (h.daemons.length === 0) {
    await h.daemon({ provisioners: [scratch.provisioner], heartbeatIntervalMs: 250 });
  }
  const id = h.fake.enqueueJob({
    kind: "template_import",
    payload: { $case: "templateImport", value: { userVariableValues: [] } },
    archive: makeTar(entries),
  });
  return h.fake.waitForJobEnd(id, LONG);
}

function failure(job: FakeJob): { error: string; errorCode: string } {
  expect(job.terminal?.kind).toBe("fail");
  const message = job.terminal?.kind === "fail" ? job.terminal.message : undefined;
  return { error: message?.error ?? "", errorCode: message?.errorCode ?? "" };
}

describe("a symlink chain aimed out of the work dir", () => {
  const deep = "d1/d2/d3/d4/d5/d6/d7/d8";
  const chain = (name: string): TarEntry[] => [
    mainTf,
    ...deep.split("/").map((_, i, parts) => ({
      name: `${parts.slice(0, i + 1).join("/")}/`,
      type: "5",
    })),
    // Back at the work dir: a textual check finds nothing wrong with either link.
    { name: `${deep}/s`, type: "2", linkname: "../../../../../../../.." },
    { name, type: "2", linkname: `${deep}/s/../../escaped/ESCAPED` },
  ];

  it.each(["terraform.tfplan", "terraform.tfstate", "terraform.apply.tfplan", "other.txt"])(
    "fails the import naming %s, and nothing is written outside",
    async (name) => {
      const job = await importArchive(chain(name));
      const { error, errorCode } = failure(job);
      expect(errorCode).toBe("ARCHIVE");
      expect(error).toContain(`entry ${JSON.stringify(name)}`);
      expect(readdirSync(escaped)).toEqual([]);
      expect(scratch.workDirs()).toEqual([]);
    },
    LONG,
  );
});

describe("links planted in a work dir after unpacking", () => {
  it("the daemon never writes state, nor lets terraform write a plan, through them", async () => {
    const session = await openTemplate(scratch, { "main.tf": mainTf.data }, "planted");
    try {
      symlinkSync(join(escaped, "plan"), join(session.directory, "terraform.tfplan"));
      symlinkSync(join(escaped, "state"), join(session.directory, "terraform.tfstate"));
      const state = new TextEncoder().encode('{"version":4,"serial":1,"lineage":"x"}');
      const error = await provisionFailure(
        session.plan(planRequest(WorkspaceTransition.START, state, new LogCollector())),
      );
      expect(error.code).toBe("ARCHIVE");
      expect(error.message).toContain("terraform.tfplan in the work dir is a link");
      expect(readdirSync(escaped)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});

/** Terraform's `h1:` hash of a provider package: dirhash.Hash1 over `{file name: bytes}`. */
function h1(files: Record<string, Buffer | string>): string {
  const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
  const summary = Object.keys(files)
    .sort()
    .map((name) => `${sha(files[name] as Buffer | string)}  ${name}\n`)
    .join("");
  return `h1:${createHash("sha256").update(summary).digest("base64")}`;
}

describe("providers brought in the archive", () => {
  it(
    "never run: the import installs from the mirror although the lock pins the archive's copy",
    async () => {
      const tf = await getOfflineTerraform();
      const ran = join(scratch.root, "provider-ran");
      const executable = `terraform-provider-coder_v${tf.version}`;
      const fake = `#!/bin/sh\necho ran >> '${ran}'\nexit 1\n`;
      const mirrorPackage = join(
        tf.mirrorDir,
        "registry.terraform.io/coder/coder",
        tf.version,
        terraformPlatform(),
      );
      const real = Object.fromEntries(
        readdirSync(mirrorPackage).map((name) => [name, readFileSync(join(mirrorPackage, name))]),
      );
      const lock = `provider "registry.terraform.io/coder/coder" {
  version     = "${tf.version}"
  constraints = "${tf.version}"
  hashes = [
    "${h1({ [executable]: fake })}",
    "${h1(real)}",
  ]
}
`;
      const job = await importArchive([
        {
          name: "main.tf",
          data: `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "${tf.version}"
    }
  }
}

data "coder_workspace" "me" {}
`,
        },
        { name: ".terraform.lock.hcl", data: lock },
        {
          name: `.terraform/providers/registry.terraform.io/coder/coder/${tf.version}/${terraformPlatform()}/${executable}`,
          data: fake,
          mode: 0o755,
        },
      ]);
      expect(existsSync(ran)).toBe(false);
      expect(job.terminal?.kind).toBe("complete");
      expect(scratch.workDirs()).toEqual([]);
    },
    LONG,
  );
});
