// Log streaming: a workspace build of `slow-and-chatty` printing 100,000 lines, through a real
// daemon process to the fake coderd. Throughput (first to last numbered line at coderd), the
// worst delay from the daemon taking a line (its `created_at`) to coderd having it, and an
// exact line-by-line account of lost and duplicated lines. The same process gives the memory
// figures: idle before the job, peak (VmHWM) after it.
//
// Two comparisons in the same run say what bounds the throughput: terraform alone printing the
// same 100,000 lines to a pipe (nothing downstream can be faster), and the daemon's log path
// with a scripted in-process provisioner (what the daemon could carry from a faster source).

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cp } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { pino } from "pino";
import { createDaemon } from "../src/daemon/index.js";
import { WorkspaceTransition } from "../src/proto/provisioner.js";
import { ScriptProvisioner } from "../test/daemon/helpers/script-provisioner.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { buildPayload } from "../test/fake-coderd/payloads.js";
import { trackArrivals } from "./lib/arrivals.js";
import type { BenchContext } from "./lib/context.js";
import { startDaemonProcess } from "./lib/daemon-process.js";
import { type Figure, type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, TEMPLATES_DIR, templateArchive } from "./lib/jobs.js";
import { chattyLineNumber, checkLines } from "./lib/line-check.js";
import { round } from "./lib/stats.js";
import { terraformEnvironment } from "./lib/terraform-shell.js";
import { idleMemory, MEMORY_FIGURES, peakRssMb } from "./memory.js";

export const LOG_FIGURES = [
  "log_lines_per_s",
  "log_max_delay_ms",
  "log_lost",
  "log_duplicated",
  "log_terraform_lines_per_s",
  "log_pipeline_lines_per_s",
  ...MEMORY_FIGURES,
] as const;

const LINES = 100_000;
const TEMPLATE = "slow-and-chatty";
const JOB_TIMEOUT_MS = 180_000;

const linesPerSecond = (lines: number, firstMs: number, lastMs: number) =>
  round((lines * 1000) / Math.max(1, lastMs - firstMs), 0);

interface DaemonRun {
  figures: Record<string, Figure>;
  notes: Record<string, string>;
  cliConfigFile: string;
}

async function throughDaemonProcess(context: BenchContext): Promise<DaemonRun> {
  const fake = await FakeCoderd.start({ recordRequests: false });
  try {
    const daemon = await startDaemonProcess(context, { fake, name: "logs" });
    try {
      const idle = await idleMemory(daemon.pid);
      const jobId = enqueueBuild(fake, {
        archive: templateArchive(TEMPLATE),
        variables: { lines: String(LINES), sleep_seconds: "0" },
      });
      const arrivals = trackArrivals(fake, jobId);
      const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS).finally(arrivals.stop);
      const rssPeak = await peakRssMb(daemon.pid);

      const number = chattyLineNumber(LINES);
      const check = checkLines(
        job.logs.map((log) => log.output),
        LINES,
        number,
      );
      let maxDelay = 0;
      let first: number | undefined;
      let last: number | undefined;
      for (const [i, log] of job.logs.entries()) {
        const wall = arrivals.wallMs[i] as number;
        maxDelay = Math.max(maxDelay, wall - log.createdAt);
        if (number(log.output) !== undefined) {
          first ??= arrivals.monotonicMs[i];
          last = arrivals.monotonicMs[i];
        }
      }
      return {
        figures: {
          log_lines_per_s:
            first === undefined || last === undefined
              ? null
              : linesPerSecond(check.received - check.duplicated, first, last),
          log_max_delay_ms: maxDelay,
          log_lost: check.lost,
          log_duplicated: check.duplicated,
          rss_idle_mb: idle.idleMb,
          rss_start_mb: idle.startMb,
          rss_peak_mb: rssPeak,
        },
        notes: {
          log_lost: `${check.received} numbered lines received, ${check.reordered} out of order, ${check.unexpected} unexpected; ${job.logs.length} log lines in all, ${job.duplicateLines} re-sent lines dropped by coderd`,
          log_max_delay_ms:
            "from the daemon taking the line from terraform (created_at) to coderd storing it",
          rss_idle_mb:
            "VmRSS of the connected daemon once settled (median of the last 2 s of 12 s idle)",
          rss_start_mb: "VmRSS right after the daemon connected",
          rss_peak_mb:
            "VmHWM of the daemon process after the 100,000-line job (terraform's own processes not included)",
        },
        cliConfigFile: join(daemon.cacheDir, "terraform-cli-config.tfrc"),
      };
    } catch (error) {
      throw new Error(`${(error as Error).message}\ndaemon log tail:\n${daemon.logTail()}`);
    } finally {
      await daemon.stop();
    }
  } finally {
    await fake.stop();
  }
}

