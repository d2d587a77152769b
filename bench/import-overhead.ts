// Import overhead: wall time of a template import of the `minimal` template through a real daemon
// process (queued → CompleteJob) divided by the reference's commands for it (init, then plan,
// show -json and graph for START and for STOP) run from a shell script. Every import is of a new
// template version, as on a real coderd, so the daemon has no init of it to reuse. Medians of
// alternating runs after a warm-up of each; terraform's starts are counted by a wrapper.
import { cp, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { WorkspaceTransition } from "../src/proto/provisioner.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { buildPayload } from "../test/fake-coderd/payloads.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { startDaemonProcess } from "./lib/daemon-process.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueImport, TEMPLATES_DIR, templateVersionArchive } from "./lib/jobs.js";
import { median, round } from "./lib/stats.js";
import { createTerraformCounter } from "./lib/terraform-counter.js";
import { runShellImport } from "./lib/terraform-shell.js";

export const IMPORT_OVERHEAD_FIGURES = [
  "import_overhead_ratio",
  "import_daemon_ms",
  "import_shell_ms",
  "terraform_runs_per_import",
] as const;

const ROUNDS = 6;
const JOB_TIMEOUT_MS = 120_000;
const TEMPLATE = "minimal";

export async function benchImportOverhead(context: BenchContext): Promise<GroupResult> {
  const terraformVersion = requireTerraform(context).version;
  const scratch = await context.scratch("import-bench");
  const counter = await createTerraformCounter(scratch);
  const fake = await FakeCoderd.start({ recordRequests: false });
  const daemon = await startDaemonProcess(context, {
    fake,
    name: "import",
    terraformPath: counter.path,
  }).catch(async (error: unknown) => {
    await fake.stop();
    throw error;
  });
  let versions = 0;
  let copies = 0;

  const throughDaemon = async (): Promise<{ ms: number; runs: string[] }> => {
    const archive = await templateVersionArchive(scratch, TEMPLATE, `import-${versions++}`);
    await counter.take();
    const jobId = enqueueImport(fake, archive);
    const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS);
    return { ms: (job.times.ended as number) - job.times.queued, runs: await counter.take() };
  };
  const fromShell = async (): Promise<number> => {
    const directory = await mkdtemp(join(scratch, `shell-${copies++}-`));
    await cp(join(TEMPLATES_DIR, TEMPLATE), directory, { recursive: true });
    const payload = buildPayload({ transition: WorkspaceTransition.START });
    if (payload.$case !== "workspaceBuild" || payload.value.metadata === undefined) {
      throw new Error("buildPayload made no workspace build metadata");
    }
    return runShellImport({
      directory,
      terraformVersion,
      cliConfigFile: join(daemon.cacheDir, "terraform-cli-config.tfrc"),
      pluginCacheDir: join(scratch, "plugins"),
      metadata: payload.value.metadata,
    });
  };

  const daemonRuns: number[] = [];
  const shellRuns: number[] = [];
  const commands = new Set<string>();
  try {
    await throughDaemon();
    await fromShell();
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) shellRuns.push(await fromShell());
      const run = await throughDaemon();
      daemonRuns.push(run.ms);
      commands.add(run.runs.join(","));
      if (i % 2 === 1) shellRuns.push(await fromShell());
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\ndaemon log tail:\n${daemon.logTail()}`);
  } finally {
    await daemon.stop();
    await fake.stop();
  }
  if (commands.size !== 1) throw new Error(`imports started different commands: ${[...commands]}`);
  const samples = (values: number[]) => values.map((v) => Math.round(v)).join("/");
  return result(
    {
      import_overhead_ratio: round(median(daemonRuns) / median(shellRuns), 3),
      import_daemon_ms: round(median(daemonRuns), 0),
      import_shell_ms: round(median(shellRuns), 0),
      terraform_runs_per_import: ([...commands][0] ?? "").split(",").filter(Boolean).length,
    },
    {
      import_overhead_ratio: `medians of ${ROUNDS} alternating runs each; daemon ${samples(daemonRuns)} ms, shell ${samples(shellRuns)} ms`,
      terraform_runs_per_import: `counted: ${[...commands].join(" ")} (the reference: 7)`,
    },
  );
}

export default benchImportOverhead;
