// The references of each local value, read from the template's source: the plan JSON names
// `local.x` in expressions but does not say what `local.x` is. Only what this reader fully
// understands is described; anything else (JSON syntax files, override files, heredocs, template
// directives) leaves the module undescribed, so the graph falls back to `terraform graph`.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { parseHcl } from "../../parameters/hcl-parser.js";
import type { LocalReferences } from "./config-graph.js";

const modulesManifestSchema = z.object({
  Modules: z.array(z.object({ Key: z.string(), Dir: z.string() })),
});

/**
 * Local values' references for the module at each prefix of the work dir's configuration
 * (root, and the modules `terraform init` recorded in .terraform/modules/modules.json).
 */
export async function readLocalReferences(workDir: string): Promise<LocalReferences> {
  const dirs = new Map<string, string>([["", workDir]]);
  try {
    const manifest = modulesManifestSchema.parse(
      JSON.parse(await readFile(join(workDir, ".terraform", "modules", "modules.json"), "utf8")),
    );
    for (const module of manifest.Modules) {
      if (module.Key === "") continue;
      const prefix = module.Key.split(".")
        .map((name) => `module.${name}.`)
        .join("");
      dirs.set(prefix, join(workDir, module.Dir));
    }
  } catch {
    // No modules (or no manifest): only the root module is described.
  }
  const byPrefix = new Map<string, Map<string, string[]> | undefined>();
  for (const [prefix, dir] of dirs) byPrefix.set(prefix, await moduleLocals(dir));
  return (prefix) => byPrefix.get(prefix);
}

async function moduleLocals(dir: string): Promise<Map<string, string[]> | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return undefined;
  }
  const locals = new Map<string, string[]>();
  for (const name of names) {
    if (name.endsWith(".tf.json") || name === "override.tf" || name.endsWith("_override.tf")) {
      return undefined;
    }
    if (!name.endsWith(".tf") || name.startsWith(".")) continue;
    const parsed = await parseHcl(await readFile(join(dir, name), "utf8"));
    if (!parsed.ok) return undefined;
    for (const block of asList(parsed.body.locals)) {
      if (typeof block !== "object" || block === null) return undefined;
      for (const [local, value] of Object.entries(block)) {
        const references = valueReferences(value);
        if (references === undefined) return undefined;
        locals.set(local, references);
      }
    }
  }
  return locals;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * References in a value as the HCL parser gives it: strings are templates, where any
 * non-constant part is an interpolation (`${coder_agent.main.token}`, `hello ${var.x}`).
 */
function valueReferences(value: unknown): string[] | undefined {
  if (typeof value === "string") return templateReferences(value);
  if (Array.isArray(value) || (typeof value === "object" && value !== null)) {
    const found: string[] = [];
    for (const item of Object.values(value)) {
      const references = valueReferences(item);
      if (references === undefined) return undefined;
      found.push(...references);
    }
    return found;
  }
  return [];
}

const keywords = new Set(["true", "false", "null", "for", "in", "if", "else", "endif", "endfor"]);

/**
 * Traversals (`a.b.c`, `a.b[0].c`) in the interpolations of an HCL template body (and of the
 * string literals inside them). Undefined when it holds something this scanner does not read.
 */
export function templateReferences(source: string): string[] | undefined {
  const found: string[] = [];
  const iterators = new Set<string>();
  let i = 0;
  const n = source.length;
  const fail = () => {
    i = n + 1;
  };
  // Scans code until the closing `}` of an interpolation (depth 0) or the end.
  const code = (inInterpolation: boolean): void => {
    let depth = 0;
    while (i < n) {
      const c = source[i] as string;
      if (c === '"') {
        i++;
        template();
        continue;
      }
      // Heredocs and comments: not read here.
      const heredoc = c === "<" && source[i + 1] === "<";
      if (heredoc || c === "#" || (c === "/" && (source[i + 1] === "/" || source[i + 1] === "*"))) {
        fail();
        return;
      }
      if (c === "{" || c === "(" || c === "[") depth++;
      if (c === "}" || c === ")" || c === "]") {
        if (depth === 0 && c === "}" && inInterpolation) {
          i++;
          return;
        }
        depth--;
      }
      if (/[A-Za-z_]/.test(c) && !/[\w.-]/.test(source[i - 1] ?? " ")) {
        const start = i;
        while (i < n && /[\w-]/.test(source[i] as string)) i++;
        const root = source.slice(start, i);
        if (source.slice(start - 4, start) === "for " || /,\s*$/.test(source.slice(0, start))) {
          if (/^\s*(,|in\b)/.test(source.slice(i))) iterators.add(root);
        }
        let path = root;
        while (source[i] === "." && /[A-Za-z_*]/.test(source[i + 1] ?? "")) {
          const partStart = i + 1;
          i = partStart;
          while (i < n && /[\w*-]/.test(source[i] as string)) i++;
          path += `.${source.slice(partStart, i)}`;
        }
        if (source[i] === "(" || keywords.has(root) || iterators.has(root)) continue;
        if (path !== root || source[i] === "[") found.push(path);
        continue;
      }
      i++;
    }
    if (inInterpolation) fail();
  };
  // Scans a template until its closing quote (or, for the outermost one, the end).
  const template = (quoted = true): void => {
    while (i < n) {
      const c = source[i] as string;
      if (c === "\\" && quoted) {
        i += 2;
        continue;
      }
      if (c === '"' && quoted) {
        i++;
        return;
      }
      if ((c === "$" || c === "%") && source[i + 1] === "{") {
        // Directives (%{...}) and the $${ escape: not read here.
        if (c === "%" || source[i - 1] === "$") {
          fail();
          return;
        }
        i += 2;
        code(true);
        continue;
      }
      i++;
    }
    if (quoted) fail();
  };
  template(false);
  if (i > n) return undefined;
  return found.filter((reference) => !iterators.has(reference.split(".")[0] ?? ""));
}
