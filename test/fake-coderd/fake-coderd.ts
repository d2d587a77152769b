// A strict, recording, in-memory coderd for tests and benchmarks. It serves our proto over real
// gRPC, checks everything a careful coderd would (PSK, identity, tags, job ownership, log
// sequence continuity, message shapes, one terminal message per job) and records what it saw.
// It can cancel jobs, deny quota, refuse/delay/lose calls, and stop and restart on the same port
// keeping its state (a coderd restart with its database intact). It serves plaintext, or TLS
// and mutual TLS when given PEM material.

import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import {
  Metadata as GrpcMetadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from "@grpc/grpc-js";
import { authenticateCall, isRefusal } from "../../src/coderd/adapters/grpc-call-metadata.js";
import * as toDomain from "../../src/coderd/adapters/to-domain.js";
import {
  computeParameterValues,
  type ParameterValueRow,
  RequiredTemplateVariablesError,
  resolveTemplateVariables,
  templateVariableValues,
  toParameterValues,
} from "../../src/parameters/index.js";
import type { ParameterSchema } from "../../src/proto/provisioner.js";
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
import {
  type AcquiredJob,
  type AcquireJobRequest,
  type AcquireStreamRequest,
  type CommitQuotaRequest,
  type CommitQuotaResponse,
  type CompletedJob,
  type DaemonIdentity,
  type Empty,
  type FailedJob,
  type Log,
  ProvisionerDaemonService,
  type UpdateJobRequest,
  type UpdateJobResponse,
} from "../../src/proto/provisionerd.js";
import {
  identityProblem,
  KNOWN_ERROR_CODES,
  logShapeProblem,
  sameLine,
  tagsMatch,
} from "./strict.js";

export type FakeMethod =
  | "acquireJob"
  | "streamAcquireJobs"
  | "updateJob"
  | "commitQuota"
  | "failJob"
  | "completeJob";
export type JobKind = "template_import" | "template_dry_run" | "workspace_build";

/** The kind of job a FailJob or CompleteJob payload belongs to: it must match the job's own. */
const JOB_KIND_OF_RESULT = {
  workspaceBuild: "workspace_build",
  templateImport: "template_import",
  templateDryRun: "template_dry_run",
} as const satisfies Record<NonNullable<CompletedJob["type"]>["$case"], JobKind>;

export type Fault =
  /** Fail with UNAVAILABLE before doing anything (a dropped call). */
  | { kind: "refuse"; code?: status }
  /** Answer after `ms`. */
  | { kind: "delay"; ms: number }
  /** Do the work, then fail with UNAVAILABLE (the answer is lost). */
  | { kind: "lose-response" };

interface FaultRule {
  fault: Fault;
  remaining: number;
  jobId?: string | undefined;
}

export interface FakeJob {
  id: string;
  kind: JobKind;
  provisioner: string;
  tags: Record<string, string>;
  payload: AcquiredJob;
  status: "pending" | "running" | "succeeded" | "failed";
  workerId?: string;
  acknowledged: boolean;
  canceled: boolean;
  logs: Log[];
  /** Log lines received again after they were stored (retries); kept once. */
  duplicateLines: number;
  readme?: Buffer;
  parameterSchemas?: ParameterSchema[];
  quota?: CommitQuotaRequest;
  terminal?: { kind: "complete"; message: CompletedJob } | { kind: "fail"; message: FailedJob };
  /** performance.now() times, for latency figures. */
  times: { queued: number; acquired?: number; firstLog?: number; ended?: number };
  /** Import-only inputs the fake resolves parameters with. */
  importValues?: ParameterValueRow[];
  templateValues?: ParameterValueRow[];
  /** Workspace builds: where results go. */
  workspaceId?: string;
  versionId?: string;
}

export interface RecordedCall {
  method: FakeMethod;
  daemonId: string;
  jobId?: string;
  /** performance.now() */
  at: number;
  outcome: "ok" | string;
  request?: unknown;
}

export interface Violation {
  method: FakeMethod;
  jobId?: string | undefined;
  daemonId?: string | undefined;
  message: string;
}

export interface EnqueueOptions {
  kind: JobKind;
  payload: AcquiredJob["type"];
  archive: Uint8Array;
  provisioner?: string;
  tags?: Record<string, string>;
  userName?: string;
  importValues?: ParameterValueRow[];
  templateValues?: ParameterValueRow[];
  workspaceId?: string;
  versionId?: string;
}

interface StreamSubscriber {
  daemonId: string;
  identity: DaemonIdentity;
  slots: number;
  call: ServerDuplexStream<AcquireStreamRequest, AcquiredJob>;
  withdrawn: boolean;
  /** Jobs locked for this daemon and unacknowledged when the stream opened: pushed again. */
  resend: string[];
  /** Pushes held by `beforePush`, written in order. */
  writes: Promise<void>;
}

interface PollWaiter {
  daemonId: string;
  identity: DaemonIdentity;
  deliver: (job: AcquiredJob) => void;
}

export interface FakeCoderdOptions {
  psk?: string;
  port?: number;
  /** Serve no StreamAcquireJobs (an older coderd): the daemon must fall back to polling. */
  withoutStream?: boolean;
  /** Keep every request in `calls` (off for benchmarks with huge logs). */
  recordRequests?: boolean;
  /** coderUrl jobs carry in their metadata. */
  accessUrl?: string;
  /** Serve TLS instead of plaintext (PEM strings); `url` becomes https://localhost. */
  tls?: FakeCoderdTls;
}

export interface FakeCoderdTls {
  key: string;
  cert: string;
  /** Require a client certificate signed by this CA (mutual TLS). */
  clientCa?: string;
}

class CallError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export class FakeCoderd {
  readonly psk: string;
  readonly jobs = new Map<string, FakeJob>();
  readonly calls: RecordedCall[] = [];
  readonly violations: Violation[] = [];
  /** Emits "change" after anything happened (waitFor re-checks on it). */
  readonly events = new EventEmitter();
  quota: { budget: number; consumed: number } | undefined;
  quotaError: string | undefined;
  private readonly options: FakeCoderdOptions;
  private server: Server | undefined;
  private boundPort = 0;
  private readonly faults = new Map<FakeMethod, FaultRule[]>();
  private subscribers: StreamSubscriber[] = [];
  private pollWaiters: PollWaiter[] = [];
  /** Hooks the model (templates/workspaces) uses to learn results. */
  onTerminal?: (job: FakeJob) => void;
  onImportUpdate?: (job: FakeJob, request: UpdateJobRequest) => UpdateJobResponse | undefined;
  /**
   * Runs before each job is written to an acquire stream (`resend`: pushed again, see
   * proto/provisionerd.proto); the write waits for its promise, later writes queue behind it.
   * Tests use it to hold a push in flight, as a large archive on a slow link would.
   */
  beforePush?: (job: FakeJob, resend: boolean) => void | Promise<void>;

  private constructor(options: FakeCoderdOptions) {
    this.options = options;
    this.psk = options.psk ?? "test-psk-correct-horse";
    this.events.setMaxListeners(0);
  }

  static async start(options: FakeCoderdOptions = {}): Promise<FakeCoderd> {
    const fake = new FakeCoderd(options);
    await fake.listen(options.port ?? 0);
    return fake;
  }

  get port(): number {
    return this.boundPort;
  }

  /**
   * The daemon's coderUrl. With TLS it names "localhost", the name test certificates carry,
   * because an IP address cannot be sent as the TLS server name (RFC 6066).
   */
  get url(): string {
    return this.options.tls === undefined
      ? `http://127.0.0.1:${this.boundPort}`
      : `https://localhost:${this.boundPort}`;
  }

  /** The same endpoint as `provisionerd start` takes it: grpc:// and grpcs:// select our protocol. */
  get grpcUrl(): string {
    return this.url.replace(/^http(s?):/, "grpc$1:");
  }

  get accessUrl(): string {
    return this.options.accessUrl ?? "http://coder.test";
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Stops serving at once (connections dropped); state is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const sub of this.subscribers) sub.call.destroy();
    this.subscribers = [];
    this.pollWaiters = [];
    server.forceShutdown();
    this.emit();
  }

  /** Serves again on the same port with the same state. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen(this.boundPort);
  }

  // ------------------------------------------------------------------ test controls

  enqueueJob(options: EnqueueOptions): string {
    const id = randomUUID();
    const payload: AcquiredJob = {
      jobId: id,
      createdAt: Date.now(),
      provisioner: options.provisioner ?? "terraform",
      userName: options.userName ?? "tester",
      templateSourceArchive: Buffer.from(options.archive),
      type: options.payload,
      tags: options.tags ?? {},
    };
    const job: FakeJob = {
      id,
      kind: options.kind,
      provisioner: payload.provisioner,
      tags: payload.tags,
      payload,
      status: "pending",
      acknowledged: false,
      canceled: false,
      logs: [],
      duplicateLines: 0,
      times: { queued: performance.now() },
      ...(options.importValues ? { importValues: options.importValues } : {}),
      ...(options.templateValues ? { templateValues: options.templateValues } : {}),
      ...(options.workspaceId ? { workspaceId: options.workspaceId } : {}),
      ...(options.versionId ? { versionId: options.versionId } : {}),
    };
    this.jobs.set(id, job);
    this.dispatch();
    this.emit();
    return id;
  }

  /** As coderd's cancel: a pending job ends at once; a running one sees `canceled` on updates. */
  cancelJob(jobId: string): void {
    const job = this.job(jobId);
    job.canceled = true;
    if (job.status === "pending") {
      job.status = "failed";
      job.times.ended = performance.now();
    }
    this.emit();
  }

  /** Applies `fault` to the next `count` calls of `method` (optionally only for one job). */
  inject(method: FakeMethod, fault: Fault, count = 1, jobId?: string): void {
    const rules = this.faults.get(method) ?? [];
    rules.push({ fault, remaining: count, jobId });
    this.faults.set(method, rules);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  job(jobId: string): FakeJob {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new Error(`fake coderd: no job ${jobId}`);
    return job;
  }

  /** Resolves with the predicate's first truthy value, re-checked after every event. */
  waitFor<T>(
    predicate: () => T | undefined | false | null,
    timeoutMs = 30_000,
    what = "condition",
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value: T | undefined | false | null;
        try {
          value = predicate();
        } catch (error) {
          finish();
          reject(error);
          return;
        }
        if (value !== undefined && value !== false && value !== null) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`fake coderd: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.events.off("change", check);
      };
      this.events.on("change", check);
      check();
    });
  }

  waitForJobEnd(jobId: string, timeoutMs?: number): Promise<FakeJob> {
    return this.waitFor(
      () => {
        const job = this.job(jobId);
        return job.terminal !== undefined ? job : undefined;
      },
      timeoutMs,
      `end of job ${jobId}`,
    );
  }

  waitForStatus(jobId: string, wanted: FakeJob["status"], timeoutMs?: number): Promise<FakeJob> {
    return this.waitFor(
      () => (this.job(jobId).status === wanted ? this.job(jobId) : undefined),
      timeoutMs,
      `job ${jobId} ${wanted}`,
    );
  }

  waitForLogs(
    jobId: string,
    predicate: (logs: Log[]) => boolean,
    timeoutMs?: number,
  ): Promise<Log[]> {
    return this.waitFor(
      () => {
        const logs = this.job(jobId).logs;
        return predicate(logs) ? logs : undefined;
      },
      timeoutMs,
      `logs of job ${jobId}`,
    );
  }

  /** Daemons connected on the stream now. */
  streamDaemons(): { daemonId: string; slots: number; withdrawn: boolean }[] {
    return this.subscribers.map((s) => ({
      daemonId: s.daemonId,
      slots: s.slots,
      withdrawn: s.withdrawn,
    }));
  }

  callsOf(method: FakeMethod, jobId?: string): RecordedCall[] {
    return this.calls.filter(
      (c) => c.method === method && (jobId === undefined || c.jobId === jobId),
    );
  }

  // ------------------------------------------------------------------ plumbing

  private emit(): void {
    this.events.emit("change");
  }

  private async listen(port: number): Promise<void> {
    const server = new Server({
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.http2.min_ping_interval_without_data_ms": 1_000,
      "grpc.max_receive_message_length": 64 << 20,
      "grpc.max_send_message_length": 64 << 20,
    });
    const impl: Record<string, unknown> = {
      acquireJob: this.unary<AcquireJobRequest, AcquiredJob>("acquireJob", (req, daemonId, call) =>
        this.acquireJob(req, daemonId, call),
      ),
      updateJob: this.unary("updateJob", (req: UpdateJobRequest, daemonId) =>
        this.updateJob(req, daemonId),
      ),
      commitQuota: this.unary("commitQuota", (req: CommitQuotaRequest, daemonId) =>
        this.commitQuota(req, daemonId),
      ),
      failJob: this.unary("failJob", (req: FailedJob, daemonId) => this.failJob(req, daemonId)),
      completeJob: this.unary("completeJob", (req: CompletedJob, daemonId) =>
        this.completeJob(req, daemonId),
      ),
    };
    if (!this.options.withoutStream) {
      impl.streamAcquireJobs = (call: ServerDuplexStream<AcquireStreamRequest, AcquiredJob>) =>
        this.streamAcquireJobs(call);
    }
    const service = this.options.withoutStream
      ? Object.fromEntries(
          Object.entries(ProvisionerDaemonService).filter(([name]) => name !== "streamAcquireJobs"),
        )
      : ProvisionerDaemonService;
    server.addService(service as typeof ProvisionerDaemonService, impl as never);
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`127.0.0.1:${port}`, this.serverCredentials(), (error, bound) => {
        if (error) reject(error);
        else resolve(bound);
      });
    });
    this.server = server;
    this.emit();
  }

  private serverCredentials(): ServerCredentials {
    const tls = this.options.tls;
    if (tls === undefined) return ServerCredentials.createInsecure();
    const clientCa = tls.clientCa === undefined ? null : Buffer.from(tls.clientCa);
    return ServerCredentials.createSsl(
      clientCa,
      [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }],
      clientCa !== null,
    );
  }

  private takeFault(method: FakeMethod, jobId: string | undefined): Fault | undefined {
    const rules = this.faults.get(method);
    if (rules === undefined) return undefined;
    const rule = rules.find((r) => r.remaining > 0 && (r.jobId === undefined || r.jobId === jobId));
    if (rule === undefined) return undefined;
    rule.remaining--;
    return rule.fault;
  }

  private violation(
    method: FakeMethod,
    message: string,
    jobId?: string,
    daemonId?: string,
  ): CallError {
    this.violations.push({ method, message, jobId, daemonId });
    return new CallError(status.INVALID_ARGUMENT, message);
  }

  private unary<Req, Res>(
    method: FakeMethod,
    handler: (
      request: Req,
      daemonId: string,
      call: ServerUnaryCall<Req, Res>,
    ) => Res | Promise<Res>,
  ) {
    return async (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const auth = authenticateCall(call.metadata, this.psk);
      const requested = (call.request as { jobId?: unknown }).jobId;
      const jobId = typeof requested === "string" ? requested : undefined;
      const record: RecordedCall = {
        method,
        daemonId: isRefusal(auth) ? "" : auth.daemonId,
        at: performance.now(),
        outcome: "ok",
        ...(jobId !== undefined ? { jobId } : {}),
        ...(this.options.recordRequests !== false ? { request: call.request } : {}),
      };
      this.calls.push(record);
      this.emit();
      if (isRefusal(auth)) {
        record.outcome = status[auth.code] ?? String(auth.code);
        callback({ code: auth.code, details: auth.details });
        this.emit();
        return;
      }
      const fault = this.takeFault(method, jobId);
      if (fault?.kind === "refuse") {
        record.outcome = "fault:refuse";
        callback({ code: fault.code ?? status.UNAVAILABLE, details: "fake coderd: call dropped" });
        this.emit();
        return;
      }
      if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
      try {
        const response = await handler(call.request, auth.daemonId, call);
        if (fault?.kind === "lose-response") {
          record.outcome = "fault:lose-response";
          callback({ code: status.UNAVAILABLE, details: "fake coderd: answer lost" });
        } else {
          callback(null, response);
        }
      } catch (error) {
        const code = error instanceof CallError ? error.code : status.INTERNAL;
        record.outcome = status[code] ?? String(code);
        callback({ code, details: error instanceof Error ? error.message : String(error) });
      }
      this.emit();
    };
  }

  private matches(job: FakeJob, identity: DaemonIdentity): boolean {
    return identity.provisioners.includes(job.provisioner) && tagsMatch(job.tags, identity.tags);
  }

  /**
   * A job locked for this daemon that it never acknowledged is handed out again on its next
   * unary acquire: the answer that carried it may have been lost.
   */
  private unacknowledgedFor(daemonId: string): FakeJob | undefined {
    for (const job of this.jobs.values()) if (this.isUnacknowledged(job, daemonId)) return job;
    return undefined;
  }

  private lock(job: FakeJob, daemonId: string): AcquiredJob {
    job.status = "running";
    job.workerId = daemonId;
    job.times.acquired ??= performance.now();
    return job.payload;
  }

  private nextPending(identity: DaemonIdentity): FakeJob | undefined {
    for (const job of this.jobs.values()) {
      if (job.status === "pending" && this.matches(job, identity)) return job;
    }
    return undefined;
  }

  private acquireJob(
    request: AcquireJobRequest,
    daemonId: string,
    call: ServerUnaryCall<AcquireJobRequest, AcquiredJob>,
  ): AcquiredJob | Promise<AcquiredJob> {
    const problem = identityProblem(request.daemon, daemonId);
    if (problem !== undefined) throw this.violation("acquireJob", problem, undefined, daemonId);
    const identity = request.daemon as DaemonIdentity;
    const again = this.unacknowledgedFor(daemonId);
    if (again !== undefined) return again.payload;
    const job = this.nextPending(identity);
    if (job !== undefined) return this.lock(job, daemonId);
    if (request.waitMs <= 0) return emptyJob();
    return new Promise<AcquiredJob>((resolve) => {
      const waiter: PollWaiter = {
        daemonId,
        identity,
        deliver: (acquired) => {
          cleanup();
          resolve(acquired);
        },
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(emptyJob());
      }, request.waitMs);
      const onCancel = () => {
        cleanup();
        resolve(emptyJob());
      };
      const cleanup = () => {
        clearTimeout(timer);
        call.off("cancelled", onCancel);
        this.pollWaiters = this.pollWaiters.filter((w) => w !== waiter);
      };
      call.on("cancelled", onCancel);
      this.pollWaiters.push(waiter);
    });
  }

  private streamAcquireJobs(call: ServerDuplexStream<AcquireStreamRequest, AcquiredJob>): void {
    const auth = authenticateCall(call.metadata, this.psk);
    const record: RecordedCall = {
      method: "streamAcquireJobs",
      daemonId: isRefusal(auth) ? "" : auth.daemonId,
      at: performance.now(),
      outcome: "ok",
    };
    this.calls.push(record);
    if (isRefusal(auth)) {
      record.outcome = status[auth.code] ?? String(auth.code);
      call.emit("error", { code: auth.code, details: auth.details });
      this.emit();
      return;
    }
    const fault = this.takeFault("streamAcquireJobs", undefined);
    if (fault?.kind === "refuse") {
      record.outcome = "fault:refuse";
      call.emit("error", {
        code: fault.code ?? status.UNAVAILABLE,
        details: "fake coderd: call dropped",
      });
      return;
    }
    call.sendMetadata(new GrpcMetadata());
    let subscriber: StreamSubscriber | undefined;
    const remove = () => {
      this.subscribers = this.subscribers.filter((s) => s !== subscriber);
      this.emit();
    };
    call.on("data", (message: AcquireStreamRequest) => {
      const type = message.type;
      if (subscriber === undefined) {
        if (type?.$case !== "ready") {
          const error = this.violation(
            "streamAcquireJobs",
            "first stream message must be ready",
            undefined,
            auth.daemonId,
          );
          call.emit("error", { code: error.code, details: error.message });
          return;
        }
        const problem = identityProblem(type.value.daemon, auth.daemonId);
        if (problem !== undefined) {
          const error = this.violation("streamAcquireJobs", problem, undefined, auth.daemonId);
          call.emit("error", { code: error.code, details: error.message });
          return;
        }
        if (this.subscribers.some((s) => s.daemonId === auth.daemonId)) {
          // A daemon reconnecting replaces its old stream.
          for (const old of this.subscribers.filter((s) => s.daemonId === auth.daemonId))
            old.call.end();
          this.subscribers = this.subscribers.filter((s) => s.daemonId !== auth.daemonId);
        }
        subscriber = {
          daemonId: auth.daemonId,
          identity: type.value.daemon as DaemonIdentity,
          slots: type.value.slots,
          call,
          withdrawn: false,
          resend: [...this.jobs.values()]
            .filter((job) => this.isUnacknowledged(job, auth.daemonId))
            .map((job) => job.id),
          writes: Promise.resolve(),
        };
        this.subscribers.push(subscriber);
      } else if (type?.$case === "ready") {
        if (subscriber.withdrawn) {
          this.violation("streamAcquireJobs", "ready after withdraw", undefined, auth.daemonId);
          return;
        }
        // Credits add up (see proto/provisionerd.proto); coderd spends one per pushed job.
        subscriber.slots += type.value.slots;
      } else if (type?.$case === "withdraw") {
        subscriber.withdrawn = true;
        subscriber.slots = 0;
        remove();
        call.end();
        return;
      } else {
        this.violation(
          "streamAcquireJobs",
          "stream message without type",
          undefined,
          auth.daemonId,
        );
        return;
      }
      if (subscriber.slots < 0)
        this.violation("streamAcquireJobs", "negative slots", undefined, auth.daemonId);
      this.resendUnacknowledged(subscriber);
      this.dispatch();
      this.emit();
    });
    call.on("end", () => {
      remove();
      call.end();
    });
    call.on("cancelled", remove);
    call.on("error", remove);
  }

  /**
   * Pushes again, once, each job that was locked for this daemon and unacknowledged when the
   * stream opened (the stream it was first pushed on may have broken with the job in it). A job
   * pushed on this very stream is never pushed again: it arrives, or the stream breaks.
   */
  private resendUnacknowledged(subscriber: StreamSubscriber): void {
    while (subscriber.slots > 0 && subscriber.resend.length > 0) {
      const job = this.jobs.get(subscriber.resend.shift() as string);
      if (job === undefined || !this.isUnacknowledged(job, subscriber.daemonId)) continue;
      subscriber.slots--;
      this.push(subscriber, job, true);
    }
  }

  private isUnacknowledged(job: FakeJob, daemonId: string): boolean {
    return job.status === "running" && job.workerId === daemonId && !job.acknowledged;
  }

  private push(subscriber: StreamSubscriber, job: FakeJob, resend: boolean): void {
    const hook = this.beforePush;
    if (hook === undefined) {
      subscriber.call.write(job.payload);
      return;
    }
    subscriber.writes = subscriber.writes
      .then(() => hook(job, resend))
      .then(() => {
        if (subscriber.call.writable && !subscriber.call.destroyed)
          subscriber.call.write(job.payload);
      })
      .catch(() => {});
  }

  /** Hands pending jobs to waiting daemons (stream first, then long polls), oldest job first. */
  private dispatch(): void {
    for (const job of this.jobs.values()) {
      if (job.status !== "pending") continue;
      const subscriber = this.subscribers.find(
        (s) => !s.withdrawn && s.slots > 0 && this.matches(job, s.identity),
      );
      if (subscriber !== undefined) {
        subscriber.slots--;
        this.lock(job, subscriber.daemonId);
        this.push(subscriber, job, false);
        continue;
      }
      const waiter = this.pollWaiters.find((w) => this.matches(job, w.identity));
      if (waiter !== undefined) waiter.deliver(this.lock(job, waiter.daemonId));
    }
  }

  /** Ownership rules shared by every job call. */
  private ownedJob(method: FakeMethod, jobId: string, daemonId: string): FakeJob {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new CallError(status.NOT_FOUND, `job ${jobId} not found`);
    if (job.status === "pending" || job.workerId === undefined) {
      this.violations.push({ method, jobId, daemonId, message: "job isn't running yet" });
      throw new CallError(status.FAILED_PRECONDITION, "job isn't running yet");
    }
    if (job.workerId !== daemonId) {
      this.violations.push({ method, jobId, daemonId, message: "you don't own this job" });
      throw new CallError(status.PERMISSION_DENIED, "you don't own this job");
    }
    if (job.terminal !== undefined) {
      this.violations.push({ method, jobId, daemonId, message: `${method} after the job ended` });
      throw new CallError(status.FAILED_PRECONDITION, "job already completed");
    }
    return job;
  }

  private updateJob(request: UpdateJobRequest, daemonId: string): UpdateJobResponse {
    const job = this.ownedJob("updateJob", request.jobId, daemonId);
    job.acknowledged = true;
    let expected = job.logs.length + 1;
    for (const [index, log] of request.logs.entries()) {
      const shape = logShapeProblem(log);
      if (shape !== undefined) throw this.violation("updateJob", shape, job.id, daemonId);
      const previous = request.logs[index - 1];
      if (previous !== undefined && log.sequence !== previous.sequence + 1) {
        throw this.violation(
          "updateJob",
          `log sequence jumps from ${previous.sequence} to ${log.sequence} inside one request`,
          job.id,
          daemonId,
        );
      }
      if (log.sequence < expected) {
        const stored = job.logs[log.sequence - 1] as Log;
        if (!sameLine(stored, log)) {
          throw this.violation(
            "updateJob",
            `log ${log.sequence} sent again with different content`,
            job.id,
            daemonId,
          );
        }
        job.duplicateLines++;
        continue;
      }
      if (log.sequence > expected) {
        throw this.violation(
          "updateJob",
          `log sequence gap: expected ${expected}, got ${log.sequence}`,
          job.id,
          daemonId,
        );
      }
      job.logs.push(log);
      job.times.firstLog ??= performance.now();
      expected++;
    }
    const importOnly =
      request.parameterSchemas.length > 0 ||
      request.templateVariables.length > 0 ||
      request.userVariableValues.length > 0 ||
      request.readme.length > 0;
    if (importOnly && job.kind !== "template_import") {
      throw this.violation(
        "updateJob",
        "template import fields sent for another job type",
        job.id,
        daemonId,
      );
    }
    const response: UpdateJobResponse = {
      canceled: job.canceled,
      parameterValues: [],
      variableValues: [],
    };
    if (request.readme.length > 0) job.readme = Buffer.from(request.readme);
    if (request.templateVariables.length > 0) {
      try {
        const resolved = resolveTemplateVariables(
          request.templateVariables,
          request.userVariableValues,
        );
        response.variableValues = templateVariableValues(resolved);
        const hooked = this.onImportUpdate?.(job, request);
        if (hooked) Object.assign(response, hooked);
      } catch (error) {
        if (error instanceof RequiredTemplateVariablesError)
          throw new CallError(status.FAILED_PRECONDITION, error.message);
        throw error;
      }
      return response;
    }
    if (request.parameterSchemas.length > 0) {
      job.parameterSchemas = request.parameterSchemas;
      const computed = computeParameterValues({
        schemas: request.parameterSchemas.map((s, i) =>
          toDomain.parameterSchema(s, `parameterSchemas[${i}]`),
        ),
        importJobValues: job.importValues ?? [],
        templateValues: job.templateValues ?? [],
      });
      response.parameterValues = toParameterValues(computed);
      this.onImportUpdate?.(job, request);
    }
    return response;
  }

  private commitQuota(request: CommitQuotaRequest, daemonId: string): CommitQuotaResponse {
    const job = this.ownedJob("commitQuota", request.jobId, daemonId);
    if (job.kind !== "workspace_build")
      throw this.violation(
        "commitQuota",
        "quota committed for a job that is no build",
        job.id,
        daemonId,
      );
    const transition =
      job.payload.type?.$case === "workspaceBuild"
        ? job.payload.type.value.metadata?.workspaceTransition
        : undefined;
    if (transition === WorkspaceTransition.DESTROY)
      throw this.violation("commitQuota", "quota committed for a delete build", job.id, daemonId);
    if (request.dailyCost <= 0)
      throw this.violation(
        "commitQuota",
        `quota committed with daily cost ${request.dailyCost}`,
        job.id,
        daemonId,
      );
    if (job.quota !== undefined)
      throw this.violation("commitQuota", "quota committed twice", job.id, daemonId);
    job.quota = request;
    if (this.quotaError !== undefined) throw new CallError(status.INTERNAL, this.quotaError);
    if (this.quota === undefined) return { ok: true, creditsConsumed: 0, budget: -1 };
    const total = this.quota.consumed + request.dailyCost;
    if (total > this.quota.budget)
      return { ok: false, creditsConsumed: this.quota.consumed, budget: this.quota.budget };
    this.quota.consumed = total;
    return { ok: true, creditsConsumed: total, budget: this.quota.budget };
  }

  private failJob(request: FailedJob, daemonId: string): Empty {
    if (this.isRepeatedTerminal("fail", request, daemonId)) return {};
    const job = this.ownedJob("failJob", request.jobId, daemonId);
    if (request.error === "")
      throw this.violation("failJob", "FailJob without an error text", job.id, daemonId);
    if (!KNOWN_ERROR_CODES.has(request.errorCode))
      throw this.violation(
        "failJob",
        `unknown error code "${request.errorCode}"`,
        job.id,
        daemonId,
      );
    if (request.type !== undefined && JOB_KIND_OF_RESULT[request.type.$case] !== job.kind) {
      throw this.violation(
        "failJob",
        `FailJob type ${request.type.$case} for a ${job.kind} job`,
        job.id,
        daemonId,
      );
    }
    this.recordTerminal(job, { kind: "fail", message: request });
    return {};
  }

  /**
   * A terminal call repeated word for word by the daemon that ended the job is the retry of a
   * call whose answer was lost: it gets the same answer, OK, instead of "already completed".
   */
  private isRepeatedTerminal(
    kind: "complete" | "fail",
    request: CompletedJob | FailedJob,
    daemonId: string,
  ): boolean {
    const job = this.jobs.get(request.jobId);
    return (
      job?.workerId === daemonId &&
      job.terminal?.kind === kind &&
      isDeepStrictEqual(job.terminal.message, request)
    );
  }

  private completeJob(request: CompletedJob, daemonId: string): Empty {
    if (this.isRepeatedTerminal("complete", request, daemonId)) return {};
    const job = this.ownedJob("completeJob", request.jobId, daemonId);
    if (request.type === undefined)
      throw this.violation("completeJob", "type payload must be provided", job.id, daemonId);
    if (JOB_KIND_OF_RESULT[request.type.$case] !== job.kind) {
      throw this.violation(
        "completeJob",
        `CompleteJob type ${request.type.$case} for a ${job.kind} job`,
        job.id,
        daemonId,
      );
    }
    this.recordTerminal(job, { kind: "complete", message: request });
    return {};
  }

  private recordTerminal(job: FakeJob, terminal: NonNullable<FakeJob["terminal"]>): void {
    job.terminal = terminal;
    job.status = terminal.kind === "complete" ? "succeeded" : "failed";
    job.times.ended = performance.now();
    this.onTerminal?.(job);
  }
}

function emptyJob(): AcquiredJob {
  return {
    jobId: "",
    createdAt: 0,
    provisioner: "",
    userName: "",
    templateSourceArchive: Buffer.alloc(0),
    tags: {},
  };
}
