// Jittered exponential backoff, and retrying of calls whose failure was the transport's.
import { abortReason, delay } from "./abort.js";
import { TransportError } from "./errors.js";

export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
}

/** The reference's backoff for job RPCs: 25 ms doubling to 5 s. */
export const JOB_RPC_BACKOFF: BackoffPolicy = { initialMs: 25, maxMs: 5_000 };
/** The reference's backoff for (re)connecting: 50 ms doubling to 10 s. */
export const CONNECT_BACKOFF: BackoffPolicy = { initialMs: 50, maxMs: 10_000 };

/**
 * Longest a running job may wait to try coderd again: a hundredth of the heartbeat deadline
 * (250 ms for 25 s). The wait between coderd answering again and the job reaching it eats into
 * the deadline; a backoff grown to seconds turned a 20 s coderd restart into a lost job.
 */
export function jobRetryCapMs(heartbeatDeadlineMs: number): number {
  return Math.max(10, Math.floor(heartbeatDeadlineMs / 100));
}

/** Retries of a running job's calls: the reference's policy, capped by `jobRetryCapMs`. */
export function jobRpcBackoff(heartbeatDeadlineMs: number): BackoffPolicy {
  const maxMs = Math.min(JOB_RPC_BACKOFF.maxMs, jobRetryCapMs(heartbeatDeadlineMs));
  return { initialMs: Math.min(JOB_RPC_BACKOFF.initialMs, maxMs), maxMs };
}

/**
 * Delay before retry number `attempt` (0-based): exponential, capped, with jitter in
 * [half, full] of the step (nice-grpc's formula) so many daemons that lost coderd together do
 * not all come back in the same millisecond.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round((step * (1 + random())) / 2);
}

export interface RetryOptions {
  signal: AbortSignal;
  policy?: BackoffPolicy;
  /** Called before each wait; for logging. */
  onRetry?: (error: TransportError, attempt: number, delayMs: number) => void;
}

/**
 * Calls `fn` until it succeeds, fails with anything but a TransportError, or `signal` aborts
 * (then rejects with the signal's reason). The backoff wait itself is abortable.
 */
export async function retryTransport<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const policy = options.policy ?? JOB_RPC_BACKOFF;
  for (let attempt = 0; ; attempt++) {
    if (options.signal.aborted) throw abortReason(options.signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal.aborted) throw abortReason(options.signal);
      if (!(error instanceof TransportError)) throw error;
      const wait = backoffDelay(attempt, policy);
      options.onRetry?.(error, attempt, wait);
      await delay(wait, options.signal);
    }
  }
}
