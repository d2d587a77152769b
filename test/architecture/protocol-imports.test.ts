// Only a protocol adapter knows which protocol is in use: outside the adapters (and the
// protocols' own modules) no source file imports a protocol's generated module. The core works
// on the domain model in src/provisioner/model.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = join(ROOT, "src");

/** Where a protocol may be spoken: the adapters and the protocols' own (generated) modules. */
const PROTOCOL_DIRS = ["src/coderd/adapters/", "src/coderd/v017/", "src/coderd/v2/", "src/proto/"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The generated modules a file imports (static imports, re-exports and dynamic imports). */
function generatedImports(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map(
    (m) => m[1] ?? "",
  );
  return specifiers.filter((specifier) => {
    if (!specifier.startsWith(".")) return false;
    const target = relative(ROOT, resolve(dirname(file), specifier));
    return target.startsWith("src/proto/") || /(^|\/)gen\//.test(target);
  });
}

describe("protocol boundary", () => {
  it("no file outside the adapters imports a protocol's generated module", () => {
    const offenders = sourceFiles(SRC)
      .filter((file) => !PROTOCOL_DIRS.some((dir) => relative(ROOT, file).startsWith(dir)))
      .flatMap((file) =>
        generatedImports(file, readFileSync(file, "utf8")).map(
          (specifier) => `${relative(ROOT, file)} imports ${specifier}`,
        ),
      );
    expect(offenders).toEqual([]);
  });

  it("recognises the imports it forbids", () => {
    const file = join(SRC, "daemon/jobs/x.ts");
    expect(
      generatedImports(
        file,
        [
          'import { LogLevel } from "../../proto/provisioner.js";',
          'import type {\n  AcquiredJob,\n} from "../../proto/provisionerd.js";',
          'export * from "../../coderd/v2/gen/provisioner.js";',
          'const m = await import("../../coderd/v017/gen/provisionerd.js");',
          'import { LogLevel } from "../../provisioner/model.js";',
          'import { z } from "zod";',
        ].join("\n"),
      ),
    ).toEqual([
      "../../proto/provisioner.js",
      "../../proto/provisionerd.js",
      "../../coderd/v2/gen/provisioner.js",
      "../../coderd/v017/gen/provisionerd.js",
    ]);
  });
});
