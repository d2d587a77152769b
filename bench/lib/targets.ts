// The benchmark targets: what we aim for, printed next to each figure (never asserted).

export interface Target {
  /** As printed, e.g. "≤ 5". */
  text: string;
  met(value: number): boolean;
}

const atMost = (limit: number): Target => ({ text: `≤ ${limit}`, met: (v) => v <= limit });
const atLeast = (limit: number): Target => ({ text: `≥ ${limit}`, met: (v) => v >= limit });
const exactly = (wanted: number): Target => ({ text: `= ${wanted}`, met: (v) => v === wanted });

export const TARGETS: Readonly<Record<string, Target>> = {
  pickup_stream_p50_ms: atMost(5),
  pickup_stream_p99_ms: atMost(25),
  pickup_speedup: atLeast(100),
  job_overhead_ratio: atMost(0.7),
  log_lines_per_s: atLeast(50_000),
  log_max_delay_ms: atMost(150),
  log_lost: exactly(0),
  log_duplicated: exactly(0),
  convert_10k_ms: atMost(300),
  parse_500_vars_ms: atMost(50),
  rss_idle_mb: atMost(80),
  rss_peak_mb: atMost(200),
  concurrency_speedup: atLeast(1.6),
};

/** "yes" / "no" / "—" (no target) / "n/a" (not measured). */
export function verdict(name: string, value: number | null): string {
  const target = TARGETS[name];
  if (target === undefined) return "—";
  if (value === null) return "n/a";
  return target.met(value) ? "yes" : "no";
}
