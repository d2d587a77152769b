// Turning figures into the printed table, the README's results table and bench/results.json.
import { cpus, totalmem } from "node:os";
import type { Figure } from "./figures.js";
import { TARGETS, verdict } from "./targets.js";

export interface Machine {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  terraform: string | null;
}

export function machine(terraformVersion: string | null): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? "unknown",
    cores: cpu.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    terraform: terraformVersion,
  };
}

export interface Row {
  name: string;
  value: Figure;
  target: string;
  met: string;
}

/** Issue figures first, in the order; extra figures after them. */
export function rows(figures: Record<string, Figure>): Row[] {
  const ordered = [
    ...Object.keys(TARGETS).filter((name) => name in figures),
    ...Object.keys(figures).filter((name) => !(name in TARGETS)),
  ];
  // The issue's own figure without a target sits with its group.
  if ("pickup_poll_p50_ms" in figures) {
    ordered.splice(ordered.indexOf("pickup_poll_p50_ms"), 1);
    ordered.splice(ordered.indexOf("pickup_speedup"), 0, "pickup_poll_p50_ms");
  }
  return ordered.map((name) => ({
    name,
    value: figures[name] ?? null,
    target: TARGETS[name]?.text ?? "—",
    met: verdict(name, figures[name] ?? null),
  }));
}

const show = (value: Figure) => (value === null ? "null" : String(value));

/** Aligned plain-text table for the terminal. */
export function textTable(table: Row[]): string {
  const header: Row = { name: "figure", value: null, target: "target", met: "met?" };
  const cells = [header, ...table].map((r, i) => [
    r.name,
    i === 0 ? "value" : show(r.value),
    r.target,
    r.met,
  ]);
  const widths = [0, 1, 2, 3].map((c) => Math.max(...cells.map((row) => (row[c] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, c) => (c === 1 ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The README's results table, then the notes as a list (they are too long for a column). */
export function markdownTable(table: Row[], notes: Record<string, string>): string {
  const lines = ["| figure | value | target | met? |", "|---|---:|---|---|"];
  for (const r of table)
    lines.push(`| \`${r.name}\` | ${show(r.value)} | ${r.target} | ${r.met} |`);
  const noted = table.filter((r) => notes[r.name] !== undefined);
  if (noted.length > 0) lines.push("", ...noted.map((r) => `- \`${r.name}\`: ${notes[r.name]}`));
  return lines.join("\n");
}

export interface ResultsFile {
  [figure: string]: unknown;
  machine: Machine;
  date: string;
  notes: Record<string, string>;
}

export function resultsFile(
  figures: Record<string, Figure>,
  notes: Record<string, string>,
  about: { machine: Machine; date: string; run: Record<string, unknown> },
): ResultsFile {
  return { ...figures, machine: about.machine, date: about.date, run: about.run, notes };
}
