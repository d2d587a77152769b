// Jobs a dead predecessor on the same cache dir left behind (see job-records.ts). On start,
// before taking any job, the daemon stops the processes they left running (they would hold the
// slot's plugin cache and keep changing infrastructure nobody tracks) and reads the state they
// left; then, beside its normal work, it fails each such job with that state (the daemon id is
// the same, so coderd still counts the job as its own) and removes the work dir. A job whose
// failure is not delivered before this daemon stops keeps its record and work dir for the next.
import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import type { FailedJob } from "../provisioner/model.js";
import type { Provisioner } from "../provisioner/provisioner.js";
import type { JobCoordinator } from "./coordinator.js";
import { errorMessage } from "./errors.js";
import type { JobRecord, JobRecords } from "./job-records.js";
import { stopLeftoverGroups } from "./process-groups.js";
import { retryTransport } from "./retry.js";

/** What coderd is told about a job whose daemon died while running it. */
export const DAEMON_DIED =
  "the provisioner daemon running this job stopped unexpectedly; failed when it started again";

/** Time Terraform gets after SIGINT to write its state and exit before it is killed. */
export const LEFTOVER_GRACE_MS = 10_000;

export interface Leftover {
  record: JobRecord;
  state: Uint8Array | undefined;
  removeRecord(): Promise<void>;
}

/** Stops what each leftover job still runs and reads the state it left. */
export async function collectLeftovers(
  records: JobRecords,
  provisioners: Map<string, Provisioner>,
  logger: Logger,
  graceMs = LEFTOVER_GRACE_MS,
): Promise<Leftover[]> {
  const leftovers: Leftover[] = [];
  for (const { record, remove } of await records.list()) {
    const stopped = await stopLeftoverGroups(record.workDir, record.processGroups, graceMs);
    const provisioner = provisioners.get(record.provisioner);
    const state =
      record.type === "workspaceBuild" && record.workDir !== undefined
        ? await provisioner?.stateLeftIn?.(record.workDir)
        : undefined;
    logger.warn(
      {
        jobId: record.jobId,
        pid: record.pid,
        workDir: record.workDir,
        stoppedProcessGroups: stopped,
        stateBytes: state?.byteLength ?? 0,
      },
      "found a job that a stopped daemon left behind; failing it",
    );
    leftovers.push({ record, state, removeRecord: remove });
  }
  return leftovers;
}

/**
 * Fails a leftover job with its state, retried until coderd answers or `signal` aborts, then
 * removes its work dir and record. A refusal (coderd ended the job already) is logged; a work dir
 * holding state is then kept, and named, so that the state is not lost.
 */
export async function reportLeftover(
  leftover: Leftover,
  coordinator: JobCoordinator,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const { record, state } = leftover;
  const request: FailedJob = { jobId: record.jobId, error: DAEMON_DIED, errorCode: "INTERNAL" };
  if (state !== undefined) {
    request.type = { $case: "workspaceBuild", value: { state: Buffer.from(state) } };
  }
  try {
    await retryTransport(() => coordinator.failJob(request, signal), { signal });
  } catch (error) {
    if (signal.aborted) return;
    const keep = state !== undefined && record.workDir !== undefined;
    logger.error(
      { jobId: record.jobId, err: errorMessage(error), ...(keep ? { kept: record.workDir } : {}) },
      keep
        ? "coderd refused the failure of a job a stopped daemon left; its work dir with the state is kept"
        : "coderd refused the failure of a job a stopped daemon left",
    );
    if (!keep && record.workDir !== undefined) await removeDir(record.workDir, logger);
    await leftover.removeRecord();
    return;
  }
  if (record.workDir !== undefined) await removeDir(record.workDir, logger);
  await leftover.removeRecord();
}

async function removeDir(directory: string, logger: Logger): Promise<void> {
  try {
    await rm(directory, { recursive: true, force: true, maxRetries: 4, retryDelay: 250 });
  } catch (error) {
    logger.warn({ err: errorMessage(error), directory }, "removing a leftover work dir failed");
  }
}
