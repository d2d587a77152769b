// What every process and terraform benchmark shares: a scratch directory, the offline provider
// mirror holding our test `coder` provider, terraform's version and the daemon binary.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import {
  createProviderMirror,
  type ProviderMirror,
} from "../../test/fixtures/coder-provider/mirror.js";
import { type DaemonEntry, daemonEntry } from "./daemon-build.js";

export interface BenchContext {
  /** Scratch directory, removed at the end of the run. */
  root: string;
  mirror: ProviderMirror;
  terraformVersion: string;
  /** The built daemon CLI, or why it could not be built (process figures become null). */
  daemon: DaemonEntry | Error;
  /** A fresh directory under root. */
  scratch(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function terraformVersion(): Promise<string> {
  const { stdout } = await execa("terraform", ["version", "-json"], {
    env: { CHECKPOINT_DISABLE: "1" },
  });
  return (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
}

export async function prepareContext(): Promise<BenchContext> {
  const root = await mkdtemp(join(tmpdir(), "provisionerd-bench-"));
  const [mirror, version, daemon] = await Promise.all([
    createProviderMirror(join(root, "mirror")),
    terraformVersion(),
    daemonEntry().catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    ),
  ]);
  return {
    root,
    mirror,
    terraformVersion: version,
    daemon,
    scratch: (name) => mkdtemp(join(root, `${name}-`)),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
