import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { untilAborted } from "../../src/daemon/abort.js";

describe("untilAborted", () => {
  it("returns the work's value and leaves no listener on the signal", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 50; i++) {
      await expect(untilAborted(Promise.resolve(i), controller.signal)).resolves.toBe(i);
    }
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("gives up with undefined when the signal aborts first, and cleans up too", async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const waiting = untilAborted(never, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(1);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("does not wait at all on an already aborted signal", async () => {
    await expect(untilAborted(new Promise(() => {}), AbortSignal.abort())).resolves.toBeUndefined();
  });

  it("passes the work's rejection through", async () => {
    await expect(
      untilAborted(Promise.reject(new Error("boom")), new AbortController().signal),
    ).rejects.toThrow("boom");
  });
});
