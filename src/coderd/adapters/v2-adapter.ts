// coderd v2 (provisioner daemon API 1.x, 1.18 layout) as the daemon's coordinator. Messages are
// translated by v2-mapping. Acquisition: each acquireJob opens one AcquireJobWithCancel stream,
// which coderd holds until it has locked a job for us, so the daemon's acquire loop does not
// poll. When the daemon stops acquiring, the stream is ended with CancelAcquire (never just
// dropped: coderd fails a job it had locked but not yet sent on a dropped stream), and a job
// coderd sends anyway is returned, because it is locked to this daemon and must run here.
import type {
  CoordinatorClient,
  CoordinatorContext,
  CoordinatorFactory,
} from "../../daemon/coordinator.js";
import * as ours from "../../provisioner/model.js";
import type { ConnectOptions } from "../connection.js";
import { type CoderdCredential, v2ServeRequest } from "../handshake.js";
import { isUnknownRpc } from "../transport/errors.js";
import { CoderdV2Client, FileTransferError } from "../v2/client.js";
import { DataUploadType } from "../v2/gen/provisioner.js";
import type { AcquiredJob } from "../v2/gen/provisionerd.js";
import { CoderdLink } from "./coderd-link.js";
import {
  acquiredJobFromV2,
  commitQuotaRequestToV2,
  commitQuotaResponseFromV2,
  completedJobToV2,
  failedJobToV2,
  moduleFilesToUpload,
  updateJobRequestToV2,
  updateJobResponseFromV2,
  withUploadedModuleFiles,
} from "./v2-mapping.js";

export interface V2AdapterOptions {
  coderUrl: URL;
  /** Organization UUID or name; undefined = coderd's default organization. */
  organization?: string | undefined;
  credential: CoderdCredential;
  tags: Record<string, string>;
  /** The daemon's name: coderd ties running jobs to it, so it must survive reconnects. */
  name: string;
  buildVersion: string;
  connect?: Omit<ConnectOptions, "signal" | "credential"> | undefined;
}

export class CoderdV2Adapter implements CoordinatorClient {
  private readonly link: CoderdLink;
  private readonly context: CoordinatorContext;
  /** coderd predates AcquireJobWithCancel: use the deprecated unary AcquireJob. */
  private unaryAcquire = false;
  /** Both AcquireJobWithCancel and the deprecated AcquireJob wait for a job in coderd v2. */
  readonly acquireBlocks = true;
  /** Aborted by close(): ends downloads, which do not follow an acquire's signal. */
  private readonly closing = new AbortController();

  constructor(options: V2AdapterOptions, context: CoordinatorContext) {
    this.context = context;
    this.link = new CoderdLink({
      request: () =>
        v2ServeRequest({
          coderUrl: options.coderUrl,
          organization: options.organization,
          credential: options.credential,
          tags: options.tags,
          name: options.name,
          buildVersion: options.buildVersion,
        }),
      connect: { ...options.connect, credential: options.credential.kind },
      context,
    });
  }

  async acquireJob(
    _request: ours.AcquireJobRequest,
    signal: AbortSignal,
  ): Promise<ours.AcquiredJob> {
    return this.withModuleFiles(await this.acquireOne(signal));
  }

  private acquireOne(signal: AbortSignal): Promise<ours.AcquiredJob> {
    const method = this.unaryAcquire ? "AcquireJob" : "AcquireJobWithCancel";
    return this.link.call(method, signal, async (c) => {
      const client = new CoderdV2Client(c.drpc);
      if (!this.unaryAcquire) {
        try {
          return acquiredJobFromV2(await acquireWithCancel(client, signal));
        } catch (error) {
          if (!isUnknownRpc(error)) throw error;
          this.unaryAcquire = true;
          this.context.logger.warn(
            "coderd does not serve AcquireJobWithCancel; using the deprecated AcquireJob",
          );
        }
      }
      return acquiredJobFromV2(await client.acquireJob(signal));
    });
  }

  updateJob(request: ours.UpdateJobRequest, signal: AbortSignal): Promise<ours.UpdateJobResponse> {
    return this.link.call("UpdateJob", signal, async (c) =>
      updateJobResponseFromV2(
        await new CoderdV2Client(c.drpc).updateJob(updateJobRequestToV2(request), signal),
      ),
    );
  }

