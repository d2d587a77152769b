// The real terraform provisioner for daemon tests: offline provider mirror, scratch dirs, and
// template archives made with the `tar` package from test/fixtures/templates.
import { execFileSync } from "node:child_process";
import type { Logger } from "pino";
import { getOfflineTerraform } from "../../helpers/offline-terraform.js";
import { type Scratch, scratchProvisioner } from "../../terraform/helpers/provisioner.js";

export interface TerraformScratch extends Scratch {
  mirrorDir: string;
}

export async function terraformScratch(
  options: { logger?: Logger; cancelGracePeriodMs?: number } = {},
): Promise<TerraformScratch> {
  const tf = await getOfflineTerraform();
  const scratch = scratchProvisioner(
    {
      providerMirror: tf.mirrorDir,
      cancelGracePeriodMs: options.cancelGracePeriodMs ?? 10_000,
      ...(options.logger ? { logger: options.logger } : {}),
    },
    "daemon-tf-",
  );
  return { ...scratch, mirrorDir: tf.mirrorDir };
}

/** A plain tar of the example template `name`. */
export { templateTar } from "../../helpers/templates.js";

/** Command lines of live processes containing `text` (orphan checks). */
export function processesMatching(text: string): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes(text) && !line.includes("ps -eo"))
    .filter((line) => !/^\s*\d+\s+Z/.test(line));
}
