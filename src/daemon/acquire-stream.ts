// Push acquire: one long-lived acquire call (StreamAcquireJobs in our gRPC protocol). The daemon
// offers credits for the jobs it can take (ready, topped up whenever a slot frees) and coderd
// pushes each job the moment it is queued, so an idle daemon starts a job within milliseconds
// instead of a poll interval. Draining withdraws (the reference's CancelAcquire) and half-closes;
// coderd ends the call.
import { performance } from "node:perf_hooks";
import type { AcquiredJob } from "../provisioner/model.js";
import { delay } from "./abort.js";
import type { AcquireDeps } from "./acquire-types.js";
import type { AcquireStream } from "./coordinator.js";
import { AuthenticationRefusedError, errorMessage, UnimplementedError } from "./errors.js";
import { backoffDelay } from "./retry.js";

/** How long coderd gets to end the stream after a Withdraw before we cancel it ourselves. */
const WITHDRAW_GRACE_MS = 5_000;

/**
 * Keeps a stream open (reconnecting with jittered backoff) until `signal` aborts. Rejects with
 * AuthenticationRefusedError (fatal) or UnimplementedError (coderd lacks the stream: poll).
 */
export async function streamJobs(
  deps: AcquireDeps,
  stream: AcquireStream,
  signal: AbortSignal,
): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    try {
      await oneStream(deps, stream, signal, () => {
        failures = 0;
      });
      if (!signal.aborted) deps.logger.info("acquire stream ended by coderd; reconnecting");
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof AuthenticationRefusedError || error instanceof UnimplementedError)
        throw error;
      deps.logger.warn({ err: errorMessage(error) }, "acquire stream failed; reconnecting");
    }
    if (signal.aborted) return;
    await delay(backoffDelay(failures++, deps.backoff), signal).catch(() => {});
  }
}

function oneStream(
  deps: AcquireDeps,
  stream: AcquireStream,
  signal: AbortSignal,
  onOpen: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let waitingSince = performance.now();
    let withdrawn = false;
    let withdrawTimer: NodeJS.Timeout | undefined;
    // Ready offers are credits that add up, and `offered` counts the ones coderd may still
    // spend on this stream. A job already pushed but not yet received still holds its credit,
    // so a slot freeing meanwhile can never make coderd push more jobs than there are slots.
    let offered = 0;
    let introduced = false;
    const sendReady = () => {
      if (withdrawn) return;
      const extra = Math.max(0, deps.readySlots()) - offered;
      if (introduced && extra <= 0) return;
      const slots = Math.max(0, extra);
      offered += slots;
      call.ready(slots, introduced ? undefined : deps.identity);
      introduced = true;
    };
    const withdraw = () => {
      withdrawn = true;
      call.withdraw();
      withdrawTimer = setTimeout(() => call.cancel(), WITHDRAW_GRACE_MS);
      withdrawTimer.unref?.();
    };
    const cleanup = () => {
      deps.slotEvents.off("change", sendReady);
      signal.removeEventListener("abort", withdraw);
      if (withdrawTimer !== undefined) clearTimeout(withdrawTimer);
    };

    const call = stream.open({
      opened: () => {
        onOpen();
        stream.noteContact(true);
      },
      job: (job: AcquiredJob) => {
        onOpen();
        stream.noteContact(true);
        const now = performance.now();
        deps.observer.acquired({
          mode: "stream",
          seconds: (now - waitingSince) / 1000,
          gotJob: job.jobId !== "",
        });
        waitingSince = now;
        offered = Math.max(0, offered - 1);
        if (job.jobId !== "") deps.onJob(job);
        // A job that did not take a slot (a re-send of one we already run) gave its credit back.
        sendReady();
      },
      failed: (error: unknown) => {
        cleanup();
        if (withdrawn) resolve();
        else reject(stream.classify(error, undefined, "streamAcquireJobs"));
      },
      ended: () => {
        cleanup();
        resolve();
      },
    });

    deps.slotEvents.on("change", sendReady);
    if (signal.aborted) withdraw();
    else {
      signal.addEventListener("abort", withdraw, { once: true });
      sendReady();
    }
  });
}
