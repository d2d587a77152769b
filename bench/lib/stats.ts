// Statistics and timing shared by every benchmark: medians, percentiles and rounding, so each
// figure is computed the same way from what was observed.
import { performance } from "node:perf_hooks";

function sortedCopy(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError("no observations");
  return [...values].sort((a, b) => a - b);
}

/** The middle value (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = sortedCopy(values);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Nearest-rank percentile: the smallest observation with at least p % of all observations at or
 * below it. Conservative on purpose: the p99 of 50 samples is the worst of them.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in (0, 100]`);
  const sorted = sortedCopy(values);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

/** Rounds to `digits` decimals (figures are quoted, not computed with further). */
export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Milliseconds `fn` took, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Uniform random integer in [min, max). */
export function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
