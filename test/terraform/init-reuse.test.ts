// `terraform init` runs once per template version on a slot: later jobs get a copy of its
// `.terraform` and lock file, and any change to what init depends on makes it run again.
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { InitCache, type InitInputs, initKey } from "../../src/terraform/init-cache.js";
import { reusedInitLine } from "../../src/terraform/session.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import {
  LogCollector,
  planRequest,
  type Scratch,
  scratchProvisioner,
  templateArchive,
} from "./helpers/provisioner.js";

const { START } = WorkspaceTransition;
const noState = new Uint8Array();

let tmp: string;
let mirror: string;
let providerVersion: string;
beforeAll(async () => {
  const tf = await getOfflineTerraform();
  providerVersion = tf.version;
  tmp = mkdtempSync(join(tmpdir(), "init-reuse-"));
  // A private copy of the mirror, so that the test may touch it.
  mirror = join(tmp, "mirror");
  cpSync(tf.mirrorDir, mirror, { recursive: true });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const template = (comment = "") => ({
  "main.tf": `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "${providerVersion}"
    }
  }
}
${comment}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
}
resource "terraform_data" "box" {
  input = coder_agent.main.init_script
}
`,
});

/**
 * One archive per file set, as coderd stores one per template version (the tar writer stamps the
 * current time, so a new archive of the same files is another archive).
 */
const archives = new Map<string, Uint8Array>();
function archiveOf(files: Record<string, string>): Uint8Array {
  const key = JSON.stringify(files);
  let archive = archives.get(key);
  if (archive === undefined) {
    archive = templateArchive(files);
    archives.set(key, archive);
  }
  return archive;
}

/** Plans `files` in a new session of `scratch` (slot 0); whether init ran, and the resources. */
async function planOnce(scratch: Scratch, files: Record<string, string>, slot = 0) {
  const session = await scratch.provisioner.open({
    archive: archiveOf(files),
    jobId: `job-${Math.random().toString(36).slice(2)}`,
    slot,
    signal: new AbortController().signal,
  });
  try {
    const steps: string[] = [];
    const logs = new LogCollector();
    const plan = await session.plan(
      planRequest(START, noState, logs, { onTiming: (step) => void steps.push(step) }),
    );
    const reused = logs.logs.some((l) => l.output === reusedInitLine);
    expect(reused).toBe(!steps.includes("init"));
    return {
      init: steps.includes("init"),
      resources: plan.resources.map((r) => `${r.type}.${r.name}:${r.agents.length}`),
    };
  } finally {
    await session.close();
  }
}

// Many terraform runs per test, on a machine that may be busy.
describe("init reuse with real terraform", { timeout: 300_000 }, () => {
  it("the second job of a template skips init; each changed input makes it run again", async () => {
    const scratch = scratchProvisioner({ providerMirror: mirror }, "init-reuse-a-");
    try {
      const first = await planOnce(scratch, template());
      expect(first).toEqual({ init: true, resources: ["terraform_data.box:1"] });
      expect(await planOnce(scratch, template())).toEqual({ ...first, init: false });

      // Another template version (the archive changed): init again, then reused.
      expect((await planOnce(scratch, template("# v2"))).init).toBe(true);
      expect((await planOnce(scratch, template("# v2"))).init).toBe(false);

      // A lock file in the archive is part of the archive.
      const locked = { ...template("# v2"), ".terraform.lock.hcl": "# no providers locked\n" };
      expect((await planOnce(scratch, locked)).init).toBe(true);

      // Another slot has its own cache.
      expect((await planOnce(scratch, template("# v2"), 1)).init).toBe(true);

      // The provider mirror's contents changed (a file touched).
      utimesSync(join(mirror, "registry.terraform.io"), new Date(), new Date(Date.now() + 5_000));
      expect((await planOnce(scratch, template("# v2"))).init).toBe(true);
      expect((await planOnce(scratch, template("# v2"))).init).toBe(false);

      // The plugin cache the saved .terraform links into is gone: not reused, init again.
      rmSync(join(scratch.cacheDir, "plugins", "slot-0"), { recursive: true, force: true });
      mkdirSync(join(scratch.cacheDir, "plugins", "slot-0"), { recursive: true });
      expect(await planOnce(scratch, template("# v2"))).toEqual({ ...first, init: true });
    } finally {
      scratch.cleanup();
    }
  });

  it("another terraform binary or provider mirror on the same cache dir runs init again", async () => {
    const scratch = scratchProvisioner({ providerMirror: mirror }, "init-reuse-b-");
    try {
      expect((await planOnce(scratch, template())).init).toBe(true);
      expect((await planOnce(scratch, template())).init).toBe(false);

      // Same cache dir, terraform through a wrapper: another binary.
      const wrapper = join(tmp, "terraform");
      writeFileSync(wrapper, '#!/bin/sh\nexec terraform "$@"\n');
      chmodSync(wrapper, 0o755);
      const wrapped = { ...scratch, provisioner: withOptions(scratch, { terraformPath: wrapper }) };
      expect((await planOnce(wrapped, template())).init).toBe(true);
      expect((await planOnce(wrapped, template())).init).toBe(false);

      const otherMirror = join(tmp, "mirror-2");
      cpSync(mirror, otherMirror, { recursive: true });
      const moved = {
        ...scratch,
        provisioner: withOptions(scratch, { providerMirror: otherMirror }),
      };
      expect((await planOnce(moved, template())).init).toBe(true);

      // Reuse off: init every time.
      const off = { ...scratch, provisioner: withOptions(scratch, { reuseInit: false }) };
      expect((await planOnce(off, template())).init).toBe(true);
      expect((await planOnce(off, template())).init).toBe(true);
    } finally {
      scratch.cleanup();
    }
  });
});

function withOptions(scratch: Scratch, options: Parameters<typeof scratchProvisioner>[0]) {
  return scratchProvisioner({
    providerMirror: mirror,
    ...options,
    workDirRoot: scratch.workDirRoot,
    cacheDir: scratch.cacheDir,
  }).provisioner;
}

describe("initKey", () => {
  let base: InitInputs;
  beforeAll(() => {
    const dir = join(tmp, "key");
    mkdirSync(join(dir, "mirror", "p"), { recursive: true });
    writeFileSync(join(dir, "mirror", "p", "provider"), "v1");
    writeFileSync(join(dir, "terraform"), "#!/bin/sh\n");
    writeFileSync(join(dir, "cli.tfrc"), "# config\n");
    base = {
      archive: new TextEncoder().encode("archive"),
      terraformPath: join(dir, "terraform"),
      terraformVersion: "1.11.4",
      cliConfigFile: join(dir, "cli.tfrc"),
      mirror: { kind: "filesystem", path: join(dir, "mirror") },
      inherited: { PATH: "/bin", TF_LOG: "" },
      pluginCacheDir: join(dir, "plugins"),
    };
  });

  it("is stable for the same inputs and differs when any one changes", async () => {
    const key = await initKey(base);
    expect(await initKey({ ...base })).toBe(key);
    // Variables terraform does not read do not matter.
    expect(await initKey({ ...base, inherited: { ...base.inherited, HOME: "/x" } })).toBe(key);
    const changed: Array<[string, () => Promise<string>]> = [
      ["archive", () => initKey({ ...base, archive: new TextEncoder().encode("archive2") })],
      ["version", () => initKey({ ...base, terraformVersion: "1.11.5" })],
      ["path", () => initKey({ ...base, terraformPath: base.cliConfigFile })],
      ["TF_ variable", () => initKey({ ...base, inherited: { ...base.inherited, TF_LOG: "x" } })],
      ["plugin cache", () => initKey({ ...base, pluginCacheDir: "/elsewhere" })],
      ["network mirror", () => initKey({ ...base, mirror: { kind: "network", url: "https://m" } })],
      ["no mirror", () => initKey({ ...base, mirror: undefined })],
    ];
    for (const [what, make] of changed) expect(await make(), what).not.toBe(key);

    // Contents: the binary, the CLI config and the mirror's files, changed in place.
    const touch = async (path: string, text: string) => {
      writeFileSync(path, text);
      const changedKey = await initKey(base);
      expect(changedKey, path).not.toBe(key);
      return changedKey;
    };
    await touch(base.terraformPath, "#!/bin/sh\n# replaced\n");
    await touch(base.cliConfigFile, "# other config\n");
    if (base.mirror?.kind === "filesystem") {
      await touch(join(base.mirror.path, "p", "provider"), "v2 longer");
    }
  });

  it("never restores over a .terraform the work dir already has", async () => {
    const cache = new InitCache(join(tmp, "cache-foreign"));
    const work = join(tmp, "work-foreign");
    mkdirSync(join(work, ".terraform"), { recursive: true });
    writeFileSync(join(work, ".terraform", "from-archive"), "x");
    expect(await cache.restore(work, "k")).toBe("foreign");
    const clean = join(tmp, "work-clean");
    mkdirSync(clean, { recursive: true });
    expect(await cache.restore(clean, "k")).toBe("missing");
  });
});
