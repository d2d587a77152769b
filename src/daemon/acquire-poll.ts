// Unary acquire loop: the fallback for coderds without the stream, and `--acquire poll`.
// One acquire at a time while a slot is free (BullMQ's bounded fetch); each call may be held
// open by coderd for `waitMs` (long poll), and an empty answer waits interval + jitter minus
// the time the call was held, so a coderd that ignores `wait_ms` is polled at the set rate.

import { randomInt } from "node:crypto";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { delay } from "./abort.js";
import type { AcquireDeps } from "./acquire-types.js";
import {
  AuthenticationRefusedError,
  CoordinatorRefusedError,
  errorMessage,
  TransportError,
} from "./errors.js";
import { backoffDelay } from "./retry.js";

export interface PollTiming {
  intervalMs: number;
  jitterMs: number;
  waitMs: number;
}

export async function pollForJobs(
  deps: AcquireDeps,
  timing: PollTiming,
  signal: AbortSignal,
): Promise<void> {
  const failures = { count: 0 };
  while (!signal.aborted) {
    if (deps.readySlots() <= 0) {
      try {
        await once(deps.slotEvents, "change", { signal });
      } catch {
        return;
      }
      continue;
    }
    await acquireOnce(deps, timing, failures, signal);
  }
}

/**
 * One acquire and the wait after it: a job goes to `onJob` (also when `signal` aborted while
 * coderd answered, since coderd locked it for us); an empty answer waits interval + jitter; a
 * transport failure waits the jittered backoff for attempt `failures.count`. Throws what no
 * retry can help.
 */
export async function acquireOnce(
  deps: AcquireDeps,
  timing: PollTiming,
  failures: { count: number },
  signal: AbortSignal,
): Promise<void> {
  const started = performance.now();
  try {
    const job = await deps.client.acquireJob(
      { daemon: deps.identity, waitMs: timing.waitMs },
      signal,
    );
    failures.count = 0;
    const gotJob = job.jobId !== "";
    deps.observer.acquired({
      mode: "poll",
      seconds: (performance.now() - started) / 1000,
      gotJob,
    });
    if (gotJob) {
      deps.onJob(job);
      return;
    }
    const jitter = timing.jitterMs > 0 ? randomInt(timing.jitterMs) : 0;
    await delay(Math.max(0, timing.intervalMs + jitter - (performance.now() - started)), signal);
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof AuthenticationRefusedError) throw error;
    if (error instanceof TransportError) {
      const wait = backoffDelay(failures.count++, deps.backoff);
      deps.logger.warn(
        { err: error.message, retryInMs: wait },
        "acquire job failed; coderd unreachable",
      );
      await delay(wait, signal).catch(() => {});
      return;
    }
    if (error instanceof CoordinatorRefusedError) {
      // A coderd without AcquireJob cannot serve this daemon at all.
      if (error.name === "UnimplementedError") throw error;
      deps.logger.warn({ err: errorMessage(error) }, "acquire job refused");
      await delay(timing.intervalMs, signal).catch(() => {});
      return;
    }
    throw error;
  }
}
