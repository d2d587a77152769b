// Job overhead: wall time of a workspace build of the `minimal` template through a real daemon
// process (queued on the fake coderd → CompleteJob received) divided by the reference's seven
// terraform commands run from a shell script. Each round runs the shell script, the first build
// of a new template version (cold: the daemon initializes it) and the next build of that version
// (warm: the daemon reuses its init), the shell first in even rounds and last in odd ones; the
// figures are medians, after one warm-up of each that fills the plugin caches. The daemon runs
// terraform through a wrapper that counts its starts.
import { cp, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { WorkspaceTransition } from "../src/proto/provisioner.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { buildPayload } from "../test/fake-coderd/payloads.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { startDaemonProcess } from "./lib/daemon-process.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, TEMPLATES_DIR, templateVersionArchive } from "./lib/jobs.js";
import { median, round } from "./lib/stats.js";
import { createTerraformCounter } from "./lib/terraform-counter.js";
import { runShellBuild } from "./lib/terraform-shell.js";

export const JOB_OVERHEAD_FIGURES = [
  "job_overhead_ratio",
  "job_overhead_ratio_cold",
  "job_daemon_ms",
  "job_daemon_cold_ms",
  "job_shell_ms",
  "terraform_runs_per_build",
  "terraform_runs_per_build_cold",
] as const;

const ROUNDS = 8;
const JOB_TIMEOUT_MS = 120_000;
const TEMPLATE = "minimal";

export async function benchJobOverhead(context: BenchContext): Promise<GroupResult> {
  const terraformVersion = requireTerraform(context).version;
  const scratch = await context.scratch("overhead-bench");
  const counter = await createTerraformCounter(scratch);
  const fake = await FakeCoderd.start({ recordRequests: false });
  const daemon = await startDaemonProcess(context, {
    fake,
    name: "overhead",
    terraformPath: counter.path,
  }).catch(async (error: unknown) => {
    await fake.stop();
    throw error;
  });
  const shellRoot = await context.scratch("overhead-shell");
  const pluginCacheDir = join(shellRoot, "plugins");
  let copies = 0;
  let versions = 0;

  const throughDaemon = async (archive: Buffer): Promise<{ ms: number; runs: string[] }> => {
    await counter.take();
    const jobId = enqueueBuild(fake, { archive, transition: WorkspaceTransition.START });
    const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS);
    return { ms: (job.times.ended as number) - job.times.queued, runs: await counter.take() };
  };
  /** A new template version's first build, then its second. */
  const coldAndWarm = async () => {
    const archive = await templateVersionArchive(scratch, TEMPLATE, `v${versions++}`);
    const cold = await throughDaemon(archive);
    const warm = await throughDaemon(archive);
    return { cold, warm };
  };
  const fromShell = async (): Promise<number> => {
    const directory = await mkdtemp(join(shellRoot, `build-${copies++}-`));
    await cp(join(TEMPLATES_DIR, TEMPLATE), directory, { recursive: true });
    const payload = buildPayload({ transition: WorkspaceTransition.START });
    if (payload.$case !== "workspaceBuild" || payload.value.metadata === undefined) {
      throw new Error("buildPayload made no workspace build metadata");
    }
    return runShellBuild({
      directory,
      terraformVersion,
      // The very file the daemon's provisioner wrote: the same provider installation.
      cliConfigFile: join(daemon.cacheDir, "terraform-cli-config.tfrc"),
      pluginCacheDir,
      metadata: payload.value.metadata,
    });
  };

  const cold: number[] = [];
  const warm: number[] = [];
  const shell: number[] = [];
  const coldRuns = new Set<string>();
  const warmRuns = new Set<string>();
  try {
    await coldAndWarm();
    await fromShell();
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) shell.push(await fromShell());
      const daemonRound = await coldAndWarm();
      if (i % 2 === 1) shell.push(await fromShell());
      cold.push(daemonRound.cold.ms);
      warm.push(daemonRound.warm.ms);
      coldRuns.add(daemonRound.cold.runs.join(","));
      warmRuns.add(daemonRound.warm.runs.join(","));
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\ndaemon log tail:\n${daemon.logTail()}`);
  } finally {
    await daemon.stop();
    await fake.stop();
  }
  const runsOf = (seen: Set<string>, what: string): number => {
    // Every build of a kind starts the same commands; a difference would be a bug to look at.
    if (seen.size !== 1) throw new Error(`${what} builds started different commands: ${[...seen]}`);
    return ([...seen][0] ?? "").split(",").filter((s) => s !== "").length;
  };
  const samples = (values: number[]) => values.map((v) => Math.round(v)).join("/");
  const shellMs = median(shell);
  return result(
    {
      job_overhead_ratio: round(median(warm) / shellMs, 3),
      job_overhead_ratio_cold: round(median(cold) / shellMs, 3),
      job_daemon_ms: round(median(warm), 0),
      job_daemon_cold_ms: round(median(cold), 0),
      job_shell_ms: round(shellMs, 0),
      terraform_runs_per_build: runsOf(warmRuns, "warm"),
      terraform_runs_per_build_cold: runsOf(coldRuns, "cold"),
    },
    {
      job_overhead_ratio: `medians of ${ROUNDS} alternating rounds; daemon (warm) ${samples(warm)} ms, shell ${samples(shell)} ms`,
      job_overhead_ratio_cold: `daemon (first build of a template version) ${samples(cold)} ms`,
      terraform_runs_per_build: `counted: ${[...warmRuns].join(" ")} (the reference: 7)`,
      terraform_runs_per_build_cold: `counted: ${[...coldRuns].join(" ")}`,
    },
  );
}

export default benchJobOverhead;
