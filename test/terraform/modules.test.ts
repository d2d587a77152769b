// The module manifest `terraform init` writes, and the archive of the module files it downloaded.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { list } from "tar";
import { afterEach, describe, expect, it } from "vitest";
import {
  ModulesManifestError,
  moduleArchive,
  readModulesManifest,
} from "../../src/terraform/modules.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workDir(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), "modules-"));
  dirs.push(dir);
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), data);
  }
  return dir;
}

const manifest = (modules: object[]) =>
  JSON.stringify({ Modules: [{ Key: "", Source: "", Dir: "." }, ...modules] });

function entries(archive: Buffer): string[] {
  const file = join(workDir({}), "modules.tar");
  writeFileSync(file, archive);
  const names: string[] = [];
  list({ file, sync: true, onReadEntry: (entry) => names.push(entry.path) });
  return names;
}

describe("module manifest", () => {
  it("lists every module but the root, with source, version and key", async () => {
    const dir = workDir({
      ".terraform/modules/modules.json": manifest([
        { Key: "x", Source: "./modules/x", Dir: "modules/x" },
        {
          Key: "code",
          Source: "registry.coder.com/coder/code-server/coder",
          Version: "1.3.0",
          Dir: ".terraform/modules/code",
        },
        { Key: "code.inner", Source: "./inner", Dir: ".terraform/modules/code/inner" },
      ]),
    });
    const read = await readModulesManifest(dir);
    expect(read?.modules.map(({ source, version, key }) => ({ source, version, key }))).toEqual([
      { source: "./modules/x", version: "", key: "x" },
      { source: "registry.coder.com/coder/code-server/coder", version: "1.3.0", key: "code" },
      { source: "./inner", version: "", key: "code.inner" },
    ]);
  });

  it("is absent when init wrote none", async () => {
    expect(await readModulesManifest(workDir({ "main.tf": "" }))).toBeUndefined();
  });

  it("names the file when it is not a manifest", async () => {
    const dir = workDir({ ".terraform/modules/modules.json": '{"Modules": [{"Key": 1}]}' });
    const failure = readModulesManifest(dir);
    await expect(failure).rejects.toBeInstanceOf(ModulesManifestError);
    await expect(failure).rejects.toThrow(
      /^\.terraform\/modules\/modules\.json: not a module manifest \(Modules\.0\.Key: /,
    );
  });
});

describe("module files archive", () => {
  it("holds the downloaded modules and the manifest, not local modules, .git or links", async () => {
    const outside = workDir({ "secret.txt": "not for coderd" });
    const dir = workDir({
      "modules/x/main.tf": "# local",
      ".terraform/modules/remote/main.tf": 'output "o" { value = 1 }',
      ".terraform/modules/remote/sub/vars.tf": "# nested",
      ".terraform/modules/remote/.git/HEAD": "ref: main",
      ".terraform/modules/modules.json": manifest([
        { Key: "x", Source: "./modules/x", Dir: "modules/x" },
        {
          Key: "remote",
          Source: "git::https://example.com/r.git",
          Dir: ".terraform/modules/remote",
        },
        { Key: "linked", Source: "file:///elsewhere", Dir: ".terraform/modules/linked" },
        { Key: "escape", Source: "x", Dir: ".terraform/modules/../../etc" },
      ]),
    });
    symlinkSync(join(outside, "secret.txt"), join(dir, ".terraform/modules/remote/leak.txt"));
    symlinkSync(outside, join(dir, ".terraform/modules/linked"));
    const read = await readModulesManifest(dir);
    const archive = await moduleArchive(dir, read as NonNullable<typeof read>);
    expect(archive.skipped).toEqual([]);
    expect(entries(archive.bytes)).toEqual([
      ".terraform/modules/remote/main.tf",
      ".terraform/modules/remote/sub/vars.tf",
      ".terraform/modules/modules.json",
    ]);
    // The same files give the same bytes: no times or owners inside.
    const again = await moduleArchive(dir, read as NonNullable<typeof read>);
    expect(again.bytes.equals(archive.bytes)).toBe(true);
  });

  it("is empty when every module is local", async () => {
    const dir = workDir({
      "modules/x/main.tf": "# local",
      ".terraform/modules/modules.json": manifest([
        { Key: "x", Source: "./modules/x", Dir: "modules/x" },
      ]),
    });
    const read = await readModulesManifest(dir);
    expect((await moduleArchive(dir, read as NonNullable<typeof read>)).bytes.length).toBe(0);
  });

  it("leaves out a module that would take it past its limit, keeping the others", async () => {
    const dir = workDir({
      ".terraform/modules/big/blob.bin": Buffer.alloc(40_000, 1),
      ".terraform/modules/small/main.tf": "# small",
      ".terraform/modules/modules.json": manifest([
        { Key: "big", Source: "s3::big", Dir: ".terraform/modules/big" },
        { Key: "small", Source: "s3::small", Dir: ".terraform/modules/small" },
      ]),
    });
    const read = await readModulesManifest(dir);
    const archive = await moduleArchive(dir, read as NonNullable<typeof read>, 20_000);
    expect(archive.skipped).toEqual(["big"]);
    expect(archive.bytes.length).toBeLessThanOrEqual(20_000);
    expect(entries(archive.bytes)).toEqual([
      ".terraform/modules/small/main.tf",
      ".terraform/modules/modules.json",
    ]);
  });
});
