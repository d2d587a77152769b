// Writes a throw-away template directory from a map of file name → contents.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface TemplateDir {
  path: string;
  remove(): Promise<void>;
}

export async function makeTemplateDir(files: Record<string, string>): Promise<TemplateDir> {
  const path = await mkdtemp(join(tmpdir(), "params-test-"));
  for (const [name, contents] of Object.entries(files)) {
    await mkdir(dirname(join(path, name)), { recursive: true });
    await writeFile(join(path, name), contents);
  }
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