  commitQuota(
    request: ours.CommitQuotaRequest,
    signal: AbortSignal,
  ): Promise<ours.CommitQuotaResponse> {
    return this.link.call("CommitQuota", signal, async (c) =>
      commitQuotaResponseFromV2(
        await new CoderdV2Client(c.drpc).commitQuota(commitQuotaRequestToV2(request), signal),
      ),
    );
  }

  failJob(request: ours.FailedJob, signal: AbortSignal): Promise<void> {
    return this.link.call("FailJob", signal, (c) =>
      new CoderdV2Client(c.drpc).failJob(failedJobToV2(request), signal),
    );
  }

  completeJob(request: ours.CompletedJob, signal: AbortSignal): Promise<void> {
    return this.link.call("CompleteJob", signal, async (c) => {
      const client = new CoderdV2Client(c.drpc);
      let completed = completedJobToV2(request);
      const moduleFiles = moduleFilesToUpload(completed);
      if (moduleFiles !== undefined) {
        completed = withUploadedModuleFiles(
          completed,
          await client.uploadModuleFiles(moduleFiles, signal),
        );
      }
      await client.completeJob(completed, signal);
    });
  }

  close(): void {
    this.closing.abort(new Error("the coderd adapter is closed"));
    this.link.close();
  }

  /**
   * Fetches the template version's module archive that a build or dry run names, so that
   * `terraform init` needs no network for modules. The job is already locked to this daemon, so
   * the download does not stop when acquiring does (only when the adapter closes). A download
   * that fails fails the job at coderd, and the daemon gets no job: it could not run it as the
   * template was imported.
   */
  private async withModuleFiles(job: ours.AcquiredJob): Promise<ours.AcquiredJob> {
    const type = job.type;
    if (type?.$case !== "workspaceBuild" && type?.$case !== "templateDryRun") return job;
    const metadata = type.value.metadata;
    const fileId = metadata?.templateVersionModulesFile ?? "";
    if (metadata === undefined || fileId === "") return job;
    const signal = this.closing.signal;
    try {
      const downloaded = await this.link.call("DownloadFile", signal, async (c) => {
        try {
          return await new CoderdV2Client(c.drpc).downloadFile(
            { fileId, uploadType: DataUploadType.UPLOAD_TYPE_MODULE_FILES },
            signal,
          );
        } catch (error) {
          // coderd answered, with a file that failed its checks or an error: not a link failure.
          if (error instanceof FileTransferError) return error;
          throw error;
        }
      });
      if (downloaded instanceof FileTransferError) throw downloaded;
      metadata.templateVersionModuleFiles = downloaded;
      return job;
    } catch (error) {
      if (signal.aborted) throw error;
      const message = moduleFilesDownloadError(fileId, error);
      this.context.logger.error({ jobId: job.jobId }, message);
      await this.failJob(
        ours.FailedJob.create({
          jobId: job.jobId,
          error: message,
          type:
            type.$case === "workspaceBuild"
              ? {
                  $case: "workspaceBuild",
                  value: ours.FailedJob_WorkspaceBuild.create({ state: type.value.state }),
                }
              : { $case: "templateDryRun", value: {} },
        }),
        signal,
      );
      return ours.AcquiredJob.create();
    }
  }
}

export function moduleFilesDownloadError(fileId: string, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `downloading the template version's module files (file ${fileId}) failed: ${reason}`;
}

/**
 * Waits on one AcquireJobWithCancel stream; `signal` sends CancelAcquire and the answer, a job or
 * an empty one, is still returned. The stream itself is not tied to `signal`: only the end of
 * the connection drops it.
 */
async function acquireWithCancel(
  client: CoderdV2Client,
  signal: AbortSignal,
): Promise<AcquiredJob> {
  const pending = await client.acquireJobWithCancel();
  const cancel = () => void pending.cancel();
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  try {
    return await pending.job;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

export function coderdV2(options: V2AdapterOptions): CoordinatorFactory {
  return (context) => new CoderdV2Adapter(options, context);
}
