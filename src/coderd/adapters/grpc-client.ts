// Our own gRPC protocol as the daemon's coordinator: PSK and daemon id on every call, an
// AbortSignal on every call (nice-grpc style), a deadline per attempt, jobs pushed on a stream,
// and errors sorted into the daemon's types so callers decide "retry", "give up on this job" or
// "stop the daemon" without reading text. Messages leave as they are (the domain model is a
// subset of the generated types) and come in through to-domain, which checks enum values.
import { type Metadata, type ServiceError, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { abortReason } from "../../daemon/abort.js";
import type {
  AcquireStream,
  AcquireStreamCall,
  AcquireStreamEvents,
  CoordinatorClient,
  CoordinatorFactory,
} from "../../daemon/coordinator.js";
import {
  AuthenticationRefusedError,
  CoordinatorRefusedError,
  errorMessage,
  TransportError,
  UnimplementedError,
} from "../../daemon/errors.js";
import { channelCredentials, tlsProblem } from "../../daemon/tls.js";
import type * as grpc from "../../proto/provisionerd.js";
import { ProvisionerDaemonClient } from "../../proto/provisionerd.js";
import {
  AcquiredJob,
  type AcquireJobRequest,
  type CommitQuotaRequest,
  type CommitQuotaResponse,
  type CompletedJob,
  type FailedJob,
  UnrecognizedValueError,
  type UpdateJobRequest,
  type UpdateJobResponse,
} from "../../provisioner/model.js";
import { buildCallMetadata } from "./grpc-call-metadata.js";
import * as toDomain from "./to-domain.js";

export interface CoderdClientOptions {
  coderUrl: string;
  psk: string;
  daemonId: string;
  tls?:
    | { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined }
    | undefined;
  rpcTimeoutMs: number;
  /** Longest wait between two connection attempts while coderd is unreachable. */
  reconnectMaxMs?: number;
  logger: Logger;
  /** Every call outcome: true = coderd answered, false = transport failure. */
  onContact?: (answered: boolean) => void;
  /** coderd refused our credentials. */
  onAuthRefused?: (error: AuthenticationRefusedError) => void;
}

/** Largest message either side may send; templates travel inside AcquiredJob. */
const MAX_MESSAGE_BYTES = 32 << 20;

export function grpcTarget(coderUrl: string): { target: string; secure: boolean } {
  const url = new URL(coderUrl);
  const secure = url.protocol === "https:" || url.protocol === "grpcs:";
  const port = url.port || (secure ? "443" : "80");
  return { target: `${url.hostname}:${port}`, secure };
}

/** Codes that mean "the call may not have reached coderd, or its answer was lost". */
function isTransportFailure(error: ServiceError): boolean {
  switch (error.code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return true;
    case status.INTERNAL:
    case status.UNKNOWN:
      // grpc-js reports a connection torn down mid-call this way.
      return /RST_STREAM|stream removed|Connection dropped|ECONNRESET|socket hang up|GOAWAY/i.test(
        error.details ?? "",
      );
    default:
      return false;
  }
}

type UnaryMethod = "acquireJob" | "updateJob" | "commitQuota" | "failJob" | "completeJob";

export class CoderdClient implements CoordinatorClient, AcquireStream {
  /** Our gRPC protocol pushes jobs on a stream. */
  readonly acquireStream: AcquireStream = this;

  private readonly client: ProvisionerDaemonClient;
  private readonly options: CoderdClientOptions;
  private readonly metadata: Metadata;
  private readonly jobMetadata: Metadata;

  constructor(options: CoderdClientOptions) {
    this.options = options;
    const { target, secure } = grpcTarget(options.coderUrl);
    const reconnectMaxMs = options.reconnectMaxMs ?? 10_000;
    this.client = new ProvisionerDaemonClient(target, channelCredentials(secure, options.tls), {
      // grpc-js's own reconnect backoff starts at 1 s; a restarted coderd should be found sooner.
      "grpc.initial_reconnect_backoff_ms": Math.min(100, reconnectMaxMs),
      "grpc.max_reconnect_backoff_ms": reconnectMaxMs,
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
      "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    });
    this.metadata = buildCallMetadata({ psk: options.psk, daemonId: options.daemonId });
    this.jobMetadata = this.metadata.clone();
    // A running job's call made while coderd is away waits for the connection (up to its
    // deadline) and goes out the moment coderd answers again, instead of failing at once and
    // waiting out a retry backoff after coderd is back.
    this.jobMetadata.setOptions({ waitForReady: true });
  }

  async acquireJob(request: AcquireJobRequest, signal: AbortSignal): Promise<AcquiredJob> {
    const job = await this.unary("acquireJob", request, signal, {
      timeoutMs: request.waitMs + this.options.rpcTimeoutMs,
      metadata: this.metadata,
    });
    return this.readJob(job);
  }

  async updateJob(request: UpdateJobRequest, signal: AbortSignal): Promise<UpdateJobResponse> {
    const response = await this.unary("updateJob", request, signal);
    try {
      return toDomain.updateJobResponse(response);
    } catch (error) {
      throw unreadable(error, "updateJob");
    }
  }

  async commitQuota(
    request: CommitQuotaRequest,
    signal: AbortSignal,
  ): Promise<CommitQuotaResponse> {
    return toDomain.commitQuotaResponse(await this.unary("commitQuota", request, signal));
  }

  async failJob(request: FailedJob, signal: AbortSignal): Promise<void> {
    await this.unary("failJob", request, signal);
  }

  async completeJob(request: CompletedJob, signal: AbortSignal): Promise<void> {
    await this.unary("completeJob", request, signal);
  }

  /** Opens the push acquire stream; the caller owns the call (and must withdraw or cancel it). */
  open(events: AcquireStreamEvents): AcquireStreamCall {
    const call = this.client.streamAcquireJobs(this.metadata.clone());
    const write = (request: grpc.AcquireStreamRequest) => {
      if (!call.writable) return;
      try {
        call.write(request);
      } catch (error) {
        this.options.logger.debug({ err: errorMessage(error) }, "write to acquire stream failed");
      }
    };
    call.on("metadata", () => events.opened());
    call.on("data", (job: grpc.AcquiredJob) => events.job(this.readJob(job)));
    call.on("error", (error: unknown) => events.failed(error));
    // OK status: coderd ended the stream cleanly.
    call.on("status", () => events.ended());
    return {
      ready: (slots, daemon) => write({ type: { $case: "ready", value: { daemon, slots } } }),
      withdraw: () => {
        write({ type: { $case: "withdraw", value: {} } });
        call.end();
      },
      cancel: () => call.cancel(),
    };
  }

  /**
   * A job coderd handed us, in the domain model. One the daemon cannot read (a value it has no
   * member for) is failed with coderd, naming the field, and counts as no job: it is locked to
   * this daemon, so leaving it would stall it until coderd gives up on it.
   */
  private readJob(job: grpc.AcquiredJob): AcquiredJob {
    try {
      return toDomain.acquiredJob(job);
    } catch (error) {
      if (!(error instanceof UnrecognizedValueError)) throw error;
      const failed = { jobId: job.jobId, error: `unreadable job: ${error.message}` };
      this.options.logger.error(failed, "failing a job the daemon cannot read");
      void this.failJob(
        { ...failed, errorCode: "INTERNAL" },
        AbortSignal.timeout(this.options.rpcTimeoutMs),
      ).catch((failure: unknown) =>
        this.options.logger.error({ err: errorMessage(failure) }, "send FailJob"),
      );
      return AcquiredJob.create();
    }
  }

  /** Sorts a gRPC error into the daemon's error types (and reports contact). */
  classify(error: unknown, signal?: AbortSignal, method = "call"): Error {
    if (signal?.aborted) return abortReason(signal);
    const serviceError = error as ServiceError;
    if (typeof serviceError?.code !== "number")
      return error instanceof Error ? error : new Error(String(error));
    const details = withoutEmptyNote(serviceError.details || serviceError.message);
    if (serviceError.code === status.UNAUTHENTICATED) {
      const refused = new AuthenticationRefusedError(details, { cause: error });
      this.options.onContact?.(true);
      this.options.onAuthRefused?.(refused);
      return refused;
    }
    const tls = serviceError.code === status.UNAVAILABLE ? tlsProblem(details) : undefined;
    if (tls?.kind === "client-certificate-refused") {
      // Fatal like a refused PSK: the daemon reads its certificate once, so no retry can succeed.
      // coderd answered no call, so this is no contact.
      const refused = new AuthenticationRefusedError(tls.message, {
        cause: error,
        credential: "tls-client-certificate",
      });
      this.options.onContact?.(false);
      this.options.onAuthRefused?.(refused);
      return refused;
    }
    if (tls !== undefined) {
      // Retried: coderd's certificate or listener may be fixed on its side (an expired
      // certificate renewed) and the daemon should then connect without a restart.
      this.options.onContact?.(false);
      return new TransportError(`${method}: ${tls.message}`, {
        grpcCode: serviceError.code,
        cause: error,
      });
    }
    if (isTransportFailure(serviceError)) {
      this.options.onContact?.(false);
      return new TransportError(`${method}: ${details}`, {
        grpcCode: serviceError.code,
        cause: error,
      });
    }
    this.options.onContact?.(true);
    if (serviceError.code === status.UNIMPLEMENTED) {
      return new UnimplementedError(`${method}: ${details}`, {
        grpcCode: serviceError.code,
        cause: error,
      });
    }
    return new CoordinatorRefusedError(details, { grpcCode: serviceError.code, cause: error });
  }

  noteContact(answered: boolean): void {
    this.options.onContact?.(answered);
  }

  close(): void {
    this.client.close();
  }

  private unary<M extends UnaryMethod>(
    method: M,
    request: Parameters<ProvisionerDaemonClient[M]>[0],
    signal: AbortSignal,
    { timeoutMs = this.options.rpcTimeoutMs, metadata = this.jobMetadata } = {},
  ): Promise<
    Parameters<Extract<Parameters<ProvisionerDaemonClient[M]>[3], (...args: never[]) => unknown>>[1]
  > {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = () => call.cancel();
      // The generated client's overloads are not callable through a union of method names.
      const invoke = this.client[method].bind(this.client) as (
        request: unknown,
        metadata: Metadata,
        options: { deadline: number },
        callback: (error: ServiceError | null, response: unknown) => void,
      ) => { cancel(): void };
      const call = invoke(
        request,
        metadata.clone(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          signal.removeEventListener("abort", onAbort);
          if (error) {
            reject(this.classify(error, signal, method));
            return;
          }
          this.options.onContact?.(true);
          resolve(response as never);
        },
      );
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** coderd answered with a value this daemon cannot read: asking again gets the same. */
function unreadable(error: unknown, method: string): Error {
  if (!(error instanceof UnrecognizedValueError)) return error as Error;
  return new CoordinatorRefusedError(`coderd's ${method} answer: ${error.message}`, {
    cause: error,
  });
}

/**
 * Our gRPC protocol as the daemon's coordinator (grpc:// or grpcs://; http:// and https:// too
 * when the daemon is built without a coderd adapter).
 */
export function connectGrpc(options: {
  coderUrl: string;
  psk: string;
  tls?: CoderdClientOptions["tls"];
}): CoordinatorFactory {
  return (context) =>
    new CoderdClient({
      ...options,
      daemonId: context.daemonId,
      rpcTimeoutMs: context.rpcTimeoutMs,
      reconnectMaxMs: context.reconnectMaxMs,
      logger: context.logger,
      onContact: context.onContact,
      onAuthRefused: context.onFatal,
    });
}

/** grpc-js ends connection errors with ". Resolution note: <note>"; an empty note says nothing. */
export function withoutEmptyNote(details: string): string {
  return details.replace(/\. Resolution note: *$/, "");
}
