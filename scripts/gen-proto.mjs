#!/usr/bin/env node
// Generates TypeScript from .proto files with buf (from npm, so nothing is downloaded) and
// ts-proto, for each buf module of the repository: the wire contract (proto/ -> src/proto), the
// message layouts of each coderd generation (proto/coderd/<layout> -> src/coderd/<layout>/gen)
// and the test provider's plugin protocol (test/fixtures/coder-provider: proto/ -> src/gen).
// `--check` generates into a temporary directory and fails when the committed files differ,
// so a proto change without `npm run gen` cannot land.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const check = process.argv.includes("--check");
/**
 * Each buf module: where its buf.gen.yaml lives, the output folder it names, and where that
 * folder goes (relative to the repository root; default: `out` inside `dir`).
 */
const modules = [
  { dir: ".", out: "src/proto" },
  { dir: "proto/coderd/v017", out: "gen", target: "src/coderd/v017/gen" },
  { dir: "proto/coderd/v2", out: "gen", target: "src/coderd/v2/gen" },
  { dir: "test/fixtures/coder-provider", out: "src/gen" },
];

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function generate({ dir, out, target: to }) {
  const cwd = join(root, dir);
  const target = to === undefined ? join(cwd, out) : join(root, to);
  const label = relative(root, target);
  const scratch = mkdtempSync(join(tmpdir(), "provisionerd-gen-"));
  try {
    execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "--output", scratch], {
      cwd,
      stdio: "inherit",
    });
    const generated = join(scratch, out);
    if (!check) {
      rmSync(target, { recursive: true, force: true });
      cpSync(generated, target, { recursive: true });
      console.log(`generated ${listFiles(target).join(", ")} in ${label}`);
      return true;
    }
    const differing = [...new Set([...listFiles(generated), ...listFiles(target)])].filter(
      (file) => {
        const a = join(generated, file);
        const b = join(target, file);
        return !existsSync(a) || !existsSync(b) || !readFileSync(a).equals(readFileSync(b));
      },
    );
    if (differing.length > 0) {
      console.error(`${label} is stale; run \`npm run gen\`. Differing: ${differing.join(", ")}`);
      return false;
    }
    console.log(`${label} matches its .proto files (${listFiles(target).length} files)`);
    return true;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const results = modules.map(generate);
if (results.includes(false)) process.exit(1);
