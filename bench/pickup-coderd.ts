// The coderd adapters beside our gRPC protocol, in the same run:
// - pickup: a job queued → its first log line received by the fake coderd, on an idle daemon:
//   over our gRPC acquire stream, over coderd v2's AcquireJobWithCancel (held open while idle,
//   so coderd hands the job over at once), and over coderd v0.17's AcquireJob polled at the
//   reference's external defaults (1 s interval, 100 ms jitter), jobs queued at uniformly
//   random points of the poll cycle (compare pickup_poll_p50_ms: the same polling over gRPC).
// - job: wall time of a `minimal` workspace build (queued → CompleteJob received) through an
//   in-process daemon over each protocol, alternating, so the ratio is the adapter's cost
//   (WebSocket + yamux + dRPC, a connection per daemon) over the gRPC client's.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pino } from "pino";
import { coderdV2 } from "../src/coderd/adapters/v2-adapter.js";
import { coderdV017 } from "../src/coderd/adapters/v017-adapter.js";
import { createDaemon, type Daemon, type DaemonOptions } from "../src/daemon/index.js";
import { WorkspaceTransition } from "../src/provisioner/model.js";
import { createTerraformProvisioner } from "../src/terraform/index.js";
import { FakeCoderdDrpc, randomUUIDFixed } from "../test/coderd/fake-coderd-drpc.js";
import { buildJob, PSK } from "../test/coderd/helpers/coderd-daemon.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, templateArchive } from "./lib/jobs.js";
import { median, percentile, randomBetween, round, sleep } from "./lib/stats.js";
import {
  pickupSamples as grpcPickupSamples,
  idleGapMs,
  POLL_INTERVAL_MS,
  POLL_JITTER_MS,
  STREAM_JOBS,
  WARMUP_JOBS,
} from "./pickup.js";

export const CODERD_FIGURES = [
  "pickup_v2_p50_ms",
  "pickup_v2_p99_ms",
  "pickup_v2_vs_stream",
  "pickup_v017_p50_ms",
  "pickup_v017_vs_v2",
  "job_v017_ms",
  "job_grpc_inprocess_ms",
  "job_v017_vs_grpc",
] as const;

const POLL_JOBS = 30;
const ROUNDS = 8;
const JOB_TIMEOUT_MS = 120_000;
const TOKEN = "benchbench0-0123456789abcdefghijkl";

async function daemonFor(
  context: BenchContext,
  name: string,
  options: Pick<DaemonOptions, "coderUrl"> & Partial<DaemonOptions>,
): Promise<Daemon> {
  const { mirror } = requireTerraform(context);
  const dir = await context.scratch(name);
  const daemon = createDaemon({
    daemonId: randomUUID(),
    name,
    provisioners: [
      createTerraformProvisioner({
        workDirRoot: join(dir, "work"),
        cacheDir: join(dir, "cache"),
        providerMirror: mirror.mirrorDir,
      }),
    ],
    logger: pino({ level: "silent" }),
    ...options,
  });
  await daemon.start();
  return daemon;
}

async function v017Daemon(context: BenchContext, name: string, poll: boolean) {
  const fake = await FakeCoderdDrpc.start({
    generation: "v0.17",
    sessionTokens: { [TOKEN]: { orgAdmin: true } },
  });
  const coderUrl = new URL(fake.url.href);
  const daemon = await daemonFor(context, name, {
    coderUrl: coderUrl.href,
    connect: coderdV017({ coderUrl, organization: randomUUIDFixed, sessionToken: TOKEN, tags: {} }),
    pollIntervalMs: poll ? POLL_INTERVAL_MS : 20,
    pollJitterMs: poll ? POLL_JITTER_MS : 0,
  }).catch(async (error: unknown) => {
    await fake.close();
    throw error;
  });
  const stop = async () => {
    await daemon.shutdown({ mode: "drain" }).catch(() => daemon.close());
    await fake.close();
  };
  return { fake, stop };
}

async function v2Daemon(context: BenchContext, name: string) {
  const fake = await FakeCoderdDrpc.start({ generation: "v2", psk: PSK });
  const coderUrl = fake.url;
  const daemon = await daemonFor(context, name, {
    coderUrl: coderUrl.href,
    connect: coderdV2({
      coderUrl,
      credential: { kind: "psk", psk: PSK },
      tags: {},
      name,
      buildVersion: "v0.0.0-bench",
    }),
    pollIntervalMs: POLL_INTERVAL_MS,
    pollJitterMs: POLL_JITTER_MS,
  }).catch(async (error: unknown) => {
    await fake.close();
    throw error;
  });
  const stop = async () => {
    await daemon.shutdown({ mode: "drain" }).catch(() => daemon.close());
    await fake.close();
  };
  return { fake, stop };
}

/** Resolves once the daemon holds an AcquireJobWithCancel open again (it is idle). */
async function idleOnV2(fake: FakeCoderdDrpc): Promise<void> {
  const deadline = performance.now() + JOB_TIMEOUT_MS;
  // The fake has no event for an acquire arriving; a 1 ms look is far below the figure.
  while (fake.waiting === 0) {
    if (performance.now() > deadline) throw new Error("no AcquireJobWithCancel held open");
    await sleep(1);
  }
}

