// Small AbortSignal and promise helpers: every wait in the daemon is abortable, none outlives
// its reason.

/** The error an aborted signal carries, as an Error (AbortSignal reasons may be anything). */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(reason === undefined ? "aborted" : String(reason));
  error.name = "AbortError";
  return error;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits for `work`, or for `signal` to abort, whichever comes first (undefined then). The abort
 * listener is removed as soon as either happens: long-lived signals (the daemon's) would
 * otherwise collect one listener per job.
 */
export async function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | undefined> {
  if (signal === undefined) return work;
  if (signal.aborted) return undefined;
  let onAbort = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Waits for `work`; rejects with the signal's reason as soon as it aborts (work runs on). */
export async function orAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  signal?.throwIfAborted();
  const result = await untilAborted(work, signal);
  signal?.throwIfAborted();
  return result as T;
}

/** Whether a sink's answer is a promise to wait for (sinks may answer nothing). */
export function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | undefined)?.then === "function";
}

/** A promise with its settle functions exposed (Promise.withResolvers needs Node 22). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs `fn` once `signal` aborts (at once if it has); returns the function that unhooks it. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => {};
  }
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

/**
 * A signal that aborts with `reason` `ms` after `after` does: a grace period. `dispose` stops
 * the clock (and unhooks it from `after`).
 */
export function abortAfter(
  after: AbortSignal,
  ms: number,
  reason: unknown,
): { signal: AbortSignal; dispose: () => void } {
  const clock = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const unhook = onAbort(after, () => {
    timer = setTimeout(() => clock.abort(reason), ms);
    timer.unref?.();
  });
  return {
    signal: clock.signal,
    dispose: () => {
      unhook();
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
