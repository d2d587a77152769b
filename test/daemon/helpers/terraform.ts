// The real terraform provisioner for daemon tests: offline provider mirror, scratch dirs, and
// template archives made with the `tar` package from test/fixtures/templates.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { create as createTar } from "tar";
import {
  createTerraformProvisioner,
  type TerraformProvisioner,
} from "../../../src/terraform/index.js";
import { getOfflineTerraform, templatePath } from "../../helpers/offline-terraform.js";

export interface TerraformScratch {
  provisioner: TerraformProvisioner;
  root: string;
  workDirRoot: string;
  cacheDir: string;
  mirrorDir: string;
  /** Job work dirs still present. */
  workDirs(): string[];
  cleanup(): void;
}

export async function terraformScratch(
  options: { logger?: Logger; cancelGracePeriodMs?: number } = {},
): Promise<TerraformScratch> {
  const tf = await getOfflineTerraform();
  const root = mkdtempSync(join(tmpdir(), "daemon-tf-"));
  const workDirRoot = join(root, "work");
  const cacheDir = join(root, "cache");
  const provisioner = createTerraformProvisioner({
    workDirRoot,
    cacheDir,
    providerMirror: tf.mirrorDir,
    cancelGracePeriodMs: options.cancelGracePeriodMs ?? 10_000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    provisioner,
    root,
    workDirRoot,
    cacheDir,
    mirrorDir: tf.mirrorDir,
    workDirs: () => {
      try {
        return readdirSync(workDirRoot);
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A plain tar of the example template `name`. */
export function templateTar(name: string): Buffer {
  const pack = createTar({ cwd: templatePath(name), sync: true, portable: true }, ["."]);
  const chunks: Buffer[] = [];
  for (let chunk = pack.read(); chunk !== null; chunk = pack.read()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Command lines of live processes containing `text` (orphan checks). */
export function processesMatching(text: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes(text) && !line.includes("ps -eo"))
    .filter((line) => !/^\s*\d+\s+Z/.test(line));
}
