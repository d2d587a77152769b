// The daemon's own version, read from package.json (the same file in a checkout and a build).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function readVersion(): string {
  // Walk up because the compiled file sits one directory deeper (dist/src/...) than the source.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      try {
        const parsed = JSON.parse(readFileSync(candidate, "utf8")) as {
          name?: unknown;
          version?: unknown;
        };
        if (parsed.name === "provisionerd-ts" && typeof parsed.version === "string")
          return parsed.version;
      } catch {
        // Not ours or unreadable: keep walking.
      }
    }
    dir = dirname(dir);
  }
  return "0.0.0-unknown";
}

export const DAEMON_VERSION = readVersion();
