import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkWrittenFiles,
  WorkDirError,
  writeWorkFile,
  writtenFileNames,
} from "../../src/terraform/workdir.js";

let base: string;
let work: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "workdir-test-"));
  work = join(base, "work");
  outside = join(base, "outside");
  mkdirSync(work);
  mkdirSync(outside);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe("writeWorkFile", () => {
  it("replaces a link at its name instead of writing through it", async () => {
    symlinkSync(join(outside, "stolen"), join(work, "terraform.tfstate"));
    const path = await writeWorkFile(work, "terraform.tfstate", "state");
    expect(lstatSync(path).isFile()).toBe(true);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toBe("state");
    expect(existsSync(join(outside, "stolen"))).toBe(false);
  });

  it("breaks a hard link instead of writing into the other name", async () => {
    writeFileSync(join(outside, "main.tf"), "keep");
    linkSync(join(outside, "main.tf"), join(work, "terraform.apply.tfplan"));
    await writeWorkFile(work, "terraform.apply.tfplan", "plan");
    expect(readFileSync(join(outside, "main.tf"), "utf8")).toBe("keep");
  });
});

describe("checkWrittenFiles", () => {
  it("passes regular files and absent ones", async () => {
    writeFileSync(join(work, "terraform.tfstate"), "{}");
    await expect(checkWrittenFiles(work)).resolves.toBeUndefined();
  });

  it.each(writtenFileNames)("refuses %s as a symlink, even a dangling one", async (name) => {
    symlinkSync("../outside/x", join(work, name));
    await expect(checkWrittenFiles(work)).rejects.toThrow(
      new WorkDirError(
        `${name} in the work dir is a link; terraform writes this file and would write through it`,
      ),
    );
  });

  it("refuses a hard link", async () => {
    writeFileSync(join(work, "main.tf"), "x");
    linkSync(join(work, "main.tf"), join(work, "terraform.tfplan"));
    await expect(checkWrittenFiles(work)).rejects.toThrow(/terraform\.tfplan in the work dir/);
  });
});
