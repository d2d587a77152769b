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
import type * as ours from "../../provisioner/model.js";
import type { ConnectOptions } from "../connection.js";
import { type CoderdCredential, v2ServeRequest } from "../handshake.js";
import { isUnknownRpc } from "../transport/errors.js";
import { CoderdV2Client } from "../v2/client.js";
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

  acquireJob(_request: ours.AcquireJobRequest, signal: AbortSignal): Promise<ours.AcquiredJob> {
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
    this.link.close();
  }
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
