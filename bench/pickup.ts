// Pickup latency: a job queued on the fake coderd → the first log line of that job received by
// it, on an idle daemon. Streaming acquire (coderd pushes the job) against unary polling at the
// reference's external defaults (1 s interval, 100 ms jitter, an AcquireJob answered at once as
// coderd v0.17 did), in the same run.
//
// Each job is a real workspace build through the terraform provisioner: a delete of a workspace
// that has no state yet, which the provisioner ends without starting terraform, so a sample
// costs milliseconds and 50 of them fit the time budget. The first log line (the "Setting up"
// stage) is sent before the provisioner does anything, so the job's content cannot change it.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pino } from "pino";
import { createDaemon } from "../src/daemon/index.js";
import { WorkspaceTransition } from "../src/provisioner/model.js";
import { createTerraformProvisioner } from "../src/terraform/index.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, templateArchive } from "./lib/jobs.js";
import { median, percentile, randomBetween, round, sleep } from "./lib/stats.js";

export const PICKUP_FIGURES = [
  "pickup_stream_p50_ms",
  "pickup_stream_p99_ms",
  "pickup_poll_p50_ms",
  "pickup_speedup",
] as const;

const STREAM_JOBS = 50;
/** With arrivals spread over the cycle, enough for the median to settle within a few percent. */
const POLL_JOBS = 30;
const WARMUP_JOBS = 3;
/** The reference's external daemon defaults: poll every 1 s with up to 100 ms jitter. */
const POLL_INTERVAL_MS = 1_000;
const POLL_JITTER_MS = 100;
const JOB_TIMEOUT_MS = 30_000;

type AcquireMode = "stream" | "poll";

interface PickupRun {
  mode: AcquireMode;
  jobs: number;
  /** Wait before queuing the next job, once the daemon is idle; `sample` is undefined in warm-up. */
  gapMs: (sample: number | undefined) => number;
}

async function pickupSamples(context: BenchContext, run: PickupRun): Promise<number[]> {
  const { mirror } = requireTerraform(context);
  const fake = await FakeCoderd.start({ recordRequests: false });
  const dir = await context.scratch(`pickup-${run.mode}`);
  const daemon = createDaemon({
    coderUrl: fake.url,
    psk: fake.psk,
    daemonId: randomUUID(),
    name: `bench-pickup-${run.mode}`,
    provisioners: [
      createTerraformProvisioner({
        workDirRoot: join(dir, "work"),
        cacheDir: join(dir, "cache"),
        providerMirror: mirror.mirrorDir,
      }),
    ],
    acquireMode: run.mode,
    pollIntervalMs: POLL_INTERVAL_MS,
    pollJitterMs: POLL_JITTER_MS,
    pollWaitMs: 0,
    logger: pino({ level: "silent" }),
  });
  const archive = templateArchive("minimal");
  const samples: number[] = [];
  try {
    await daemon.start();
    for (let i = 0; i < WARMUP_JOBS + run.jobs; i++) {
      if (run.mode === "stream") {
        // Idle: the daemon has offered its slot again.
        await fake.waitFor(
          () => fake.streamDaemons().some((d) => d.slots > 0),
          JOB_TIMEOUT_MS,
          "a free slot on the stream",
        );
      }
      await sleep(run.gapMs(i >= WARMUP_JOBS ? i - WARMUP_JOBS : undefined));
      const jobId = enqueueBuild(fake, { archive, transition: WorkspaceTransition.DESTROY });
      const job = await completedJob(fake, jobId, JOB_TIMEOUT_MS);
      const { queued, firstLog } = job.times;
      if (firstLog === undefined) throw new Error(`job ${jobId} completed without a log line`);
      if (i >= WARMUP_JOBS) samples.push(firstLog - queued);
    }
  } finally {
    await daemon.shutdown({ mode: "drain" }).catch(() => daemon.close());
    await fake.stop();
  }
  return samples;
}

function shuffled<T>(values: T[]): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomBetween(0, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export async function benchPickup(context: BenchContext): Promise<GroupResult> {
  // A short random gap, so queuing does not line up with the daemon's heartbeat or cleanup.
  const stream = await pickupSamples(context, {
    mode: "stream",
    jobs: STREAM_JOBS,
    gapMs: () => randomBetween(20, 70),
  });
  // Jobs arrive at points spread evenly over the poll cycle (which restarts when the previous
  // job ends), in random order: a uniform arrival, with a median that settles in 30 jobs.
  const cycleMs = POLL_INTERVAL_MS + POLL_JITTER_MS;
  const phases = shuffled(
    Array.from({ length: POLL_JOBS }, (_, i) => ((i + 0.5) * cycleMs) / POLL_JOBS),
  );
  const poll = await pickupSamples(context, {
    mode: "poll",
    jobs: POLL_JOBS,
    gapMs: (sample) => (sample === undefined ? randomBetween(0, cycleMs) : (phases[sample] ?? 0)),
  });
  const streamP50 = median(stream);
  const pollP50 = median(poll);
  return result(
    {
      pickup_stream_p50_ms: round(streamP50),
      pickup_stream_p99_ms: round(percentile(stream, 99)),
      pickup_poll_p50_ms: round(pollP50),
      pickup_speedup: round(pollP50 / streamP50, 1),
    },
    {
      pickup_stream_p99_ms: `nearest-rank p99 of ${stream.length} samples (rank ${Math.ceil(0.99 * stream.length)}, so the slowest when there are fewer than 100)`,
      pickup_poll_p50_ms: `${poll.length} jobs queued at points spread evenly over the poll cycle`,
    },
  );
}

export default benchPickup;
