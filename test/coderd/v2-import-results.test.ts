// What a template import reports to a coderd v2, end to end with real terraform and the 2.x test
// provider: workspace tags in UpdateJob, and in CompleteJob the modules, the module files
// (inline, or by UploadFile with only their sha256 inline when they would make CompleteJob too
// large), the plan JSON, presets and external auth providers.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, list } from "tar";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { coderdV2 } from "../../src/coderd/adapters/v2-adapter.js";
import type * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { createDaemon, type Daemon } from "../../src/daemon/index.js";
import { type TerraformScratch, terraformScratch } from "../daemon/helpers/terraform.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { FakeCoderdDrpc, type FakeJob } from "./fake-coderd-drpc.js";

const PSK = "psk-0123456789-abcdefghij";
const LONG = 240_000;
const MIB = 1024 * 1024;

/** The 2.x version of the test provider in the offline mirror, if it has one. */
function v2ProviderVersion(mirrorDir: string): string | undefined {
  try {
    return readdirSync(join(mirrorDir, "registry.terraform.io/coder/coder")).find((v) =>
      v.startsWith("2."),
    );
  } catch {
    return undefined;
  }
}

const tmp = mkdtempSync(join(tmpdir(), "v2-import-results-"));

/**
 * A template calling a local module and a module terraform fetches from a tar.gz outside the
 * template (so init copies it into .terraform/modules), whose `blob.bin` has `blobBytes` of
 * incompressible data.
 */
