// The acquire loops' slot accounting, against a coordinator that records every acquire: polling
// keeps one acquire open at a time; a blocking coordinator gets one per free slot and never more
// open acquires than free slots, and stopping hands over what every open acquire answers.
import { EventEmitter } from "node:events";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { type Deferred, deferred } from "../../src/daemon/abort.js";
import { holdForJobs } from "../../src/daemon/acquire-hold.js";
import { pollForJobs } from "../../src/daemon/acquire-poll.js";
import type { AcquireDeps } from "../../src/daemon/acquire-types.js";
import type { CoordinatorClient } from "../../src/daemon/coordinator.js";
import { AcquiredJob, DaemonIdentity } from "../../src/provisioner/model.js";

const TIMING = { intervalMs: 1, jitterMs: 0, waitMs: 0 };

/**
 * Three slots; each acquire waits until the test answers it, or on abort answers the next of
 * `onCancel` (a job coderd locked as the cancel came), else empty.
 */
function setup() {
  let free = 3;
  const open: Deferred<AcquiredJob>[] = [];
  const taken: string[] = [];
  const overbooked: number[] = [];
  const onCancel: string[] = [];
  const slotEvents = new EventEmitter();
  const client = {
    acquireJob: (_request: unknown, signal: AbortSignal) => {
      const answer = deferred<AcquiredJob>();
      open.push(answer);
      if (open.length > free) overbooked.push(open.length);
      const onAbort = () => answer.resolve(AcquiredJob.create({ jobId: onCancel.shift() ?? "" }));
      signal.addEventListener("abort", onAbort, { once: true });
      return answer.promise.finally(() => {
        signal.removeEventListener("abort", onAbort);
        open.splice(open.indexOf(answer), 1);
      });
    },
  } as unknown as CoordinatorClient;
  const deps: AcquireDeps = {
    client,
    identity: DaemonIdentity.create({}),
    logger: pino({ level: "silent" }),
    observer: { acquired: () => {} } as unknown as AcquireDeps["observer"],
    backoff: { initialMs: 1, maxMs: 10 },
    readySlots: () => free,
    slotEvents,
    onJob: (job) => {
      taken.push(job.jobId);
      free--;
      slotEvents.emit("change");
    },
  };
  const release = () => {
    free++;
    slotEvents.emit("change");
  };
  return { deps, open, taken, overbooked, onCancel, release };
}

describe("acquire loops", () => {
  it("polling keeps one acquire open however many slots are free", async () => {
    const t = setup();
    const stop = new AbortController();
    const loop = pollForJobs(t.deps, TIMING, stop.signal);
    await vi.waitFor(() => expect(t.open.length).toBe(1));
    t.open[0]?.resolve(AcquiredJob.create({ jobId: "a" }));
    await vi.waitFor(() => expect(t.taken).toEqual(["a"]));
    await vi.waitFor(() => expect(t.open.length).toBe(1));
    stop.abort();
    await loop;
    expect(t.open.length).toBe(0);
  });

  it("a blocking coordinator gets one acquire per free slot, never more", async () => {
    const t = setup();
    const stop = new AbortController();
    const loop = holdForJobs(t.deps, TIMING, stop.signal);
    await vi.waitFor(() => expect(t.open.length).toBe(3));
    t.open[0]?.resolve(AcquiredJob.create({ jobId: "a" }));
    t.open[1]?.resolve(AcquiredJob.create({ jobId: "b" }));
    await vi.waitFor(() => expect(t.taken).toEqual(["a", "b"]));
    // Two slots busy: only the third acquire stays open.
    expect(t.open.length).toBe(1);
    t.release();
    await vi.waitFor(() => expect(t.open.length).toBe(2));
    // Stopping ends both open acquires; a job answered then is still handed over.
    t.onCancel.push("c");
    stop.abort();
    await loop;
    expect(t.taken).toEqual(["a", "b", "c"]);
    expect(t.open.length).toBe(0);
    expect(t.overbooked).toEqual([]);
  });
});
