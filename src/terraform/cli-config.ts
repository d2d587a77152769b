// The TF_CLI_CONFIG_FILE the provisioner hands terraform. Always ours: an operator's
// ~/.terraformrc (or a missing file, which makes terraform warn on every command) never decides
// where providers come from; air-gapped hosts name a provider mirror instead. Setting it also
// stops terraform from reading ~/.terraform.d/*.tfrc (including `terraform login` credentials),
// so the operator is told which of their files are not used and how to pass what they need.
import { readdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { makeDirectory } from "../fs/directories.js";
import type { Environment } from "./environment.js";
import { hclQuoted } from "./var-file.js";

export type ProviderMirror =
  | { kind: "filesystem"; path: string }
  | { kind: "network"; url: string };

/** A mirror option value: an http(s) URL is a network mirror, anything else a directory. */
export function parseProviderMirror(value: string): ProviderMirror {
  return /^https?:\/\//i.test(value)
    ? { kind: "network", url: value }
    : { kind: "filesystem", path: value };
}

/**
 * The config text. With a mirror, it is the only installation method: terraform would otherwise
 * also ask the public registry (it merges every matching method), which hangs or fails offline.
 */
export function cliConfigText(mirror: ProviderMirror | undefined): string {
  const lines = ["# Written by provisionerd: the terraform CLI configuration of provisioner jobs."];
  if (mirror !== undefined) {
    lines.push("provider_installation {");
    if (mirror.kind === "filesystem") {
      lines.push("  filesystem_mirror {", `    path = ${hclQuoted(mirror.path)}`, "  }");
    } else {
      lines.push("  network_mirror {", `    url = ${hclQuoted(mirror.url)}`, "  }");
    }
    lines.push("}");
  }
  return `${lines.join("\n")}\n`;
}

export async function writeCliConfig(
  path: string,
  mirror: ProviderMirror | undefined,
): Promise<void> {
  await makeDirectory(dirname(path), 0o700);
  await writeFile(path, cliConfigText(mirror), { mode: 0o600 });
}

/**
 * The operator's terraform CLI configuration files that terraform would read without our
 * TF_CLI_CONFIG_FILE: the inherited TF_CLI_CONFIG_FILE, else ~/.terraformrc and the `*.tfrc`
 * and `*.tfrc.json` files of ~/.terraform.d. Only files that exist.
 */
export async function unusedCliConfigFiles(env: Environment): Promise<string[]> {
  const candidates: string[] = [];
  const explicit = env.TF_CLI_CONFIG_FILE;
  if (explicit !== undefined && explicit !== "") {
    candidates.push(explicit);
  } else if (env.HOME !== undefined && env.HOME !== "") {
    candidates.push(join(env.HOME, ".terraformrc"));
    const configDir = join(env.HOME, ".terraform.d");
    const names = await readdir(configDir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (name.endsWith(".tfrc") || name.endsWith(".tfrc.json")) {
        candidates.push(join(configDir, name));
      }
    }
  }
  const found = await Promise.all(
    candidates.map(async (path) =>
      (await stat(path).catch(() => undefined))?.isFile() ? path : "",
    ),
  );
  return found.filter((path) => path !== "");
}

/** Says once that these files are not used, and how to pass what they would have given. */
export function unusedCliConfigNotice(files: readonly string[]): string {
  return (
    `terraform CLI configuration not used by provisioner jobs: ${files.join(", ")}. ` +
    "Jobs get their own: providers come from --provider-mirror (a directory or an https:// " +
    "network mirror; without it, from their registries), the plugin cache is in --cache-dir. " +
    "Pass registry credentials as TF_TOKEN_<host> environment variables (e.g. " +
    "TF_TOKEN_app_terraform_io); credentials helpers and host blocks are not supported."
  );
}
