// Two provisioner calls side by side keep the job log of a sequential run.
import pino from "pino";
import { describe, expect, it } from "vitest";
import { deferred } from "../../src/daemon/abort.js";
import type { JobContext } from "../../src/daemon/jobs/job-context.js";
import { sideBySide } from "../../src/daemon/jobs/side-by-side.js";
import { LogLevel } from "../../src/provisioner/model.js";
import type { ProvisionSession } from "../../src/provisioner/provisioner.js";

/** A context whose log is a list of "stage: output" lines. */
function context(log: string[]): JobContext {
  const signal = new AbortController().signal;
  return {
    session: { directory: "/first" } as ProvisionSession,
    logger: pino({ level: "silent" }),
    marker: (stage) => void log.push(`${stage}: (marker)`),
    line: (stage, _level, output) => void log.push(`${stage}: ${output}`),
    control: (stage) => ({
      signal,
      killSignal: signal,
      onLog: (line) => void log.push(`${stage}: ${line.output}`),
    }),
  } as Partial<JobContext> as JobContext;
}

const side = { directory: "/second" } as ProvisionSession;
const info = (output: string) => ({ level: LogLevel.INFO, output });

describe("sideBySide", () => {
  it("runs both at once and holds the second's lines until the first ends", async () => {
    const log: string[] = [];
    const ctx = context(log);
    const firstMayEnd = deferred<void>();
    const secondStarted = deferred<void>();
    const secondEnded = deferred<void>();
    const running = sideBySide(
      ctx,
      side,
      async (c) => {
        c.marker("start");
        await c.control("start").onLog(info("start 1"));
        await secondEnded.promise; // the second call has finished while this one runs
        await c.control("start").onLog(info("start 2"));
        await firstMayEnd.promise;
        return c.session.directory;
      },
      async (c) => {
        c.marker("stop");
        await c.control("stop").onLog(info("stop 1"));
        secondStarted.resolve();
        c.line("stop", LogLevel.INFO, "stop 2");
        secondEnded.resolve();
        return c.session.directory;
      },
    );
    await secondStarted.promise;
    await secondEnded.promise;
    // The second call is over, the first still runs: none of the second's lines are out yet.
    expect(log.filter((line) => line.startsWith("stop"))).toEqual([]);
    expect(log.slice(0, 2)).toEqual(["start: (marker)", "start: start 1"]);
    firstMayEnd.resolve();
    expect(await running).toEqual(["/first", "/second"]);
    expect(log).toEqual([
      "start: (marker)",
      "start: start 1",
      "start: start 2",
      "stop: (marker)",
      "stop: stop 1",
      "stop: stop 2",
    ]);
  });

  it("a failed first call cancels the second and drops its lines", async () => {
    const log: string[] = [];
    const secondWaiting = deferred<void>();
    let secondSignal: AbortSignal | undefined;
    const running = sideBySide(
      context(log),
      side,
      async (c) => {
        c.marker("start");
        await secondWaiting.promise;
        throw new Error("start plan failed");
      },
      async (c) => {
        const control = c.control("stop");
        secondSignal = control.signal;
        await control.onLog(info("stop 1"));
        secondWaiting.resolve();
        await new Promise((_, reject) =>
          control.signal.addEventListener("abort", () => reject(new Error("canceled"))),
        );
      },
    );
    await expect(running).rejects.toThrow("start plan failed");
    expect(secondSignal?.aborted).toBe(true);
    expect(log).toEqual(["start: (marker)"]);
  });

  it("the second call's failure comes after the first's lines", async () => {
    const log: string[] = [];
    const running = sideBySide(
      context(log),
      side,
      async (c) => {
        await c.control("start").onLog(info("start 1"));
        return 1;
      },
      async (c) => {
        await c.control("stop").onLog(info("stop 1"));
        throw new Error("stop plan failed");
      },
    );
    await expect(running).rejects.toThrow("stop plan failed");
    expect(log).toEqual(["start: start 1", "stop: stop 1"]);
  });
});
