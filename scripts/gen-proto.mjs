#!/usr/bin/env node
// Generates src/proto from proto/ with buf (from npm, so nothing is downloaded) and ts-proto.
// `--check` generates into a temporary directory and fails when the committed files differ,
// so a proto change without `npm run gen` cannot land.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const target = join(root, "src/proto");
const check = process.argv.includes("--check");
const out = mkdtempSync(join(tmpdir(), "provisionerd-gen-"));

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", out], {
    cwd: root,
    stdio: "inherit",
  });
  const generated = join(out, "src/proto");
  if (check) {
    const fresh = listFiles(generated);
    const committed = listFiles(target);
    const differing = [...new Set([...fresh, ...committed])].filter((file) => {
      const a = join(generated, file);
      const b = join(target, file);
      return !existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b));
    });
    if (differing.length > 0) {
      console.error(`src/proto is stale; run \`npm run gen\`. Differing: ${differing.join(", ")}`);
      process.exit(1);
    }
    console.log(`src/proto matches proto/ (${fresh.length} files)`);
  } else {
    rmSync(target, { recursive: true, force: true });
    cpSync(generated, target, { recursive: true });
    console.log(`generated ${listFiles(target).join(", ")} in src/proto`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
