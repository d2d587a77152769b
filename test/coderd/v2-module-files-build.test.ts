// A workspace build on a runner that cannot reach a template's module source: the template
// import, on another runner, kept the module files (terraform init fetched the module into
// .terraform/modules), the source then goes away, and the build only succeeds because the daemon
// downloads the template version's module files from coderd (DownloadFile) and lays them out
// before init. Real terraform over the strict v2 fake.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { type TerraformScratch, terraformScratch } from "../daemon/helpers/terraform.js";
import {
  buildJob,
  type CoderdSetup,
  ended,
  importJob,
  LIFECYCLE_TIMEOUT,
  startV2,
} from "./helpers/coderd-daemon.js";

const tmp = mkdtempSync(join(tmpdir(), "v2-module-files-build-"));
const moduleSource = join(tmp, "vpc-module.tar.gz");

/** A template whose one module terraform fetches from a tar.gz outside the template. */
async function templateArchive(): Promise<Buffer> {
  const moduleDir = join(tmp, "module");
  mkdirSync(moduleDir, { recursive: true });
  writeFileSync(
    join(moduleDir, "main.tf"),
    'resource "terraform_data" "network" {\n  input = "from the module"\n}\n\noutput "name" {\n  value = terraform_data.network.output\n}\n',
  );
  await create({ cwd: moduleDir, gzip: true, file: moduleSource, portable: true }, ["main.tf"]);
  const dir = join(tmp, "template");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "main.tf"),
    `module "vpc" {\n  source = "${moduleSource}"\n}\n\nresource "terraform_data" "machine" {\n  input = module.vpc.name\n}\n`,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of create({ cwd: dir, portable: true }, ["main.tf"])) {
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

function withModulesFile(job: Record<string, unknown>, fileId: string): Record<string, unknown> {
  const type = job.type as { value: { metadata: Record<string, unknown> } };
  type.value.metadata.templateVersionModulesFile = fileId;
  return job;
}

describe("module files downloaded for a build over the coderd v2 adapter", () => {
  const scratches: TerraformScratch[] = [];
  let setup: CoderdSetup | undefined;
  let archive: Buffer;
  let moduleFiles: Buffer;

  /** A daemon with its own cache dir, as on another runner: no init of an earlier job to reuse. */
  async function freshRunner(): Promise<CoderdSetup> {
    await setup?.close();
    const scratch = await terraformScratch();
    scratches.push(scratch);
    setup = await startV2(scratch, { logger: pino({ level: "silent" }) });
    return setup;
  }

  beforeAll(async () => {
    archive = await templateArchive();
    const importer = await freshRunner();
    const imported = await ended(importer.fake.enqueue(importJob(archive)), LIFECYCLE_TIMEOUT);
    expect(imported.failure).toBeUndefined();
    const type = (imported.terminal as v2.CompletedJob).type;
    if (type?.$case !== "templateImport") throw new Error(`not an import: ${type?.$case}`);
    moduleFiles = type.value.moduleFiles;
    expect(moduleFiles.length).toBeGreaterThan(0);
    // The module's source is gone: init can only find the module in what coderd kept.
    rmSync(moduleSource);
  }, LIFECYCLE_TIMEOUT);
  afterAll(async () => {
    await setup?.close();
    for (const scratch of scratches) scratch.cleanup();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("builds with the module files from coderd, the module's resource in the result", {
    timeout: LIFECYCLE_TIMEOUT,
  }, async () => {
    const { fake } = await freshRunner();
    // coderd keeps the import's module files and names them in later builds' Metadata.
    const fileId = fake.storeFile(moduleFiles);
    const job = await ended(
      fake.enqueue(withModulesFile(buildJob(archive), fileId)),
      LIFECYCLE_TIMEOUT,
    );
    expect(job.failure).toBeUndefined();
    expect(fake.downloads).toEqual([fileId]);
    const type = (job.terminal as v2.CompletedJob).type;
    if (type?.$case !== "workspaceBuild") throw new Error(`not a build: ${type?.$case}`);
    expect(type.value.resources.map((r) => [r.type, r.name, r.modulePath]).sort()).toEqual([
      ["terraform_data", "machine", ""],
      ["terraform_data", "network", "module.vpc"],
    ]);
    expect(fake.violations).toEqual([]);
  });

  it("fails the same build without them: the module's source cannot be reached", {
    timeout: LIFECYCLE_TIMEOUT,
  }, async () => {
    const { fake } = await freshRunner();
    const job = await ended(fake.enqueue(buildJob(archive)), LIFECYCLE_TIMEOUT);
    expect(job.state).toBe("failed");
    expect(job.failure).toMatch(/vpc-module\.tar\.gz/);
  });
});
