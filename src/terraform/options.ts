// Options of the terraform provisioner, validated at the boundary (they come from CLI flags,
// environment and config files).
import type { Logger } from "pino";
import { z } from "zod";
import { defaultArchiveLimits } from "./archive.js";

const positiveInt = z.number().int().positive();

export const terraformProvisionerOptionsSchema = z.object({
  /** The terraform binary; found on PATH when absent. */
  terraformPath: z.string().min(1).optional(),
  /** Per-job work dirs are created under this directory. */
  workDirRoot: z.string().min(1),
  /** Provider plugin caches (one per daemon slot) and the CLI config live here. */
  cacheDir: z.string().min(1),
  /**
   * A provider mirror for air-gapped hosts: a directory (filesystem_mirror) or an https URL
   * (network_mirror). Without it terraform installs providers as it normally would.
   */
  providerMirror: z
    .string()
    .min(1)
    .refine((value) => !/^http:\/\//i.test(value), {
      message: "a network provider mirror must be an https:// URL",
    })
    .optional(),
  /** After a graceful cancel (SIGINT), how long terraform gets before SIGKILL. */
  cancelGracePeriodMs: z
    .number()
    .int()
    .nonnegative()
    .default(5 * 60_000),
  maxFileBytes: positiveInt.default(defaultArchiveLimits.maxFileBytes),
  maxTotalBytes: positiveInt.default(defaultArchiveLimits.maxTotalBytes),
  maxFiles: positiveInt.default(defaultArchiveLimits.maxFiles),
  /**
   * Where conversion's dependency graph and the applied state come from: `derived` reads them from
   * the plan JSON and the state file; `terraform` runs `terraform graph` and `terraform show -json`
   * after apply, as the reference did (two more terraform starts per plan and per apply).
   */
  outputSource: z.enum(["derived", "terraform"]).default("derived"),
  /**
   * Reuse the `.terraform` dir and lock file an earlier job of this slot got from `terraform init`
   * for the same archive, terraform, CLI config, provider mirror and TF_* environment.
   */
  reuseInit: z.boolean().default(true),
  /**
   * A template import's START and STOP plans run side by side, each in its own work dir:
   * `auto` when the machine has at least two cores (os.availableParallelism()).
   */
  sideBySidePlans: z.enum(["auto", "always", "never"]).default("auto"),
  /** Environment terraform inherits (CODER_* removed); defaults to process.env. */
  environment: z.record(z.string(), z.string().optional()).optional(),
  logger: z.custom<Logger>((value) => value === undefined || typeof value === "object").optional(),
});

export type TerraformProvisionerOptions = z.input<typeof terraformProvisionerOptionsSchema>;
export type ResolvedTerraformProvisionerOptions = z.output<
  typeof terraformProvisionerOptionsSchema
>;

export class TerraformOptionsError extends Error {
  override readonly name = "TerraformOptionsError";
}

export function parseTerraformProvisionerOptions(
  options: TerraformProvisionerOptions,
): ResolvedTerraformProvisionerOptions {
  const result = terraformProvisionerOptionsSchema.safeParse(options);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.join(".") || "(options)"}: ${issue.message}`)
      .join("; ");
    throw new TerraformOptionsError(`invalid terraform provisioner options: ${issues}`);
  }
  return result.data;
}