/** terraform apply -json of the same plan, read line by line from its stdout pipe. */
async function terraformAlone(context: BenchContext, cliConfigFile: string): Promise<number> {
  const directory = await context.scratch("logs-terraform");
  await cp(join(TEMPLATES_DIR, TEMPLATE), directory, { recursive: true });
  const payload = buildPayload({ transition: WorkspaceTransition.START });
  if (payload.$case !== "workspaceBuild" || payload.value.metadata === undefined) {
    throw new Error("buildPayload made no workspace build metadata");
  }
  const env = terraformEnvironment({
    cliConfigFile,
    pluginCacheDir: join(directory, ".plugins"),
    metadata: payload.value.metadata,
  });
  const options = { cwd: directory, env, extendEnv: false } as const;
  await execa("terraform", ["init", "-no-color", "-input=false"], options);
  const vars = ["-var", `lines=${LINES}`, "-var", "sleep_seconds=0"];
  await execa(
    "terraform",
    ["plan", "-no-color", "-input=false", "-out=terraform.tfplan", ...vars],
    options,
  );
  const child = spawn(
    "terraform",
    ["apply", "-no-color", "-auto-approve", "-input=false", "-json", "terraform.tfplan"],
    { cwd: directory, env, stdio: ["ignore", "pipe", "ignore"] },
  );
  const number = chattyLineNumber(LINES);
  let count = 0;
  let first = 0;
  let last = 0;
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const message = (JSON.parse(line) as { "@message"?: string })["@message"];
    if (message === undefined || number(message) === undefined) continue;
    last = performance.now();
    if (count++ === 0) first = last;
  }
  if (count !== LINES) throw new Error(`terraform alone printed ${count} of ${LINES} lines`);
  return linesPerSecond(count, first, last);
}

/** The daemon's log path alone: an in-process daemon whose provisioner writes lines flat out. */
async function pipelineCapacity(): Promise<number> {
  const fake = await FakeCoderd.start({ recordRequests: false });
  const daemon = createDaemon({
    coderUrl: fake.url,
    psk: fake.psk,
    daemonId: randomUUID(),
    name: "bench-log-pipeline",
    provisioners: [new ScriptProvisioner({ planLines: 1, applyLines: LINES })],
    logger: pino({ level: "silent" }),
  });
  try {
    await daemon.start();
    const jobId = enqueueBuild(fake, { archive: Buffer.from("scripted") });
    const arrivals = trackArrivals(fake, jobId);
    const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS).finally(arrivals.stop);
    const numbered = /^apply START line (\d+)$/;
    const positions = job.logs.flatMap((log, i) => (numbered.test(log.output) ? [i] : []));
    if (positions.length !== LINES) {
      throw new Error(`scripted job delivered ${positions.length} of ${LINES} lines`);
    }
    const first = arrivals.monotonicMs[positions[0] as number] as number;
    const last = arrivals.monotonicMs[positions.at(-1) as number] as number;
    return linesPerSecond(LINES, first, last);
  } finally {
    await daemon.shutdown({ mode: "drain" }).catch(() => daemon.close());
    await fake.stop();
  }
}

export async function benchLogStreaming(context: BenchContext): Promise<GroupResult> {
  const daemonRun = await throughDaemonProcess(context);
  const figures = { ...daemonRun.figures };
  const notes = { ...daemonRun.notes };
  try {
    figures.log_terraform_lines_per_s = await terraformAlone(context, daemonRun.cliConfigFile);
    notes.log_terraform_lines_per_s =
      "terraform apply -json printing the same lines to a pipe: the ceiling of log_lines_per_s";
  } catch (error) {
    figures.log_terraform_lines_per_s = null;
    notes.log_terraform_lines_per_s = (error as Error).message;
  }
  try {
    figures.log_pipeline_lines_per_s = await pipelineCapacity();
    notes.log_pipeline_lines_per_s =
      "scripted provisioner writing flat out, daemon and fake coderd in one process (a lower bound)";
  } catch (error) {
    figures.log_pipeline_lines_per_s = null;
    notes.log_pipeline_lines_per_s = (error as Error).message;
  }
  return result(figures, notes);
}

export default benchLogStreaming;
