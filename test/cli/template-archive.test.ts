// Packing a template directory for `provisionerd build`: what goes in, and what is refused by
// name before it is read (files over the unpacker's limits, FIFOs and other special files).
import { execFileSync } from "node:child_process";
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { t as listTar } from "tar";
import { describe, expect, it } from "vitest";
import {
  loadTemplate,
  packTemplateDirectory,
  TemplateArchiveError,
} from "../../src/cli/template-archive.js";
import { defaultArchiveLimits } from "../../src/terraform/index.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-pack-"));

function templateDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmp, "template-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A sparse file: its size costs no disk, and reading it would cost that much memory. */
function sparseFile(file: string, bytes: number): void {
  const fd = openSync(file, "w");
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

async function entryNames(archive: Buffer): Promise<string[]> {
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = listTar({ onReadEntry: (entry) => names.push(entry.path) });
    parser.on("end", resolve);
    parser.on("error", reject);
    Readable.from([archive]).pipe(parser);
  });
  return names;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TemplateArchiveError);
  return (error as Error).message;
}

describe("packTemplateDirectory", () => {
  it("packs files and sub-directories, leaving out hidden files and Terraform state", async () => {
    const dir = templateDir({
      "main.tf": "# main",
      "modules/vm/main.tf": "# vm",
      ".terraform/providers/x": "installed",
      ".env": "SECRET=1",
      "terraform.tfstate": "{}",
      "provisionerd-local.tfstate.build.json": "{}",
    });
    expect(await entryNames(await packTemplateDirectory(dir))).toEqual([
      "main.tf",
      "modules/",
      "modules/vm/",
      "modules/vm/main.tf",
    ]);
  });

  it("refuses a file over the per-file limit by name, without reading it", async () => {
    const dir = templateDir({ "main.tf": "# main" });
    const big = 1536 * 1024 * 1024;
    sparseFile(path.join(dir, "disk.img"), big);
    const rssBefore = process.memoryUsage().rss;
    const startedAt = performance.now();
    const message = await refusal(packTemplateDirectory(dir, defaultArchiveLimits));
    expect(message).toBe(
      'template directory: "disk.img" is 1536.0 MiB, over the 10.0 MiB limit for one file',
    );
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it("refuses files that together pass the template limit, naming where it was passed", async () => {
    const dir = templateDir({ "a.tf": "x".repeat(600), "b.tf": "y".repeat(600), "c.tf": "z" });
    const limits = { ...defaultArchiveLimits, maxFileBytes: 1000, maxTotalBytes: 1000 };
    expect(await refusal(packTemplateDirectory(dir, limits))).toMatch(
      /^template directory: the files up to "b\.tf" make more than the 0\.0 MiB limit/,
    );
  });

  it("refuses more entries than the limit", async () => {
    const dir = templateDir({ "a.tf": "", "b.tf": "", "c.tf": "" });
    const limits = { ...defaultArchiveLimits, maxFiles: 2 };
    expect(await refusal(packTemplateDirectory(dir, limits))).toBe(
      "template directory: more than 2 entries, the limit for a template",
    );
  });

  it("refuses a FIFO by name instead of waiting for a writer", async () => {
    const dir = templateDir({ "main.tf": "# main" });
    mkdirSync(path.join(dir, "scripts"));
    execFileSync("mkfifo", [path.join(dir, "scripts", "pipe")]);
    expect(await refusal(packTemplateDirectory(dir))).toBe(
      'template directory: "scripts/pipe" is a FIFO (named pipe); only files, directories and links can be packed',
    );
  });
});

describe("loadTemplate of an archive file", () => {
  it("refuses a FIFO named like an archive", async () => {
    const fifo = path.join(tmp, "template.tar");
    execFileSync("mkfifo", [fifo]);
    expect(await refusal(loadTemplate({ kind: "archive", path: fifo }, defaultArchiveLimits))).toBe(
      'template "template.tar" is a FIFO (named pipe), not a tar archive',
    );
  });

  it("refuses an archive larger than any template within the limits, before reading it", async () => {
    const file = path.join(tmp, "huge.tar");
    sparseFile(file, 1536 * 1024 * 1024);
    expect(
      await refusal(loadTemplate({ kind: "archive", path: file }, defaultArchiveLimits)),
    ).toMatch(
      /^template "huge\.tar" is 1536\.0 MiB, more than a template within the limits can be/,
    );
  });
});