async function templateArchive(name: string, version: string, blobBytes: number): Promise<Buffer> {
  const fetched = join(tmp, `${name}-fetched`);
  mkdirSync(fetched, { recursive: true });
  writeFileSync(join(fetched, "main.tf"), 'output "size" {\n  value = "fetched"\n}\n');
  writeFileSync(join(fetched, "blob.bin"), randomBytes(blobBytes));
  const fetchedArchive = join(tmp, `${name}-fetched.tar.gz`);
  await create({ cwd: fetched, gzip: true, file: fetchedArchive, portable: true }, [
    "main.tf",
    "blob.bin",
  ]);

  const dir = join(tmp, name);
  mkdirSync(join(dir, "modules/x"), { recursive: true });
  writeFileSync(join(dir, "modules/x/main.tf"), 'output "name" {\n  value = "x"\n}\n');
  writeFileSync(
    join(dir, "main.tf"),
    `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "${version}"
    }
  }
}

data "coder_parameter" "region" {
  name    = "region"
  type    = "string"
  default = "eu"
}

data "coder_workspace_preset" "small" {
  name    = "Small"
  default = true
  parameters = {
    region = "eu"
  }
}

data "coder_workspace_tags" "pool" {
  tags = {
    "cluster" = "gpu-\${data.coder_parameter.region.value}"
    team      = "platform"
  }
}

data "coder_external_auth" "github" {
  id       = "github"
  optional = true
}

module "local" {
  source = "./modules/x"
}

module "fetched" {
  source = "${fetchedArchive}"
}

data "coder_workspace" "me" {}

resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}

resource "terraform_data" "machine" {
  count = data.coder_workspace.me.start_count
  input = {
    token = coder_agent.main.token
    local = module.local.name
    other = module.fetched.size
  }
}
`,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of create({ cwd: dir, portable: true }, ["main.tf", "modules"])) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function tarEntries(archive: Buffer): string[] {
  const file = join(mkdtempSync(join(tmp, "list-")), "modules.tar");
  writeFileSync(file, archive);
  const names: string[] = [];
  list({ file, sync: true, onReadEntry: (entry) => names.push(entry.path) });
  return names;
}

describe("template import results over the coderd v2 adapter", () => {
  let scratch: TerraformScratch;
  let fake: FakeCoderdDrpc;
  let daemon: Daemon;
  let version: string | undefined;

  beforeAll(async () => {
    version = v2ProviderVersion((await getOfflineTerraform()).mirrorDir);
    scratch = await terraformScratch();
    fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
    const coderUrl = new URL(fake.url.href.replace(/^ws/, "http"));
    daemon = createDaemon({
      coderUrl: coderUrl.href,
      connect: coderdV2({
        coderUrl,
        credential: { kind: "psk", psk: PSK },
        tags: {},
        name: "import-results",
        buildVersion: "v0.0.0-test",
      }),
      daemonId: "6d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
      provisioners: [scratch.provisioner],
      pollIntervalMs: 1,
      pollJitterMs: 0,
      heartbeatIntervalMs: 250,
    });
    await daemon.start();
  }, LONG);
  afterAll(async () => {
    await daemon?.close();
    await fake?.close();
    scratch?.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function runImport(archive: Buffer): Promise<{
    job: FakeJob;
    result: v2.CompletedJob_TemplateImport;
    updates: v2.UpdateJobRequest[];
  }> {
    const job = fake.enqueue({
      provisioner: "terraform",
      userName: "admin",
      templateSourceArchive: archive,
      type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
    });
    await vi.waitFor(() => expect(job.state).toMatch(/completed|failed/), {
      timeout: LONG,
      interval: 50,
    });
    expect(job.failure).toBeUndefined();
    const type = (job.terminal as v2.CompletedJob).type;
    if (type?.$case !== "templateImport") throw new Error(`not a template import: ${type?.$case}`);
    return { job, result: type.value, updates: job.updates as v2.UpdateJobRequest[] };
  }

  function expectCommonResults(
    result: v2.CompletedJob_TemplateImport,
    updates: v2.UpdateJobRequest[],
    fetchedSource: string,
  ): void {
    // The tags as written in the template, for coderd to evaluate for each build.
    const tagged = updates.filter((u) => Object.keys(u.workspaceTags).length > 0);
    expect(tagged.map((u) => u.workspaceTags)).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the HCL template, as written
      { cluster: '"gpu-${data.coder_parameter.region.value}"', team: '"platform"' },
    ]);
    expect([...result.startModules].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual([
      { source: fetchedSource, version: "", key: "fetched", dir: "" },
      { source: "./modules/x", version: "", key: "local", dir: "" },
    ]);
    const plan = JSON.parse(result.plan.toString("utf8")) as { format_version?: string };
    expect(plan.format_version).toMatch(/^\d+\.\d+$/);
    expect(result.presets.map((p) => [p.name, p.default, p.parameters])).toEqual([
      ["Small", true, [{ name: "region", value: "eu" }]],
    ]);
    expect(result.externalAuthProviders).toEqual([{ id: "github", optional: true }]);
    expect(result.externalAuthProvidersNames).toEqual(["github"]);
    expect(result.hasExternalAgents).toBe(false);
  }

  it("fails an import whose workspace tag coderd could not evaluate, naming file and tag", {
    timeout: LONG,
  }, async () => {
    const dir = join(tmp, "bad-tag");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "main.tf"),
      'locals {\n  zone = "a"\n}\n\ndata "coder_workspace_tags" "pool" {\n  tags = { zone = local.zone }\n}\n',
    );
    const chunks: Buffer[] = [];
    for await (const chunk of create({ cwd: dir, portable: true }, ["main.tf"])) {
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    const job = fake.enqueue({
      provisioner: "terraform",
      userName: "admin",
      templateSourceArchive: Buffer.concat(chunks),
      type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
    });
    await vi.waitFor(() => expect(job.state).toMatch(/completed|failed/), {
      timeout: LONG,
      interval: 50,
    });
    expect(job.state).toBe("failed");
    expect(job.failure).toMatch(
      /main\.tf:6: workspace tag "zone" = local\.zone: only variables .* may be referred to here, not "local"$/,
    );
  });

  it("sends small module files inline in CompleteJob", { timeout: LONG }, async (ctx) => {
    if (version === undefined) ctx.skip("the offline provider mirror has no 2.x coder provider");
    const { result, updates } = await runImport(
      await templateArchive("small", version as string, 10_000),
    );
    expectCommonResults(result, updates, `file://${join(tmp, "small-fetched.tar.gz")}`);
    expect(fake.uploads).toEqual([]);
    expect(result.moduleFilesHash.length).toBe(0);
    expect(tarEntries(result.moduleFiles)).toEqual([
      ".terraform/modules/fetched/blob.bin",
      ".terraform/modules/fetched/main.tf",
      ".terraform/modules/modules.json",
    ]);
    expect(fake.violations).toEqual([]);
  });

  it("uploads module files that would make CompleteJob too large, naming them by sha256", {
    timeout: LONG,
  }, async (ctx) => {
    if (version === undefined) ctx.skip("the offline provider mirror has no 2.x coder provider");
    const before = fake.uploads.length;
    const { result, updates } = await runImport(
      await templateArchive("large", version as string, 5 * MIB),
    );
    expectCommonResults(result, updates, `file://${join(tmp, "large-fetched.tar.gz")}`);
    expect(result.moduleFiles.length).toBe(0);
    const uploads = fake.uploads.slice(before);
    expect(uploads).toHaveLength(1);
    const upload = uploads[0] as (typeof uploads)[number];
    expect(upload.hash.equals(createHash("sha256").update(upload.data).digest())).toBe(true);
    expect(result.moduleFilesHash.equals(upload.hash)).toBe(true);
    expect(upload.size).toBeGreaterThan(5 * MIB);
    expect(upload.chunks).toBe(Math.ceil(upload.size / (2 * MIB)));
    expect(tarEntries(upload.data)).toEqual([
      ".terraform/modules/fetched/blob.bin",
      ".terraform/modules/fetched/main.tf",
      ".terraform/modules/modules.json",
    ]);
    expect(fake.violations).toEqual([]);
  });
});
