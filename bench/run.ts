// `npm run bench`: runs every figure group, prints a table (figure, value, target, met?), writes
// bench/results.json and the results table of bench/README.md. A group that fails gives null
// figures with the reason; the run goes on. `--only <group,...>` runs some groups and writes
// nothing (for working on one benchmark).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { benchConcurrency, CONCURRENCY_FIGURES } from "./concurrency.js";
import { benchConvert } from "./convert.js";
import { benchImportOverhead, IMPORT_OVERHEAD_FIGURES } from "./import-overhead.js";
import { benchJobOverhead, JOB_OVERHEAD_FIGURES } from "./job-overhead.js";
import { type BenchContext, prepareContext } from "./lib/context.js";
import {
  type Figure,
  FigureUnavailableError,
  type GroupResult,
  result,
  unavailable,
} from "./lib/figures.js";
import { machine, markdownTable, resultsFile, rows, textTable } from "./lib/report.js";
import { benchLogStreaming, LOG_FIGURES } from "./log-streaming.js";
import { benchParameters } from "./parameters.js";
import { benchPickup, PICKUP_FIGURES } from "./pickup.js";
import { benchCoderd, CODERD_FIGURES } from "./pickup-coderd.js";
import { benchProviderLaunch } from "./provider-launch.js";

interface Group {
  name: string;
  /** The figures it reports (all null when it fails). */
  figures: readonly string[];
  run(context: BenchContext): Promise<GroupResult>;
}

const HERE = import.meta.dirname;

const GROUPS: Group[] = [
  {
    name: "parse",
    figures: ["parse_500_vars_ms"],
    run: async () => result(await benchParameters()),
  },
  {
    name: "convert",
    figures: ["convert_10k_ms", "parse_state_10k_ms"],
    run: async () => result(await benchConvert()),
  },
  { name: "pickup", figures: PICKUP_FIGURES, run: benchPickup },
  { name: "overhead", figures: JOB_OVERHEAD_FIGURES, run: benchJobOverhead },
  { name: "import", figures: IMPORT_OVERHEAD_FIGURES, run: benchImportOverhead },
  { name: "coderd", figures: CODERD_FIGURES, run: benchCoderd },
  { name: "logs", figures: LOG_FIGURES, run: benchLogStreaming },
  { name: "concurrency", figures: CONCURRENCY_FIGURES, run: benchConcurrency },
  {
    name: "provider-launch",
    figures: ["provider_launch_ms", "provider_handshake_ms"],
    run: async () => result(await benchProviderLaunch()),
  },
];

function parseOnly(argv: string[]): Set<string> | undefined {
  const index = argv.indexOf("--only");
  if (index === -1) return undefined;
  return new Set((argv[index + 1] ?? "").split(",").filter((s) => s !== ""));
}

const errorText = (error: unknown) =>
  error instanceof Error ? (error.message.split("\n")[0] ?? error.name) : String(error);

async function updateReadme(table: string, date: string, about: string): Promise<boolean> {
  const path = join(HERE, "README.md");
  const start = "<!-- results:start -->";
  const end = "<!-- results:end -->";
  const text = await readFile(path, "utf8").catch(() => "");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from) return false;
  const body = `${start}\nLatest run: ${date}, ${about}.\n\n${table}\n${end}`;
  await writeFile(path, text.slice(0, from) + body + text.slice(to + end.length));
  return true;
}

async function main(): Promise<void> {
  const only = parseOnly(process.argv.slice(2));
  const unknown = [...(only ?? [])].filter((name) => !GROUPS.some((g) => g.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown group ${unknown.join(", ")}; groups: ${GROUPS.map((g) => g.name).join(", ")}`,
    );
  }
  const groups = GROUPS.filter((g) => only?.has(g.name) ?? true);
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);

  log("bench: preparing (provider mirror, terraform version, daemon binary)");
  const context = await prepareContext();
  const figures: Record<string, Figure> = {};
  const notes: Record<string, string> = {};
  if (context.terraform instanceof Error) log(`bench: no terraform: ${context.terraform.message}`);
  if (context.daemon instanceof Error) log(`bench: no daemon binary: ${context.daemon.message}`);
  try {
    for (const group of groups) {
      const groupStart = performance.now();
      log(`bench: ${group.name} ...`);
      let outcome: GroupResult;
      try {
        outcome = await group.run(context);
      } catch (error) {
        const detail = error instanceof FigureUnavailableError ? error.message : error;
        log(`bench: ${group.name} failed: ${detail instanceof Error ? detail.stack : detail}`);
        const reason = `not measured: ${errorText(error)}`;
        outcome = unavailable(group.figures, reason);
      }
      Object.assign(figures, outcome.figures);
      Object.assign(notes, outcome.notes);
      log(`bench: ${group.name} done in ${((performance.now() - groupStart) / 1000).toFixed(1)} s`);
    }
  } finally {
    await context.cleanup();
  }

  const seconds = Math.round((performance.now() - started) / 1000);
  const date = new Date().toISOString();
  const host = machine(context.terraform instanceof Error ? null : context.terraform.version);
  const table = rows(figures);
  process.stdout.write(`${textTable(table)}\n`);
  log(`bench: ${seconds} s in all`);
  if (only !== undefined) return;

  const daemon = context.daemon instanceof Error ? null : context.daemon.origin;
  const file = resultsFile(figures, notes, {
    machine: host,
    date,
    run: { seconds, daemon_binary: daemon },
  });
  await writeFile(join(HERE, "results.json"), `${JSON.stringify(file, null, 2)}\n`);
  const about = `${host.cores} × ${host.cpu}, ${host.memory_gb} GB, Node ${host.node}, Terraform ${host.terraform ?? "missing"}, ${seconds} s`;
  if (!(await updateReadme(markdownTable(table, notes), date, about))) {
    log("bench: bench/README.md has no results markers; table not written there");
  }
  log("bench: wrote bench/results.json and the table in bench/README.md");
}

await main();
