// The package version, read from package.json so the CLI, the daemon identity and --version agree.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** Walks up from this file (src/cli or dist/src/cli) to the package root. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "provisionerd-ts" && manifest.version) {
        cached = manifest.version;
        return cached;
      }
    } catch {
      // Not here: keep walking up.
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "0.0.0-unknown";
    dir = parent;
  }
}
