// The TF_CLI_CONFIG_FILE the provisioner hands terraform. Always ours: an operator's
// ~/.terraformrc (or a missing file, which makes terraform warn on every command) never decides
// where providers come from; air-gapped hosts name a provider mirror instead.
import { writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { makeDirectory } from "../fs/directories.js";
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
