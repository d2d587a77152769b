// The example templates in test/fixtures/templates, by name. Free of vitest, so the benchmarks
// use it too.
import { join, resolve } from "node:path";
import { create as createTar } from "tar";

/** The example templates (test/fixtures/templates/<name>). */
export const TEMPLATES_DIR = resolve(import.meta.dirname, "../fixtures/templates");

export function templatePath(name: string): string {
  return join(TEMPLATES_DIR, name);
}

/** A plain tar of example template `name`, as coderd stores a template version. */
export function templateTar(name: string): Buffer {
  const pack = createTar({ cwd: templatePath(name), sync: true, portable: true }, ["."]);
  const chunks: Buffer[] = [];
  for (let chunk = pack.read(); chunk !== null; chunk = pack.read()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
