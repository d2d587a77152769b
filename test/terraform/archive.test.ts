import { randomBytes } from "node:crypto";
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
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ArchiveError, defaultArchiveLimits, unpackArchive } from "../../src/terraform/archive.js";
import { gzipPieces, makeTar, makeTarGz, type TarEntry, zeroFilesTar } from "./helpers/tar.js";

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

  it("refuses names that are not UTF-8 instead of letting them collapse into one", async () => {
    // Latin-1 "café.tf" and "cafè.tf": decoded with replacement, both became "caf\uFFFD.tf" and
    // the second silently overwrote the first.
    const error = await refusal(
      makeTar([
        { name: "x", rawName: Buffer.from("caf\xe9.tf", "latin1"), data: "first" },
        { name: "x", rawName: Buffer.from("caf\xe8.tf", "latin1"), data: "second" },
      ]),
    );
    expect(error.entry).toBe("caf\\xe9.tf");
    expect(error.message).toContain("the entry name is not valid UTF-8");
    expect(readdirSync(target)).toEqual([]);
  });

  it("refuses a link target that is not UTF-8", async () => {
    const error = await refusal(
      makeTar([{ name: "l", type: "2", rawLinkname: Buffer.from("\xe9", "latin1") }]),
    );
    expect(error.entry).toBe("l");
    expect(error.message).toContain("the link target is not valid UTF-8");
  });

  it("keeps UTF-8 names as written", async () => {
    await unpackArchive(makeTar([{ name: "café/ünïcödé.tf", data: "x" }]), target, limits);
    expect(readFileSync(join(target, "café/ünïcödé.tf"), "utf8")).toBe("x");
  });

  describe("links, resolved as the finished work dir will resolve them", () => {
    const deep = "d1/d2/d3/d4/d5/d6/d7/d8";
    const dirs = (path: string): TarEntry[] =>
      path.split("/").map((_, i, parts) => ({
        name: `${parts.slice(0, i + 1).join("/")}/`,
        type: "5",
      }));
    const lnk = (name: string, linkname: string): TarEntry => ({ name, type: "2", linkname });

    it("refuses a chain whose every link looks inside but which leads out", async () => {
      // s points back at the work dir (textually fine); out goes nine levels up through it.
      const error = await refusal(
        makeTar([
          ...dirs(deep),
          lnk(`${deep}/s`, "../../../../../../../.."),
          lnk("out.txt", `${deep}/s/${"../".repeat(9)}tmp/x/ESCAPED`),
        ]),
      );
      expect(error.entry).toBe("out.txt");
      expect(error.message).toContain("points outside the work directory");
      expect(readdirSync(target).sort()).toEqual(["d1"]);
    });

    it("refuses a dangling link, naming it", async () => {
      const error = await refusal(
        makeTar([{ name: "main.tf", data: "x" }, lnk("plan", "nowhere/x")]),
      );
      expect(error.entry).toBe("plan");
      expect(error.message).toContain("nowhere, which is not in the archive");
      expect(existsSync(join(target, "plan"))).toBe(false);
    });

    it("refuses a link to a link that leads out or to nothing", async () => {
      const out = await refusal(
        makeTar([lnk("x", "y"), { name: "d/", type: "5" }, lnk("d/l", ".."), lnk("y", "d/l/..")]),
      );
      expect(out.entry).toBe("x");
      expect(out.message).toContain("points outside the work directory");
      rmSync(target, { recursive: true });
      mkdirSync(target);
      const dangling = await refusal(makeTar([lnk("a", "b"), lnk("b", "missing")]));
      expect(dangling.entry).toBe("a");
      expect(dangling.message).toContain("missing, which is not in the archive");
    });

    it("keeps a link to a link to a directory inside", async () => {
      await unpackArchive(
        makeTar([lnk("a", "b"), lnk("b", "dir"), { name: "dir/f", data: "inside" }]),
        target,
        limits,
      );
      expect(readFileSync(join(target, "a/f"), "utf8")).toBe("inside");
      expect(readlinkSync(join(target, "a"))).toBe("b");
    });

    it("refuses loops", async () => {
      const error = await refusal(makeTar([lnk("a", "b"), lnk("b", "a")]));
      expect(error.entry).toBe("a");
      expect(error.message).toContain("more than 40 links");
    });

    it("refuses a link that a later entry makes over an earlier directory", async () => {
      const error = await refusal(
        makeTar([{ name: "d/", type: "5" }, { name: "d/f", data: "x" }, lnk("d", ".")]),
      );
      expect(error.entry).toBe("d");
      expect(error.message).toContain("a directory of the same name is already in the archive");
      expect(statSync(join(target, "d")).isDirectory()).toBe(true);
    });

    it("a later entry replaces an earlier one of the same name, link or file", async () => {
      await unpackArchive(
        makeTar([
          { name: "f", data: "file" },
          lnk("f", "g"),
          { name: "g", data: "g" },
          lnk("h", "f"),
          { name: "h", data: "h as a file" },
        ]),
        target,
        limits,
      );
      expect(readlinkSync(join(target, "f"))).toBe("g");
      expect(readFileSync(join(target, "h"), "utf8")).toBe("h as a file");
    });

    it("refuses a link through a file", async () => {
      const error = await refusal(makeTar([{ name: "f", data: "x" }, lnk("l", "f/..")]));
      expect(error.entry).toBe("l");
      expect(error.message).toContain("goes through the file f");
    });

    it.each([
      ["terraform.tfplan", lnk("terraform.tfplan", "main.tf")],
      ["terraform.apply.tfplan", lnk("terraform.apply.tfplan", "main.tf")],
      ["terraform.tfstate", { name: "terraform.tfstate", type: "1", linkname: "main.tf" }],
      [".terraform.lock.hcl", lnk(".terraform.lock.hcl", "main.tf")],
    ])("refuses a link named %s, a file terraform writes", async (name, entry) => {
      const error = await refusal(makeTar([{ name: "main.tf", data: "x" }, entry as TarEntry]));
      expect(error.entry).toBe(name);
      expect(error.message).toContain("terraform writes this file");
    });

    it("refuses a hard link to a file terraform writes", async () => {
      const error = await refusal(
        makeTar([
          { name: "terraform.tfstate", data: "{}" },
          { name: "copy", type: "1", linkname: "terraform.tfstate" },
        ]),
      );
      expect(error.entry).toBe("copy");
      expect(error.message).toContain("terraform writes terraform.tfstate");
    });
  });

  it("leaves out .terraform and terraform.d at the top, which terraform takes as installed", async () => {
    const result = await unpackArchive(
      makeTar([
        { name: "main.tf", data: "# main" },
        { name: ".terraform/providers/registry.terraform.io/x/y/1.0.0/linux_amd64/bin", data: "!" },
        { name: ".terraform/modules/m/main.tf", data: "# module" },
        { name: "terraform.d/plugins/p", data: "!" },
        { name: ".terraform.lock.hcl", data: "# lock" },
        { name: "modules/a/.terraform/kept", data: "kept" },
      ]),
      target,
      limits,
    );
    expect(result.stripped).toEqual([".terraform", "terraform.d"]);
    expect(readdirSync(target).sort()).toEqual([".terraform.lock.hcl", "main.tf", "modules"]);
    expect(readFileSync(join(target, "modules/a/.terraform/kept"), "utf8")).toBe("kept");
  });

  it("refuses a link into a left-out .terraform: it points at nothing", async () => {
    const error = await refusal(
      makeTar([
        { name: ".terraform/providers/p", data: "!" },
        { name: "p", type: "2", linkname: ".terraform/providers/p" },
      ]),
    );
    expect(error.entry).toBe("p");
    expect(error.message).toContain("not in the archive");
  });

  it("reads GNU long names and pax path records", async () => {
    const long = `${"dir-".repeat(30)}/main.tf`;
    const record = (key: string, value: string) => {
      const body = ` ${key}=${value}\n`;
      let length = Buffer.byteLength(body) + 1;
      length = Buffer.byteLength(body) + String(length).length;
      return `${length}${body}`;
    };
    await unpackArchive(
      makeTar([
        { name: "././@LongLink", type: "L", data: `${long}\0` },
        { name: "cut-short", data: "gnu" },
        { name: "PaxHeader", type: "x", data: record("path", "pax/ünï.tf") },
        { name: "ignored", data: "pax" },
      ]),
      target,
      limits,
    );
    expect(readFileSync(join(target, long), "utf8")).toBe("gnu");
    expect(readFileSync(join(target, "pax/ünï.tf"), "utf8")).toBe("pax");
    expect(existsSync(join(target, "cut-short"))).toBe(false);
  });

  it("refuses a path longer than PATH_MAX (a pax path may be a megabyte)", async () => {
    const long = `${"a/".repeat(200_000)}f`;
    const body = ` path=${long}\n`;
    const size = Buffer.byteLength(body) + String(Buffer.byteLength(body) + 7).length;
    const started = performance.now();
    const error = await refusal(
      makeTar([
        { name: "PaxHeader", type: "x", data: `${size}${body}` },
        { name: "x", data: "x" },
      ]),
      { ...limits, maxTotalBytes: 1024 * 1024 },
    );
    expect(error.message).toContain("path is 400001 bytes long, over the 4096-byte limit");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("reports the first bad entry before corruption later in the same piece of input", async () => {
    const tar = makeTar([{ name: "../evil.tf", data: "x" }], { end: false });
    const error = await refusal(Buffer.concat([tar, Buffer.alloc(512, 7), Buffer.alloc(1024)]));
    expect(error.entry).toBe("../evil.tf");
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

/** Counts event-loop turns while `task` runs and the longest time between two of them. */
async function watchEventLoop<T>(
  task: () => Promise<T>,
): Promise<{ value: T; turns: number; longestGapMs: number }> {
  let turns = 0;
  let last = performance.now();
  let longestGapMs = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { value: await task(), turns, longestGapMs };
  } finally {
    running = false;
  }
}

describe("unpackArchive reads as a stream", () => {
  const MiB = 1024 * 1024;
  const small = makeTar([{ name: "main.tf", data: 'resource "terraform_data" "x" {}\n' }]);

  it("stops at the end marker: 64 MiB of zeros after it cost no time (gzip and plain)", async () => {
    const padded = Buffer.concat([small, Buffer.alloc(64 * MiB)]);
    const gz = gzipSync(padded);
    for (const archive of [gz, padded]) {
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target);
      const started = performance.now();
      const result = await unpackArchive(archive, target, limits);
      // Reading all of it took ~60 s when the parser kept concatenating what followed the end.
      expect(performance.now() - started).toBeLessThan(2000);
      expect(result.files).toBe(1);
      expect(readFileSync(join(target, "main.tf"), "utf8")).toContain("terraform_data");
    }
  });

  it("keeps the event loop turning while it inflates and writes 48 MiB", async () => {
    const archive = await gzipPieces(zeroFilesTar(6, 8 * MiB));
    const { value, turns, longestGapMs } = await watchEventLoop(() =>
      unpackArchive(archive, target, defaultArchiveLimits),
    );
    expect(value).toMatchObject({ files: 6, bytes: 48 * MiB });
    expect(statSync(join(target, "f5")).size).toBe(8 * MiB);
    // One synchronous inflate of the whole archive held the loop for the whole unpack.
    expect(turns).toBeGreaterThan(20);
    expect(longestGapMs).toBeLessThan(500);
  });

  it("stops mid-archive when the signal is aborted, with the signal's reason", async () => {
    const archive = await gzipPieces(zeroFilesTar(8, 8 * MiB));
    const controller = new AbortController();
    const reason = new Error("job canceled");
    // Abort as soon as the first file is on disk.
    const watch = setInterval(() => {
      if (existsSync(join(target, "f0"))) controller.abort(reason);
    }, 1);
    try {
      const error = await unpackArchive(
        archive,
        target,
        defaultArchiveLimits,
        controller.signal,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBe(reason);
    } finally {
      clearInterval(watch);
    }
    expect(existsSync(join(target, "f7"))).toBe(false);
  });

  it("refuses a gzip bomb at the total limit without inflating the rest", async () => {
    // 120 files of 9 MiB zeros: ~1 MiB of gzip that inflates to 1 GiB.
    const archive = await gzipPieces(zeroFilesTar(120, 9 * MiB));
    expect(archive.length).toBeLessThan(2 * MiB);
    const custom = { maxFileBytes: 10 * MiB, maxTotalBytes: 20 * MiB, maxFiles: 1000 };
    global.gc?.();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakArrayBuffers = before.arrayBuffers;
    const sample = () => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
    };
    const sampler = setInterval(sample, 2);
    let error: ArchiveError;
    try {
      error = await refusal(archive, custom);
    } finally {
      clearInterval(sampler);
      sample();
    }
    expect(error.entry).toBe("f2");
    expect(error.message).toContain(`more than ${20 * MiB} bytes (the total limit)`);
    // Inflating it all before the limit was checked took RSS past 1.3 GB.
    expect(peakRss - before.rss).toBeLessThan(200 * MiB);
    expect(peakArrayBuffers - before.arrayBuffers).toBeLessThan(200 * MiB);
  });

  it("refuses a tar stream longer than the limits allow, counting headers no limit sees", async () => {
    // Global pax headers are not entries, so only the stream's length bounds them.
    const globals = Array.from({ length: 100 }, () => ({
      name: "g",
      type: "g",
      data: "x".repeat(1000),
    }));
    const error = await refusal(gzipSync(makeTar([...globals, { name: "main.tf", data: "x" }])));
    expect(error.message).toContain("it unpacks to more than");
    expect(error.message).toContain("the total limit of 4096 bytes plus room for tar headers");
  });

  it.each([
    ["random bytes", () => randomBytes(4096), /it is not a tar or tar\.gz file/],
    ["a few bytes", () => Buffer.from("hello"), /it is not a tar or tar\.gz file/],
    ["gzip of random bytes", () => gzipSync(randomBytes(4096)), /holds no tar archive/],
    [
      "a broken gzip stream",
      () => Buffer.concat([gzipSync(small).subarray(0, 10), randomBytes(2000)]),
      /the gzip data is corrupt or truncated/,
    ],
  ])("%s: one error saying the archive is not a tar or tar.gz", async (_, make, message) => {
    const error = await refusal(make());
    expect(error.message).toMatch(/^read template source archive: /);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/base256/);
  });
});

describe("unpackArchive of a modules archive", () => {
  async function modulesRefusal(entries: TarEntry[]): Promise<ArchiveError> {
    const error = await unpackArchive(makeTar(entries), target, limits, undefined, "modules").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    expect(readdirSync(base).sort()).toEqual(["work"]);
    return error as ArchiveError;
  }

  it("lays out .terraform/modules, which a template archive may not bring", async () => {
    const entries: TarEntry[] = [
      { name: ".terraform/modules/vpc/main.tf", data: 'resource "terraform_data" "n" {}\n' },
      { name: ".terraform/modules/vpc/alias.tf", type: "2", linkname: "main.tf" },
      { name: ".terraform/modules/modules.json", data: '{"Modules":[]}' },
    ];
    const result = await unpackArchive(makeTar(entries), target, limits, undefined, "modules");
    expect(result.stripped).toEqual([]);
    expect(readFileSync(join(target, ".terraform/modules/modules.json"), "utf8")).toBe(
      '{"Modules":[]}',
    );
    expect(readlinkSync(join(target, ".terraform/modules/vpc/alias.tf"))).toBe("main.tf");
    // The same archive as a template: terraform's installed state is left out.
    rmSync(target, { recursive: true });
    mkdirSync(target);
    expect((await unpackArchive(makeTar(entries), target, limits)).stripped).toEqual([
      ".terraform",
    ]);
    expect(existsSync(join(target, ".terraform"))).toBe(false);
  });

  it("refuses anything outside .terraform/modules, naming the entry", async () => {
    for (const name of ["main.tf", ".terraform/providers/x", ".terraform.lock.hcl"]) {
      const error = await modulesRefusal([{ name, data: "x" }]);
      expect(error.message).toBe(
        `entry ${JSON.stringify(name)}: a modules archive may only hold files under .terraform/modules/`,
      );
    }
  });

  it("keeps every other protection: links out of the archive, paths out of the work dir", async () => {
    const link = await modulesRefusal([
      { name: ".terraform/modules/vpc/main.tf", type: "2", linkname: "../../../main.tf" },
    ]);
    expect(link.message).toMatch(/main\.tf.*not in the archive/);
    const up = await modulesRefusal([{ name: ".terraform/modules/../../../x", data: "x" }]);
    expect(up.message).toMatch(/outside the work directory/);
  });
});
