// Job overhead: wall time of a workspace build of the `minimal` template through a real daemon
// process (queued on the fake coderd → CompleteJob received) divided by the same terraform
// command sequence run from a shell script. Medians of alternating runs (daemon first in even
// rounds, shell first in odd ones), after one warm-up of each that fills the plugin caches.
import { cp, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { WorkspaceTransition } from "../src/proto/provisioner.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { buildPayload } from "../test/fake-coderd/payloads.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { startDaemonProcess } from "./lib/daemon-process.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, TEMPLATES_DIR, templateArchive } from "./lib/jobs.js";
import { median, round } from "./lib/stats.js";
import { runShellBuild } from "./lib/terraform-shell.js";

export const JOB_OVERHEAD_FIGURES = [
  "job_overhead_ratio",
  "job_daemon_ms",
  "job_shell_ms",
] as const;

const ROUNDS = 8;
const JOB_TIMEOUT_MS = 120_000;
const TEMPLATE = "minimal";

export async function benchJobOverhead(context: BenchContext): Promise<GroupResult> {
  const terraformVersion = requireTerraform(context).version;
  const fake = await FakeCoderd.start({ recordRequests: false });
  const daemon = await startDaemonProcess(context, { fake, name: "overhead" }).catch(
    async (error: unknown) => {
      await fake.stop();
      throw error;
    },
  );
  const archive = templateArchive(TEMPLATE);
  const shellRoot = await context.scratch("overhead-shell");
  const pluginCacheDir = join(shellRoot, "plugins");
  let copies = 0;

  const throughDaemon = async (): Promise<number> => {
    const jobId = enqueueBuild(fake, { archive, transition: WorkspaceTransition.START });
    const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS);
    return (job.times.ended as number) - job.times.queued;
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

  const daemonRuns: number[] = [];
  const shellRuns: number[] = [];
  try {
    await throughDaemon();
    await fromShell();
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        daemonRuns.push(await throughDaemon());
        shellRuns.push(await fromShell());
      } else {
        shellRuns.push(await fromShell());
        daemonRuns.push(await throughDaemon());
      }
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\ndaemon log tail:\n${daemon.logTail()}`);
  } finally {
    await daemon.stop();
    await fake.stop();
  }
  const daemonMs = median(daemonRuns);
  const shellMs = median(shellRuns);
  return result(
    {
      job_overhead_ratio: round(daemonMs / shellMs, 3),
      job_daemon_ms: round(daemonMs, 0),
      job_shell_ms: round(shellMs, 0),
    },
    {
      job_overhead_ratio: `medians of ${ROUNDS} alternating runs each; daemon ${daemonRuns.map((v) => Math.round(v)).join("/")} ms, shell ${shellRuns.map((v) => Math.round(v)).join("/")} ms`,
    },
  );
}

export default benchJobOverhead;
