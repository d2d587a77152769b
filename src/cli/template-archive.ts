// `provisionerd build` takes a template directory or a tar archive; the job runner takes bytes.
// A directory is packed the way `coder templates push` does: hidden files and Terraform state
// stay out, so a template dir that was used locally does not leak its state into the job.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { create } from "tar";
import type { TemplateSource } from "./build-config.js";

export class TemplateArchiveError extends Error {
  override readonly name = "TemplateArchiveError";
}

function included(relativePath: string): boolean {
  const parts = relativePath.split(/[\\/]/).filter((part) => part !== "" && part !== ".");
  return !parts.some((part) => part.startsWith(".") || part.includes(".tfstate"));
}

export async function packTemplateDirectory(directory: string): Promise<Buffer> {
  const entries = (await readdir(directory)).filter(included).sort();
  if (entries.length === 0) {
    throw new TemplateArchiveError(`template directory "${directory}" has no files to build`);
  }
  const chunks: Buffer[] = [];
  const stream = create(
    {
      cwd: directory,
      portable: true,
      // Keep the archive reproducible: same files, same bytes.
      mtime: new Date(0),
      filter: (entryPath) => included(entryPath),
    },
    entries,
  );
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function loadTemplate(source: TemplateSource): Promise<Buffer> {
  try {
    if (source.kind === "directory") return await packTemplateDirectory(source.path);
    return await readFile(source.path);
  } catch (error) {
    if (error instanceof TemplateArchiveError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new TemplateArchiveError(
      `cannot read template "${path.basename(source.path)}": ${reason}`,
    );
  }
}
