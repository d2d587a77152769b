// What a template import found besides resources and parameters, as a person reads it after a
// local build: presets (with their prebuilds), workspace tags and external auth providers.
import type { ExternalAuthProviderResource, Preset } from "../provisioner/model.js";
import type { Style } from "./terminal-style.js";
import { visibleLength } from "./terminal-style.js";

/** The parts of an import result this summary shows; each may be absent. */
export interface TemplateSummary {
  presets?: readonly Preset[];
  externalAuthProviders?: readonly ExternalAuthProviderResource[];
  /** Ids of legacy `coder_git_auth` providers (shown when there are no external auth providers). */
  gitAuthProviders?: readonly string[];
  workspaceTags?: Readonly<Record<string, string>>;
}

function prebuildText(preset: Preset): string {
  const prebuild = preset.prebuild;
  if (!prebuild || prebuild.instances === 0) return "";
  const parts = [`prebuilds: ${prebuild.instances}`];
  const ttl = prebuild.expirationPolicy?.ttl ?? 0;
  if (ttl > 0) parts.push(`expire after ${ttl}s`);
  const scheduling = prebuild.scheduling;
  if (scheduling && scheduling.schedule.length > 0) {
    const entries = scheduling.schedule.map((s) => `${s.cron} → ${s.instances}`).join(", ");
    parts.push(`${scheduling.timezone}: ${entries}`);
  }
  return parts.join(", ");
}

function aligned(rows: [string, string][], indent: string): string[] {
  const width = Math.max(...rows.map(([name]) => visibleLength(name)));
  return rows.map(([name, detail]) =>
    `${indent}${name}${" ".repeat(width - visibleLength(name))}  ${detail}`.trimEnd(),
  );
}

/** Lines to print (none when the template has none of these). */
export function renderTemplateSummary(summary: TemplateSummary, style: Style): string[] {
  const lines: string[] = [];
  const presets = summary.presets ?? [];
  if (presets.length > 0) {
    lines.push("Presets:");
    const rows = presets.map((preset): [string, string] => {
      const name = preset.default
        ? `${style.bold(preset.name)} (default)`
        : style.bold(preset.name);
      const values = preset.parameters.map((p) => `${p.name}=${p.value}`).join(", ");
      return [name, [values, prebuildText(preset)].filter((part) => part !== "").join("; ")];
    });
    lines.push(...aligned(rows, "  "));
  }
  const tags = Object.entries(summary.workspaceTags ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length > 0) {
    lines.push("Workspace tags:");
    lines.push(
      ...aligned(
        tags.map(([key, value]): [string, string] => [key, `= ${value}`]),
        "  ",
      ),
    );
  }
  const external = summary.externalAuthProviders ?? [];
  const providers =
    external.length > 0
      ? external.map((p) => (p.optional ? `${p.id} (optional)` : p.id))
      : [...(summary.gitAuthProviders ?? [])];
  if (providers.length > 0) lines.push(`External auth: ${providers.join(", ")}`);
  return lines;
}
