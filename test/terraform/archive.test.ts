import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveError, unpackArchive } from "../../src/terraform/archive.js";
import { makeTar, makeTarGz, type TarEntry } from "./helpers/tar.js";

let base: string;
let target: string;

beforeEach(() => {
  // The work dir sits one level down, so anything escaping it lands in `base` where we can see it.
  base = mkdtempSync(join(tmpdir(), "archive-test-"));
  target = join(base, "work");
  mkdirSync(target);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const limits = { maxFileBytes: 1024, maxTotalBytes: 4096, maxFiles: 10 };

async function refusal(archive: Uint8Array, custom = limits): Promise<ArchiveError> {
  const error = await unpackArchive(archive, target, custom).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArchiveError);
  // Nothing escaped the work dir.
  expect(readdirSync(base).sort()).toEqual(["work"]);
  return error as ArchiveError;
}

describe("unpackArchive", () => {
  const template: TarEntry[] = [
    { name: "main.tf", data: 'resource "terraform_data" "x" {}\n' },
    { name: "scripts/run.sh", data: "#!/bin/sh\necho hi\n", mode: 0o755 },
    { name: "deep/er/path/file.txt", data: "nested" },
    { name: "empty/", type: "5" },
  ];

  it("unpacks a plain tar, creating parent directories and keeping modes", async () => {
    const result = await unpackArchive(makeTar(template), target, limits);
    expect(result).toMatchObject({ files: 3, directories: 1 });
    expect(readFileSync(join(target, "main.tf"), "utf8")).toContain("terraform_data");
    expect(readFileSync(join(target, "deep/er/path/file.txt"), "utf8")).toBe("nested");
    expect(statSync(join(target, "scripts/run.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(join(target, "empty")).isDirectory()).toBe(true);
  });

  it("detects gzip from the bytes", async () => {
    const result = await unpackArchive(makeTarGz(template), target, limits);
    expect(result.files).toBe(3);
    expect(readFileSync(join(target, "scripts/run.sh"), "utf8")).toContain("echo hi");
  });

  it("keeps a symlink that stays inside", async () => {
    await unpackArchive(
      makeTar([
        { name: "modules/a/main.tf", data: "# a" },
        { name: "current", type: "2", linkname: "modules/a" },
      ]),
      target,
      limits,
    );
    expect(readlinkSync(join(target, "current"))).toBe("modules/a");
    expect(readFileSync(join(target, "current/main.tf"), "utf8")).toBe("# a");
  });

  it("a later entry replaces an earlier one of the same name", async () => {
    await unpackArchive(
      makeTar([
        { name: "main.tf", data: "first" },
        { name: "main.tf", data: "second" },
      ]),
      target,
      limits,
    );
    expect(readFileSync(join(target, "main.tf"), "utf8")).toBe("second");
  });

  it.each([
    ["../evil.tf", "path would land outside the work directory"],
    ["a/../../evil.tf", "path would land outside the work directory"],
    ["/etc/evil.tf", "absolute paths are not allowed"],
  ])("refuses the entry %s", async (name, reason) => {
    const error = await refusal(
      makeTar([
        { name: "ok.tf", data: "x" },
        { name, data: "evil" },
      ]),
    );
    expect(error.entry).toBe(name);
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.message).toContain(reason);
  });

  it.each([
    ["symlink up", { name: "up", type: "2", linkname: "../../etc" }],
    ["absolute symlink", { name: "abs", type: "2", linkname: "/etc/passwd" }],
    ["hard link up", { name: "hard", type: "1", linkname: "../outside" }],
  ])("refuses a %s", async (_, entry) => {
    const error = await refusal(makeTar([entry as TarEntry]));
    expect(error.entry).toBe((entry as TarEntry).name);
    expect(error.message).toContain("link points outside the work directory");
  });

  it("refuses a chain of links that each look harmless but resolve outside", async () => {
    // d/l -> .. is the root; y -> d/l/.. is then the root's parent.
    const error = await refusal(
      makeTar([
        { name: "d/", type: "5" },
        { name: "d/l", type: "2", linkname: ".." },
        { name: "y", type: "2", linkname: "d/l/.." },
      ]),
    );
    expect(error.entry).toBe("y");
    expect(error.message).toContain("resolves to");
  });

  it("never writes through a link from the archive", async () => {
    // The file entry comes after a link of the same directory name: it must not follow it.
    const error = await refusal(
      makeTar([
        { name: "out", type: "2", linkname: "inside" },
        { name: "inside/", type: "5" },
        { name: "out/file", data: "x" },
      ]),
    );
    expect(error.entry).toBe("out");
    expect(existsSync(join(target, "inside/file"))).toBe(false);
  });

  it.each([
    ["3", "CharacterDevice"],
    ["4", "BlockDevice"],
    ["6", "FIFO"],
  ])("refuses device/fifo entries (type %s)", async (type, name) => {
    const error = await refusal(makeTar([{ name: "dev", type }]));
    expect(error.entry).toBe("dev");
    expect(error.message).toContain(`${name} entries are not allowed`);
  });

  it("refuses a file over the per-file limit instead of truncating it", async () => {
    const error = await refusal(makeTar([{ name: "big.bin", data: Buffer.alloc(1025, 1) }]));
    expect(error.entry).toBe("big.bin");
    expect(error.message).toContain("larger than 1024 bytes");
    expect(existsSync(join(target, "big.bin"))).toBe(false);
  });

  it("refuses archives over the total size limit, naming the entry that crossed it", async () => {
    const entries = [0, 1, 2, 3, 4].map((i) => ({ name: `f${i}`, data: Buffer.alloc(1000, i) }));
    const error = await refusal(makeTar(entries));
    expect(error.entry).toBe("f4");
    expect(error.message).toContain("more than 4096 bytes");
  });

  it("refuses archives with too many entries", async () => {
    const entries = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.tf`, data: "x" }));
    const error = await refusal(makeTar(entries));
    expect(error.entry).toBe("f10.tf");
    expect(error.message).toContain("more than 10 entries");
  });

  it("refuses a corrupt archive", async () => {
    const error = await refusal(Buffer.from("this is not a tar archive at all ".repeat(40)));
    expect(error.message).toMatch(/^read template source archive: /);
  });

  it("refuses a truncated archive", async () => {
    const full = makeTar([{ name: "main.tf", data: Buffer.alloc(900, 65) }], { end: false });
    const error = await refusal(full.subarray(0, 700));
    expect(error.message).toMatch(/^read template source archive: .*[Tt]runcated/);
  });

  it("refuses an archive cut off between two entries", async () => {
    const full = makeTar([
      { name: "a.tf", data: "# a\n" },
      { name: "b.tf", data: "# b\n" },
    ]);
    // Header + one body block of a.tf: a whole entry, then nothing, no end marker.
    const error = await refusal(full.subarray(0, 1024));
    expect(error.message).toMatch(/truncated \(it ends without the end-of-archive marker\)/);
  });

  it("refuses an archive cut inside a header", async () => {
    const full = makeTar([
      { name: "a.tf", data: "# a\n" },
      { name: "b.tf", data: "# b\n" },
    ]);
    const error = await refusal(full.subarray(0, 1024 + 300));
    expect(error.message).toMatch(/truncated/);
  });

  it("refuses an empty input", async () => {
    const error = await refusal(new Uint8Array());
    expect(error.message).toContain("empty");
  });

  it("stops when the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      unpackArchive(makeTar(template), target, limits, controller.signal),
    ).rejects.toThrow();
    expect(existsSync(join(target, "main.tf"))).toBe(false);
  });
});
