// The daemon binary the process benchmarks run: the shipped form (tsc output, as in the
// Dockerfile), so resident memory is that of what operators run, not of a TypeScript loader.
// dist/ is used when it is at least as new as every source file; otherwise the sources are
// compiled into a private directory, leaving dist/ (which other work uses) alone.
import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { execa } from "execa";

export const REPO_ROOT = join(import.meta.dirname, "../..");
const MAIN = "src/cli/main.js";
const PRIVATE_OUT = join(REPO_ROOT, "node_modules/.cache/provisionerd-bench/dist");

export class DaemonBuildError extends Error {
  override readonly name = "DaemonBuildError";
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Every src/**.ts has a compiled .js in `outDir` that is not older than it. */
async function isFresh(outDir: string): Promise<boolean> {
  for (const source of await sourceFiles(join(REPO_ROOT, "src"))) {
    const compiled = join(outDir, relative(REPO_ROOT, source)).replace(/\.ts$/, ".js");
    if (!existsSync(compiled)) return false;
    if (statSync(compiled).mtimeMs < statSync(source).mtimeMs) return false;
  }
  return true;
}

export interface DaemonEntry {
  /** The CLI's main.js. */
  path: string;
  /** Where it came from, for the report. */
  origin: "dist" | "private build";
}

export async function daemonEntry(): Promise<DaemonEntry> {
  const dist = join(REPO_ROOT, "dist");
  if (await isFresh(dist)) return { path: join(dist, MAIN), origin: "dist" };
  if (!(await isFresh(PRIVATE_OUT))) {
    // Type errors elsewhere in the tree must not stop the benchmark: tsc still emits.
    const build = await execa(
      "npx",
      ["tsc", "-p", "tsconfig.build.json", "--outDir", PRIVATE_OUT],
      { cwd: REPO_ROOT, reject: false, all: true },
    );
    if (!existsSync(join(PRIVATE_OUT, MAIN))) {
      throw new DaemonBuildError(`compiling the daemon failed:\n${build.all ?? ""}`);
    }
  }
  return { path: join(PRIVATE_OUT, MAIN), origin: "private build" };
}
