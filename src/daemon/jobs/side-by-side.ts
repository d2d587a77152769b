// Two provisioner calls of one job at the same time, each in its own session, with the job log
// as if they had run one after the other: the second call's lines (markers included) are held
// back until the first call ends. When the first fails, the second is canceled and its lines
// dropped, so the job ends exactly as a sequential run would have.
import type { CallControl, ProvisionSession } from "../../provisioner/provisioner.js";
import type { JobContext } from "./job-context.js";

/**
 * Runs `first` on `ctx` and `second` on `side` (a fork of ctx.session) together. Resolves with
 * both results; rejects with the first call's error, or, after it succeeded, the second's.
 */
export async function sideBySide<A, B>(
  ctx: JobContext,
  side: ProvisionSession,
  first: (ctx: JobContext) => Promise<A>,
  second: (ctx: JobContext) => Promise<B>,
): Promise<[A, B]> {
  const held: Array<() => void> = [];
  let holding = true;
  const hold = (emit: () => void) => {
    if (holding) held.push(emit);
    else emit();
  };
  const abandon = new AbortController();
  const secondCtx: JobContext = {
    ...ctx,
    session: side,
    marker: (stage, level) => hold(() => ctx.marker(stage, level)),
    line: (stage, level, output) => hold(() => ctx.line(stage, level, output)),
    control: (stage): CallControl => {
      const control = ctx.control(stage);
      return {
        ...control,
        signal: AbortSignal.any([control.signal, abandon.signal]),
        onLog: (log) => hold(() => void control.onLog(log)),
      };
    },
  };
  const secondRun = second(secondCtx);
  // Its failure is reported after the first call's outcome, never as an unhandled rejection.
  secondRun.catch(() => {});
  let a: A;
  try {
    a = await first(ctx);
  } catch (error) {
    abandon.abort(error);
    held.length = 0;
    await secondRun.catch(() => {});
    throw error;
  }
  holding = false;
  for (const emit of held.splice(0)) emit();
  return [a, await secondRun];
}
