// coderd v0.17.4 … v0.20.0 as the daemon's coordinator. Our own protocol's messages carry every
// field of the v0.17.4 layout under the same names (and a few more: log sequence numbers, error
// codes, git auth providers), so each message maps by name: fields coderd v0.17 does not have
// are dropped on the way out, and nothing is missing on the way in. v0.17 has no push
// acquisition, so the daemon polls AcquireJob (which never blocks) at its poll interval.
import type {
  CoordinatorClient,
  CoordinatorContext,
  CoordinatorFactory,
} from "../../daemon/coordinator.js";
import type * as ours from "../../provisioner/model.js";
import type { ConnectOptions } from "../connection.js";
import { v017ServeRequest } from "../handshake.js";
import { CoderdV017Client } from "../v017/client.js";
import * as v017 from "../v017/gen/provisionerd.js";
import { CoderdLink } from "./coderd-link.js";
import * as toDomain from "./to-domain.js";

export interface V017AdapterOptions {
  coderUrl: URL;
  organization: string;
  sessionToken: string;
  tags: Record<string, string>;
  connect?: Omit<ConnectOptions, "signal" | "credential"> | undefined;
}

/** Copies the fields `codec` knows from a message of the other layout, by name. */
function mapped<T>(codec: { fromPartial(object: never): T }, message: unknown): T {
  return codec.fromPartial(message as never);
}

export class CoderdV017Adapter implements CoordinatorClient {
  private readonly link: CoderdLink;

  constructor(options: V017AdapterOptions, context: CoordinatorContext) {
    this.link = new CoderdLink({
      request: () =>
        v017ServeRequest({
          coderUrl: options.coderUrl,
          organization: options.organization,
          sessionToken: options.sessionToken,
          tags: options.tags,
        }),
      connect: { ...options.connect, credential: "session-token" },
      context,
    });
  }

  acquireJob(_request: ours.AcquireJobRequest, signal: AbortSignal): Promise<ours.AcquiredJob> {
    return this.link.call("AcquireJob", signal, async (c) =>
      toDomain.acquiredJob(await new CoderdV017Client(c.drpc).acquireJob(signal)),
    );
  }

  updateJob(request: ours.UpdateJobRequest, signal: AbortSignal): Promise<ours.UpdateJobResponse> {
    return this.link.call("UpdateJob", signal, async (c) =>
      toDomain.updateJobResponse(
        await new CoderdV017Client(c.drpc).updateJob(
          mapped(v017.UpdateJobRequest, request),
          signal,
        ),
      ),
    );
  }

  commitQuota(
    request: ours.CommitQuotaRequest,
    signal: AbortSignal,
  ): Promise<ours.CommitQuotaResponse> {
    return this.link.call("CommitQuota", signal, async (c) =>
      toDomain.commitQuotaResponse(
        await new CoderdV017Client(c.drpc).commitQuota(
          mapped(v017.CommitQuotaRequest, request),
          signal,
        ),
      ),
    );
  }

  failJob(request: ours.FailedJob, signal: AbortSignal): Promise<void> {
    return this.link.call("FailJob", signal, (c) =>
      new CoderdV017Client(c.drpc).failJob(mapped(v017.FailedJob, request), signal),
    );
  }

  completeJob(request: ours.CompletedJob, signal: AbortSignal): Promise<void> {
    return this.link.call("CompleteJob", signal, (c) =>
      new CoderdV017Client(c.drpc).completeJob(mapped(v017.CompletedJob, request), signal),
    );
  }

  close(): void {
    this.link.close();
  }
}

export function coderdV017(options: V017AdapterOptions): CoordinatorFactory {
  return (context) => new CoderdV017Adapter(options, context);
}
