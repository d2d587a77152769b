// Concurrency: 8 workspace builds of `slow-and-chatty` queued at once on a daemon process with
// --concurrency 4 and on one with --concurrency 1; wall time from queuing to the last
// CompleteJob, speedup = c1 / c4 (medians of alternating rounds). Each job prints lines and
// then waits 1 s, as a build waits on a cloud API; the waiting overlaps fully across slots, the
// CPU work (terraform itself) only as far as the machine's cores allow, which the same batch
// without the wait shows (concurrency_speedup_no_wait).
import { cpus } from "node:os";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import type { BenchContext } from "./lib/context.js";
import { type DaemonProcess, startDaemonProcess } from "./lib/daemon-process.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, templateArchive } from "./lib/jobs.js";
import { median, round } from "./lib/stats.js";

export const CONCURRENCY_FIGURES = [
  "concurrency_speedup",
  "concurrency_c1_ms",
  "concurrency_c4_ms",
  "concurrency_speedup_no_wait",
] as const;

const JOBS = 8;
const ROUNDS = 2;
const LINES = "1000";
const SLEEP_SECONDS = "1";
/** The same jobs without the wait: terraform's CPU work alone, bounded by the cores. */
const NO_WAIT = "0";
const JOB_TIMEOUT_MS = 180_000;

interface Target {
  fake: FakeCoderd;
  daemon: DaemonProcess;
}

async function batch(target: Target, archive: Buffer, sleepSeconds: string, jobs: number) {
  const start = performance.now();
  const ids = Array.from({ length: jobs }, () =>
    enqueueBuild(target.fake, {
      archive,
      variables: { lines: LINES, sleep_seconds: sleepSeconds },
    }),
  );
  await Promise.all(ids.map((id) => completedJob(target.fake, id, JOB_TIMEOUT_MS)));
  return performance.now() - start;
}

async function startTarget(context: BenchContext, concurrency: number): Promise<Target> {
  const fake = await FakeCoderd.start({ recordRequests: false });
  try {
    const daemon = await startDaemonProcess(context, {
      fake,
      name: `concurrency-${concurrency}`,
      concurrency,
    });
    return { fake, daemon };
  } catch (error) {
    await fake.stop();
    throw error;
  }
}

async function stopTarget(target: Target | undefined): Promise<void> {
  if (target === undefined) return;
  await target.daemon.stop();
  await target.fake.stop();
}

export async function benchConcurrency(context: BenchContext): Promise<GroupResult> {
  const archive = templateArchive("slow-and-chatty");
  let one: Target | undefined;
  let four: Target | undefined;
  const c1: number[] = [];
  const c4: number[] = [];
  const c1NoWait: number[] = [];
  const c4NoWait: number[] = [];
  try {
    const serial = await startTarget(context, 1);
    one = serial;
    const parallel = await startTarget(context, 4);
    four = parallel;
    // Warm-up: terraform's version check and the first work dir of each daemon.
    await batch(serial, archive, NO_WAIT, 1);
    await batch(parallel, archive, NO_WAIT, 1);
    for (let pass = 0; pass < ROUNDS; pass++) {
      const runFour = async () => {
        c4.push(await batch(parallel, archive, SLEEP_SECONDS, JOBS));
        c4NoWait.push(await batch(parallel, archive, NO_WAIT, JOBS));
      };
      const runOne = async () => {
        c1.push(await batch(serial, archive, SLEEP_SECONDS, JOBS));
        c1NoWait.push(await batch(serial, archive, NO_WAIT, JOBS));
      };
      if (pass % 2 === 0) {
        await runFour();
        await runOne();
      } else {
        await runOne();
        await runFour();
      }
    }
  } catch (error) {
    const tails = [one, four].map((t) => t?.daemon.logTail() ?? "").join("\n");
    throw new Error(`${(error as Error).message}\ndaemon log tails:\n${tails}`);
  } finally {
    await stopTarget(one);
    await stopTarget(four);
  }
  const c1Ms = median(c1);
  const c4Ms = median(c4);
  return result(
    {
      concurrency_speedup: round(c1Ms / c4Ms, 2),
      concurrency_c1_ms: round(c1Ms, 0),
      concurrency_c4_ms: round(c4Ms, 0),
      concurrency_speedup_no_wait: round(median(c1NoWait) / median(c4NoWait), 2),
    },
    {
      concurrency_speedup: `${JOBS} jobs of ${LINES} lines and a ${SLEEP_SECONDS} s wait each; ${ROUNDS} alternating rounds: c1 ${c1.map(Math.round).join("/")} ms, c4 ${c4.map(Math.round).join("/")} ms`,
      concurrency_speedup_no_wait: `the same jobs without the wait (terraform's CPU work only, ${cpus().length} cores): c1 ${c1NoWait.map(Math.round).join("/")} ms, c4 ${c4NoWait.map(Math.round).join("/")} ms`,
    },
  );
}

export default benchConcurrency;
