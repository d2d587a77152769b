// Resident memory of a process as the kernel reports it (/proc/<pid>/status): VmRSS now and
// VmHWM, the peak since the process started. Linux only; elsewhere the figures are null.
import { readFile } from "node:fs/promises";
import { FigureUnavailableError } from "./figures.js";

export interface ProcessMemory {
  rssMb: number;
  hwmMb: number;
}

const KIB_PER_MB = 1024;

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
  if (match === null) throw new FigureUnavailableError(`/proc status has no ${name} line`);
  return Number(match[1]) / KIB_PER_MB;
}

export async function processMemory(pid: number): Promise<ProcessMemory> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, "utf8");
  } catch (error) {
    throw new FigureUnavailableError(
      `cannot read /proc/${pid}/status (${(error as Error).message}); resident memory is measured on Linux only`,
    );
  }
  return { rssMb: field(status, "VmRSS"), hwmMb: field(status, "VmHWM") };
}
