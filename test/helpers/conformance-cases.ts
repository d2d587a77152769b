// The case folders of a conformance set (one folder per case, each with an expected.json) and
// the key check both conformance tables use on expected.json.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface Case {
  name: string;
  dir: string;
}

/** Every case folder of `dir`, by name; throws when there is none, so a wrong path cannot pass. */
export function casesIn(dir: string): Case[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`conformance folder ${dir} does not exist`);
  }
  const cases = readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "expected.json")))
    .sort()
    .map((name) => ({ name, dir: join(dir, name) }));
  if (cases.length === 0) throw new Error(`conformance folder ${dir} has no cases`);
  return cases;
}

export const readCase = (c: Case, file: string) => readFileSync(join(c.dir, file), "utf8");

export type Json = Record<string, unknown>;

const camel = (key: string) => key.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());

/** Refuses keys that our message does not have, so a naming mismatch cannot pass silently. */
export function checkKeys(json: Json, template: object, where: string, extra: string[] = []): void {
  for (const key of Object.keys(json)) {
    if (!(camel(key) in template) && !extra.includes(key)) {
      throw new Error(`${where}: expected.json field "${key}" has no counterpart in our proto`);
    }
  }
}
