// What a running job leaves on disk so that a daemon that dies mid-job (kill -9, OOM kill) can
// be cleaned up after: one small JSON file per job in `<cache dir>/jobs/`, naming the job, its
// work dir and the process groups its provisioner started. Only one daemon runs per cache dir,
// so the next one to start there finds the files of its dead predecessor (see leftovers.ts).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { errorMessage } from "./errors.js";
import { SerialQueue } from "./serial.js";

const JobRecordSchema = z.object({
  jobId: z.string().min(1),
  /** AcquiredJob.type's case: a failure may carry state only for a workspace build. */
  type: z.enum(["workspaceBuild", "templateImport", "templateDryRun", "unknown"]),
  provisioner: z.string(),
  /** The daemon process that ran the job. */
  pid: z.int().positive(),
  workDir: z.string().min(1).optional(),
  processGroups: z.array(z.int().positive()),
});
export type JobRecord = z.infer<typeof JobRecordSchema>;

/** Folder of the cache dir where state that could not be handed over is kept, one file a job. */
export const RESCUED_STATE_DIR = "rescued-state";

/** Where a running job reports what it leaves on disk. */
export interface JobJournal {
  workDir(directory: string): void;
  processStarted(processGroup: number): void;
  /**
   * Keeps Terraform state that coderd did not take (it refused or never answered the terminal
   * message), so the infrastructure it records is not forgotten; resolves with the file.
   */
  rescueState(state: Uint8Array): Promise<string>;
}

/** A job's record while the job runs; `end()` removes it. */
export interface OpenJobRecord extends JobJournal {
  end(): Promise<void>;
}

/** Job ids become file names: anything but [A-Za-z0-9_.-] is replaced. */
function fileName(jobId: string): string {
  return `${jobId.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 100)}.json`;
}

export class JobRecords {
  readonly directory: string;
  private readonly rescueDirectory: string;
  private readonly logger: Logger;

  constructor(cacheDir: string, logger: Logger) {
    this.directory = join(cacheDir, "jobs");
    this.rescueDirectory = join(cacheDir, RESCUED_STATE_DIR);
    this.logger = logger;
  }

  /** Writes a job's record now and on every change; write failures are logged, not thrown. */
  begin(record: Omit<JobRecord, "processGroups" | "pid">): OpenJobRecord {
    const file = join(this.directory, fileName(record.jobId));
    const current: JobRecord = { ...record, pid: process.pid, processGroups: [] };
    const writes = new SerialQueue();
    const save = () =>
      void writes
        .run(async () => {
          await mkdir(this.directory, { recursive: true, mode: 0o700 });
          // Written aside and renamed, so a daemon killed mid-write leaves the old record whole.
          await writeFile(`${file}.tmp`, JSON.stringify(current), { mode: 0o600 });
          await rename(`${file}.tmp`, file);
        })
        .catch((error: unknown) =>
          this.logger.warn({ err: errorMessage(error), file }, "writing the job record failed"),
        );
    save();
    return {
      workDir: (directory) => {
        current.workDir = directory;
        save();
      },
      processStarted: (processGroup) => {
        current.processGroups.push(processGroup);
        save();
      },
      rescueState: async (state) => {
        await mkdir(this.rescueDirectory, { recursive: true, mode: 0o700 });
        const rescued = join(
          this.rescueDirectory,
          fileName(record.jobId).replace(/\.json$/, ".tfstate"),
        );
        await writeFile(rescued, state, { mode: 0o600 });
        return rescued;
      },
      end: () =>
        writes.run(async () => {
          await rm(file, { force: true });
          await rm(`${file}.tmp`, { force: true });
        }),
    };
  }

  /** The records left by a dead predecessor. Unreadable ones are logged and removed. */
  async list(): Promise<{ record: JobRecord; remove: () => Promise<void> }[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch {
      return [];
    }
    const found: { record: JobRecord; remove: () => Promise<void> }[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
      const file = join(this.directory, name);
      const remove = () => rm(file, { force: true });
      const parsed = await readFile(file, "utf8")
        .then((text) => JobRecordSchema.safeParse(JSON.parse(text)))
        .catch((error: unknown) => ({ success: false as const, error }));
      if (!parsed.success) {
        this.logger.warn({ file, err: errorMessage(parsed.error) }, "ignoring a bad job record");
        await remove();
        continue;
      }
      found.push({ record: parsed.data, remove });
    }
    return found;
  }
}
