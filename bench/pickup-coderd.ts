// The coderd v0.17 adapter beside our gRPC protocol, in the same run:
// - pickup: a job queued on the dRPC fake coderd → its first log line received, on an idle
//   daemon polling AcquireJob at the reference's external defaults (1 s interval, 100 ms
//   jitter), jobs queued at uniformly random points of the poll cycle; compare with
//   pickup_poll_p50_ms (the same polling over gRPC).
// - job: wall time of a `minimal` workspace build (queued → CompleteJob received) through an
//   in-process daemon over each protocol, alternating, so the ratio is the adapter's cost
//   (WebSocket + yamux + dRPC, a connection per daemon) over the gRPC client's.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { pino } from "pino";
import { coderdV017 } from "../src/coderd/adapters/v017-adapter.js";
import { createDaemon, type Daemon, type DaemonOptions } from "../src/daemon/index.js";
import { WorkspaceTransition } from "../src/provisioner/model.js";
import { createTerraformProvisioner } from "../src/terraform/index.js";
import { FakeCoderdDrpc, randomUUIDFixed } from "../test/coderd/fake-coderd-drpc.js";
import { buildJob } from "../test/coderd/helpers/v017-daemon.js";
import { FakeCoderd } from "../test/fake-coderd/fake-coderd.js";
import { type BenchContext, requireTerraform } from "./lib/context.js";
import { type GroupResult, result } from "./lib/figures.js";
import { completedJob, enqueueBuild, templateArchive } from "./lib/jobs.js";
import { median, randomBetween, round, sleep } from "./lib/stats.js";

export const CODERD_V017_FIGURES = [
  "pickup_v017_p50_ms",
  "job_v017_ms",
  "job_grpc_inprocess_ms",
  "job_v017_vs_grpc",
] as const;

const POLL_JOBS = 30;
const WARMUP_JOBS = 3;
/** The reference's external daemon defaults, as in the gRPC pickup figure. */
const POLL_INTERVAL_MS = 1_000;
const POLL_JITTER_MS = 100;
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

/** Queued → first log line, for delete builds of a workspace without state (no terraform run). */
async function pickupSamples(context: BenchContext): Promise<number[]> {
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

export async function benchCoderdV017(context: BenchContext): Promise<GroupResult> {
  const pickup = await pickupSamples(context);
  const jobs = await jobTimes(context);
  const v017Ms = median(jobs.v017);
  const grpcMs = median(jobs.grpc);
  const ms = (values: number[]) => values.map((v) => Math.round(v)).join("/");
  return result(
    {
      pickup_v017_p50_ms: round(median(pickup)),
      job_v017_ms: round(v017Ms, 0),
      job_grpc_inprocess_ms: round(grpcMs, 0),
      job_v017_vs_grpc: round(v017Ms / grpcMs, 3),
    },
    {
      pickup_v017_p50_ms: `${pickup.length} jobs queued at uniformly random points of the poll cycle; compare pickup_poll_p50_ms`,
      job_v017_vs_grpc: `medians of ${ROUNDS} alternating in-process runs each; v0.17 ${ms(jobs.v017)} ms, gRPC ${ms(jobs.grpc)} ms`,
    },
  );
}

export default benchCoderdV017;
