// When each log line of a job reached the fake coderd: stamped (wall clock, like the daemon's
// `created_at`) as soon as the UpdateJob that carried it was handled.
import type { FakeCoderd } from "../../test/fake-coderd/fake-coderd.js";

export interface ArrivalTracker {
  /** Date.now() at arrival, by position in the job's log (sequence - 1). */
  readonly wallMs: number[];
  /** performance.now() at arrival, for rates. */
  readonly monotonicMs: number[];
  stop(): void;
}

export function trackArrivals(fake: FakeCoderd, jobId: string): ArrivalTracker {
  const wallMs: number[] = [];
  const monotonicMs: number[] = [];
  const onChange = () => {
    const logs = fake.jobs.get(jobId)?.logs;
    if (logs === undefined || logs.length === wallMs.length) return;
    const wall = Date.now();
    const monotonic = performance.now();
    for (let i = wallMs.length; i < logs.length; i++) {
      wallMs.push(wall);
      monotonicMs.push(monotonic);
    }
  };
  fake.events.on("change", onChange);
  return { wallMs, monotonicMs, stop: () => fake.events.off("change", onChange) };
}
