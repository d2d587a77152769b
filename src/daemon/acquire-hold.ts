// Acquire loop for coordinators whose acquire blocks until a job is there (coderd v2's
// AcquireJobWithCancel): one acquire held open per free slot, so every idle slot gets a job the
// moment one is queued, and stopping ends every open acquire at once. An acquire in flight counts
// as a reserved slot: there are never more open acquires than free slots, so no job can arrive
// without a slot for it.

import type { PollTiming } from "./acquire-poll.js";
import { acquireOnce } from "./acquire-poll.js";
import type { AcquireDeps } from "./acquire-types.js";

export async function holdForJobs(
  deps: AcquireDeps,
  timing: PollTiming,
  signal: AbortSignal,
): Promise<void> {
  // Aborted by `signal`, or by a worker whose error no retry can help: the others must stop too.
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });

  const workers = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  let wake = () => {};
  const changed = () => wake();
  deps.slotEvents.on("change", changed);
  stop.signal.addEventListener("abort", changed, { once: true });

  // Acquires until stopped, or until the open acquires (this one included) outnumber the free
  // slots, which happens right after this worker handed a job over.
  const work = async () => {
    const failures = { count: 0 };
    while (!stop.signal.aborted && workers.size <= deps.readySlots()) {
      await acquireOnce(deps, timing, failures, stop.signal);
    }
  };

  try {
    while (!stop.signal.aborted) {
      while (workers.size < deps.readySlots()) {
        const worker: Promise<void> = work()
          .catch((error: unknown) => {
            fatal ??= { error };
            stop.abort(error);
          })
          .finally(() => {
            workers.delete(worker);
            wake();
          });
        workers.add(worker);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    // Stopping: each open acquire was ended and its answer (possibly a job) handed over.
    await Promise.all(workers);
  } finally {
    deps.slotEvents.off("change", changed);
    signal.removeEventListener("abort", onAbort);
  }
  if (fatal !== undefined) throw fatal.error;
}
