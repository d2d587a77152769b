// Creating operator-named directories: nested paths, existing ones, and paths the file system
// refuses (answered at once with the reason, where Node's recursive mkdir loops forever).
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fileSystemReason, makeDirectory, unusableDirectory } from "../../src/fs/directories.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-dirs-"));

describe("makeDirectory", () => {
  it("creates missing parents with the mode, and accepts an existing directory", async () => {
    const dir = path.join(tmp, "a", "b", "c");
    await makeDirectory(dir, 0o700);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(path.join(tmp, "a")).mode & 0o777).toBe(0o700);
    await expect(makeDirectory(dir)).resolves.toBeUndefined();
  });

  it.skipIf(!existsSync("/proc/self"))("refuses a name /proc does not take", async () => {
    const error = await makeDirectory("/proc/x/y").catch((e: unknown) => e);
    expect((error as NodeJS.ErrnoException).code).toBe("ENOENT");
    expect(fileSystemReason(error)).toBe("the file system does not allow creating it");
  });

  it("refuses a path through or onto a file", async () => {
    const file = path.join(tmp, "file");
    writeFileSync(file, "");
    for (const dir of [file, path.join(file, "sub")]) {
      const error = await makeDirectory(dir).catch((e: unknown) => e);
      expect(fileSystemReason(error)).toBe("a part of the path is not a directory");
    }
  });
});

describe("unusableDirectory", () => {
  it("is undefined for a directory that takes new entries, and leaves nothing in it", async () => {
    const dir = path.join(tmp, "usable");
    expect(await unusableDirectory(dir)).toBeUndefined();
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