/** As pickupV017Samples, over v2: the idle daemon's held-open acquire, then a short gap. */
async function pickupV2Samples(context: BenchContext): Promise<number[]> {
  const { fake, stop } = await v2Daemon(context, "pickup-v2");
  const payload = buildJob(templateArchive("minimal"), {}, WorkspaceTransition.DESTROY);
  const samples: number[] = [];
  try {
    for (let i = 0; i < WARMUP_JOBS + STREAM_JOBS; i++) {
      await idleOnV2(fake);
      await sleep(idleGapMs());
      const job = await fake.waitForEnd(fake.enqueue(payload), JOB_TIMEOUT_MS);
      if (job.state !== "completed") throw new Error(`job ${job.id} failed: ${job.failure}`);
      const { queued, firstLog } = job.times;
      if (firstLog === undefined) throw new Error(`job ${job.id} completed without a log line`);
      if (i >= WARMUP_JOBS) samples.push(firstLog - queued);
    }
  } finally {
    await stop();
  }
  return samples;
}

/** Queued → first log line, for delete builds of a workspace without state (no terraform run). */
async function pickupV017Samples(context: BenchContext): Promise<number[]> {
  const { fake, stop } = await v017Daemon(context, "pickup-v017", true);
  const payload = buildJob(templateArchive("minimal"), {}, WorkspaceTransition.DESTROY);
  const samples: number[] = [];
  try {
    for (let i = 0; i < WARMUP_JOBS + POLL_JOBS; i++) {
      await sleep(randomBetween(0, POLL_INTERVAL_MS + POLL_JITTER_MS));
      const job = await fake.waitForEnd(fake.enqueue(payload), JOB_TIMEOUT_MS);
      if (job.state !== "completed") throw new Error(`job ${job.id} failed: ${job.failure}`);
      const { queued, firstLog } = job.times;
      if (firstLog === undefined) throw new Error(`job ${job.id} completed without a log line`);
      if (i >= WARMUP_JOBS) samples.push(firstLog - queued);
    }
  } finally {
    await stop();
  }
  return samples;
}

/** Alternating `minimal` start builds over each protocol; medians after one warm-up each. */
async function jobTimes(context: BenchContext): Promise<{ v017: number[]; grpc: number[] }> {
  const archive = templateArchive("minimal");
  const v017 = await v017Daemon(context, "job-v017", false);
  const grpcFake = await FakeCoderd.start({ recordRequests: false });
  const grpcDaemon = await daemonFor(context, "job-grpc", {
    coderUrl: grpcFake.url,
    psk: grpcFake.psk,
    acquireMode: "stream",
  });
  const throughV017 = async () => {
    const job = await v017.fake.waitForEnd(v017.fake.enqueue(buildJob(archive)), JOB_TIMEOUT_MS);
    if (job.state !== "completed") throw new Error(`job ${job.id} failed: ${job.failure}`);
    return (job.times.ended as number) - job.times.queued;
  };
  const throughGrpc = async () => {
    const jobId = enqueueBuild(grpcFake, { archive, transition: WorkspaceTransition.START });
    const job = await completedJob(grpcFake, jobId, JOB_TIMEOUT_MS);
    return (job.times.ended as number) - job.times.queued;
  };
  const out = { v017: [] as number[], grpc: [] as number[] };
  try {
    await throughV017();
    await throughGrpc();
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        out.v017.push(await throughV017());
        out.grpc.push(await throughGrpc());
      } else {
        out.grpc.push(await throughGrpc());
        out.v017.push(await throughV017());
      }
    }
  } finally {
    await grpcDaemon.shutdown({ mode: "drain" }).catch(() => grpcDaemon.close());
    await grpcFake.stop();
    await v017.stop();
  }
  return out;
}

export async function benchCoderd(context: BenchContext): Promise<GroupResult> {
  // The three acquisitions one after another in this run, so their ratios share its load.
  const stream = await grpcPickupSamples(context, {
    mode: "stream",
    jobs: STREAM_JOBS,
    gapMs: idleGapMs,
  });
  const v2 = await pickupV2Samples(context);
  const pickup = await pickupV017Samples(context);
  const jobs = await jobTimes(context);
  const v017Ms = median(jobs.v017);
  const grpcMs = median(jobs.grpc);
  const v2P50 = median(v2);
  const streamP50 = median(stream);
  const ms = (values: number[]) => values.map((v) => Math.round(v)).join("/");
  return result(
    {
      pickup_v2_p50_ms: round(v2P50),
      pickup_v2_p99_ms: round(percentile(v2, 99)),
      pickup_v2_vs_stream: round(v2P50 / streamP50, 2),
      pickup_v017_p50_ms: round(median(pickup)),
      pickup_v017_vs_v2: round(median(pickup) / v2P50, 1),
      job_v017_ms: round(v017Ms, 0),
      job_grpc_inprocess_ms: round(grpcMs, 0),
      job_v017_vs_grpc: round(v017Ms / grpcMs, 3),
    },
    {
      pickup_v2_p99_ms: `nearest-rank p99 of ${v2.length} samples (the slowest when there are fewer than 100)`,
      pickup_v2_vs_stream: `medians; our gRPC stream in this run: p50 ${round(streamP50)} ms, p99 ${round(percentile(stream, 99))} ms over ${stream.length} jobs`,
      pickup_v017_p50_ms: `${pickup.length} jobs queued at uniformly random points of the poll cycle; compare pickup_poll_p50_ms`,
      job_v017_vs_grpc: `medians of ${ROUNDS} alternating in-process runs each; v0.17 ${ms(jobs.v017)} ms, gRPC ${ms(jobs.grpc)} ms`,
    },
  );
}

export default benchCoderd;
