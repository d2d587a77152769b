// Which files of a template directory make up its root module: `*.tf` and `*.tf.json` directly
// in the directory (Terraform does not read sub-directories as part of the module), skipping the
// hidden and editor backup files Terraform itself skips.
import { readdir } from "node:fs/promises";

export interface ConfigFile {
  /** File name relative to the template directory (what errors print). */
  name: string;
  syntax: "hcl" | "json";
  /** `override.tf` / `*_override.tf(.json)`: merges into blocks declared elsewhere. */
  override: boolean;
}

export function isIgnoredFile(name: string): boolean {
  return (
    name.startsWith(".") || // Unix hidden files
    name.endsWith("~") || // vim backups
    (name.startsWith("#") && name.endsWith("#")) // emacs autosaves
  );
}

export function configFileOf(name: string): ConfigFile | undefined {
  if (isIgnoredFile(name)) return undefined;
  const ext = name.endsWith(".tf.json") ? ".tf.json" : name.endsWith(".tf") ? ".tf" : undefined;
  if (!ext) return undefined;
  const base = name.slice(0, -ext.length);
  return {
    name,
    syntax: ext === ".tf" ? "hcl" : "json",
    override: base === "override" || base.endsWith("_override"),
  };
}

/** The module's files in name order (byte order, like Go's os.ReadDir). */
export async function listConfigFiles(directory: string): Promise<ConfigFile[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => configFileOf(e.name))
    .filter((f): f is ConfigFile => f !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
