// Resident memory of a real daemon process (/proc/<pid>/status): idle after start, and the peak
// (VmHWM) reached by the time a job has ended. The log streaming group runs the 100,000-line job
// these figures are about, on the same process.
//
// A fresh Node process keeps the heap it grew while starting until V8's memory reducer runs,
// some seconds after it went quiet; an operator's idle daemon spends its life after that. So the
// idle figure is taken once RSS has settled, and the value right after connecting is kept too.
import { processMemory } from "./lib/proc-status.js";
import { median, round, sleep } from "./lib/stats.js";

export const MEMORY_FIGURES = ["rss_idle_mb", "rss_start_mb", "rss_peak_mb"] as const;

/** Long enough for V8's memory reducer (it ran about 8 s after connecting on the dev box). */
const IDLE_WINDOW_MS = 12_000;
/** The idle figure is the median of the samples in the window's last part. */
const SETTLED_MS = 2_000;
const SAMPLE_INTERVAL_MS = 250;

export interface IdleMemory {
  /** VmRSS right after the daemon connected. */
  startMb: number;
  /** Median VmRSS over the last SETTLED_MS of the idle window. */
  idleMb: number;
}

export async function idleMemory(pid: number): Promise<IdleMemory> {
  const samples: { at: number; rssMb: number }[] = [];
  const start = performance.now();
  for (;;) {
    const at = performance.now() - start;
    samples.push({ at, rssMb: (await processMemory(pid)).rssMb });
    if (at >= IDLE_WINDOW_MS) break;
    await sleep(SAMPLE_INTERVAL_MS);
  }
  const settled = samples.filter((s) => s.at >= IDLE_WINDOW_MS - SETTLED_MS).map((s) => s.rssMb);
  return {
    startMb: round((samples[0] as { rssMb: number }).rssMb, 1),
    idleMb: round(median(settled), 1),
  };
}

/** The most resident memory the process ever had (VmHWM). */
export async function peakRssMb(pid: number): Promise<number> {
  return round((await processMemory(pid)).hwmMb, 1);
}
