// Offline Terraform for tests: a filesystem mirror holding our test `coder/coder` provider and
// the environment that makes `terraform init` use it (no network, no ~/.terraformrc warning).
//
//   const tf = await getOfflineTerraform();
//   await execa("terraform", ["init"], { cwd, env: { ...process.env, ...tf.env } });
//
// test/global-setup.ts builds the mirror once per test run and hands its paths to every worker
// through vitest's provide/inject; outside such a run (no global setup) the first call in a
// process builds a private mirror instead.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { createProviderMirror, type ProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { templatePath } from "./templates.js";

export interface OfflineTerraformPaths {
  /** The filesystem mirror root holding registry.terraform.io/coder/coder/<version>/<platform>. */
  mirrorDir: string;
  /** Terraform CLI config installing coder/coder from the mirror. */
  cliConfigFile: string;
  /** The test provider's 0.6.14 version (what the older example templates pin). */
  version: string;
  /** The 0.6.14 provider executable inside the mirror (the #!/bin/sh wrapper Terraform runs). */
  providerExecutable: string;
  /** The 2.x version in the mirror (what the v2-* example templates pin). */
  v2Version: string;
  /** The 2.x provider executable inside the mirror. */
  v2ProviderExecutable: string;
}

export interface OfflineTerraform extends OfflineTerraformPaths {
  /** TF_CLI_CONFIG_FILE, CHECKPOINT_DISABLE=1 and TF_IN_AUTOMATION=1. */
  env: Record<string, string>;
}

declare module "vitest" {
  export interface ProvidedContext {
    offlineTerraform: OfflineTerraformPaths;
  }
}

export { TEMPLATES_DIR, templatePath } from "./templates.js";

/** Copies an example template into a fresh temporary directory and returns its path. */
export function copyTemplate(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `template-${name}-`));
  cpSync(templatePath(name), dir, {
    recursive: true,
    filter: (src) =>
      !/[/\\](\.terraform|terraform\.tfstate[^/\\]*|\.terraform\.lock\.hcl)$/.test(src),
  });
  return dir;
}

function withEnv(paths: OfflineTerraformPaths): OfflineTerraform {
  return {
    ...paths,
    env: {
      TF_CLI_CONFIG_FILE: paths.cliConfigFile,
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
    },
  };
}

/** The paths tests need from a freshly built mirror. */
export function mirrorPaths(mirror: ProviderMirror): OfflineTerraformPaths {
  const v2 = mirror.packages.find((p) => p.version !== mirror.version);
  if (!v2) throw new Error("the test provider mirror has no 2.x version");
  return {
    mirrorDir: mirror.mirrorDir,
    cliConfigFile: mirror.cliConfigFile,
    version: mirror.version,
    providerExecutable: mirror.executable,
    v2Version: v2.version,
    v2ProviderExecutable: v2.executable,
  };
}

let ownMirror: Promise<OfflineTerraformPaths> | undefined;

function buildOwnMirror(): Promise<OfflineTerraformPaths> {
  ownMirror ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "coder-provider-mirror-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    return mirrorPaths(await createProviderMirror(dir));
  })();
  return ownMirror;
}

export async function getOfflineTerraform(): Promise<OfflineTerraform> {
  let provided: OfflineTerraformPaths | undefined;
  try {
    provided = inject("offlineTerraform");
  } catch {
    provided = undefined; // not inside a vitest worker
  }
  return withEnv(provided ?? (await buildOwnMirror()));
}
