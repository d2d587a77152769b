// Counts terraform's starts: a wrapper script, given to the daemon as its terraform path, that
// appends each subcommand to a file and execs the real terraform (one `sh` start more per run,
// a few milliseconds, charged to the daemon).
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";

export interface TerraformCounter {
  /** The wrapper to run instead of terraform. */
  path: string;
  /** Subcommands started since the last call (e.g. ["plan", "show", "apply"]). */
  take(): Promise<string[]>;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export async function createTerraformCounter(dir: string): Promise<TerraformCounter> {
  const real = (await execa("sh", ["-c", "command -v terraform"])).stdout.trim();
  const log = join(dir, "terraform-runs");
  const path = join(dir, "terraform");
  await writeFile(
    path,
    `#!/bin/sh\nprintf '%s\\n' "$1" >> ${quote(log)}\nexec ${quote(real)} "$@"\n`,
  );
  await chmod(path, 0o755);
  return {
    path,
    take: async () => {
      const text = await readFile(log, "utf8").catch(() => "");
      await rm(log, { force: true });
      return text.split("\n").filter((line) => line !== "");
    },
  };
}
