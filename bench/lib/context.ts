// What every process and terraform benchmark shares: a scratch directory, terraform's version,
// the offline provider mirror holding our test `coder` provider, and the daemon binary. What is
// missing on a machine is kept as the reason, so only the figures that need it become null.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import {
  createProviderMirror,
  type ProviderMirror,
} from "../../test/fixtures/coder-provider/mirror.js";
import { type DaemonEntry, daemonEntry } from "./daemon-build.js";
import { FigureUnavailableError } from "./figures.js";

export interface Terraform {
  version: string;
  mirror: ProviderMirror;
}

export interface BenchContext {
  /** Scratch directory, removed at the end of the run. */
  root: string;
  /** Terraform and the provider mirror, or why they are not available. */
  terraform: Terraform | Error;
  /** The built daemon CLI, or why it could not be built. */
  daemon: DaemonEntry | Error;
  /** A fresh directory under root. */
  scratch(name: string): Promise<string>;
  cleanup(): Promise<void>;
}

/** Terraform for a benchmark that needs it; FigureUnavailableError (null figures) otherwise. */
export function requireTerraform(context: BenchContext): Terraform {
  if (context.terraform instanceof Error) {
    throw new FigureUnavailableError(`no terraform: ${context.terraform.message}`);
  }
  return context.terraform;
}

/** The daemon binary for a process benchmark; FigureUnavailableError otherwise. */
export function requireDaemon(context: BenchContext): DaemonEntry {
  if (context.daemon instanceof Error) {
    throw new FigureUnavailableError(`no daemon binary: ${context.daemon.message}`);
  }
  return context.daemon;
}

export async function terraformVersion(): Promise<string> {
  const { stdout } = await execa("terraform", ["version", "-json"], {
    env: { CHECKPOINT_DISABLE: "1" },
  });
  return (JSON.parse(stdout) as { terraform_version: string }).terraform_version;
}

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

export async function prepareContext(): Promise<BenchContext> {
  const root = await mkdtemp(join(tmpdir(), "provisionerd-bench-"));
  const [terraform, daemon] = await Promise.all([
    Promise.all([terraformVersion(), createProviderMirror(join(root, "mirror"))]).then(
      ([version, mirror]): Terraform => ({ version, mirror }),
      asError,
    ),
    daemonEntry().catch(asError),
  ]);
  return {
    root,
    terraform,
    daemon,
    scratch: (name) => mkdtemp(join(root, `${name}-`)),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
