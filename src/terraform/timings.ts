// Timings of one provisioner call, for the build timeline coderd shows: each stage the call ran
// (init, plan, graph, apply) as a whole, and each resource action terraform's `-json` output
// reports the start and end of (create, refresh, provisioner run...). Only finished spans are
// reported; a span whose end never came (a killed terraform) is left out.
import { z } from "zod";
import { type Timing, TimingState } from "../provisioner/model.js";

export type TimingStage = "init" | "plan" | "graph" | "apply";

/** The `-json` message types that start or end a resource span, and the span's kind. */
const resourceEvents: Record<string, { kind: string; end?: TimingState }> = {
  apply_start: { kind: "apply" },
  apply_complete: { kind: "apply", end: TimingState.COMPLETED },
  apply_errored: { kind: "apply", end: TimingState.FAILED },
  provision_start: { kind: "provision" },
  provision_complete: { kind: "provision", end: TimingState.COMPLETED },
  provision_errored: { kind: "provision", end: TimingState.FAILED },
  refresh_start: { kind: "state refresh" },
  refresh_complete: { kind: "state refresh", end: TimingState.COMPLETED },
};

const hookLine = z.object({
  "@timestamp": z.string(),
  type: z.string(),
  hook: z.object({
    resource: z.object({ addr: z.string(), implied_provider: z.string().optional() }),
    action: z.string().optional(),
  }),
});

/** Unix microseconds now. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * `2026-11-27T15:47:20.912216Z` (or with an offset) -> Unix microseconds; undefined when it does
 * not read as such. Date keeps milliseconds only, so the fraction is read on its own.
 */
export function timestampMicros(text: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (match === null) return undefined;
  const seconds = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = Number((match[2] ?? "").padEnd(6, "0").slice(0, 6));
  return seconds * 1000 + fraction;
}

export class TimingRecorder {
  private readonly done: Timing[] = [];
  /** Start times of open resource spans, by kind, action, address and provider. */
  private readonly open = new Map<string, number>();

  /** Times `fn` as a stage, named as Coder's own provisioner names it. */
  stage<T>(stage: TimingStage, fn: () => Promise<T>): Promise<T> {
    const resource = `coder_stage_${stage}`;
    return this.span({ action: "terraform", source: "coder", resource, stage }, fn);
  }

  /** Times building the dependency graph and the resources from a plan or a state. */
  graph<T>(fn: () => Promise<T>): Promise<T> {
    const action = "building terraform dependency graph";
    const span = { action, source: "terraform", resource: "state file", stage: "graph" };
    return this.stage("graph", () => this.span(span, fn));
  }

  /** Times `fn`; FAILED when it throws. */
  private async span<T>(span: Omit<Timing, "startUs" | "endUs" | "state">, fn: () => Promise<T>) {
    const startUs = nowMicros();
    let state: TimingState = TimingState.FAILED;
    try {
      const result = await fn();
      state = TimingState.COMPLETED;
      return result;
    } finally {
      this.done.push({ ...span, startUs, endUs: nowMicros(), state });
    }
  }

  /** Reads one stdout line of `terraform plan/apply -json` run in `stage`. */
  line(stage: TimingStage, line: string): void {
    if (!line.includes('"hook"')) return;
    let parsed: z.infer<typeof hookLine>;
    try {
      const result = hookLine.safeParse(JSON.parse(line));
      if (!result.success) return;
      parsed = result.data;
    } catch {
      return;
    }
    const event = resourceEvents[parsed.type];
    const at = timestampMicros(parsed["@timestamp"]);
    if (event === undefined || at === undefined) return;
    const { resource, action } = parsed.hook;
    const source = resource.implied_provider ?? "";
    // Refreshes and provisioner runs name no action: their kind is the action.
    const spanAction = action ?? event.kind;
    const key = JSON.stringify([event.kind, spanAction, resource.addr, source]);
    if (event.end === undefined) {
      this.open.set(key, at);
      return;
    }
    const start = this.open.get(key);
    if (start === undefined) return;
    this.open.delete(key);
    this.done.push({
      startUs: Math.min(start, at),
      endUs: at,
      action: spanAction,
      source,
      resource: resource.addr,
      stage,
      state: event.end,
    });
  }

  /** The finished spans so far, in the order they ended. */
  timings(): Timing[] {
    return [...this.done];
  }
}
