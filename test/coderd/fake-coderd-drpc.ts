// A strict fake coderd serving provisioner daemons over WebSocket + yamux + dRPC, for both
// generations: the upgrade checks in coderd's order with its texts, then the job calls with
// coderd's error texts (job ownership, one terminal message per job). v0.17 owns a job per
// connection (coderd inserts a daemon row per connection); v2 per daemon name within the
// organization, so a daemon that reconnects under its name keeps its jobs.
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { performance } from "node:perf_hooks";
import { DrpcServer } from "../../src/coderd/transport/drpc.js";
import * as sdk from "../../src/coderd/v2/gen/provisioner.js";
import * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import {
  type Refusal,
  type ServedConnection,
  startWsDrpcServer,
  type WsDrpcServer,
} from "./ws-drpc-server.js";

export type Generation = "v0.17" | "v2";

export interface Organization {
  id: string;
  name: string;
  isDefault?: boolean;
}

export interface FakeOptions {
  generation: Generation;
  organizations?: Organization[];
  /** Valid session tokens, and whether each may create organization-scoped daemons. */
  sessionTokens?: Record<string, { orgAdmin: boolean; userId?: string }>;
  /** v2 only. */
  psk?: string;
  /** v2 only: key -> its organization and tags. */
  provisionerKeys?: Record<string, { organization: string; tags: Record<string, string> }>;
  /** v2: the server's API minor (major is 1). */
  apiMinor?: number;
  licensed?: boolean;
  /** v2: how long the deprecated unary AcquireJob waits for a job. */
  longPollMs?: number;
  /** CommitQuota: the budget every job shares. */
  budget?: number;
  /** What GET /api/v2/buildinfo reports as `version`; default by generation. */
  buildVersion?: string;
  /**
   * v2: runs when a CancelAcquire arrives, before the fake stops waiting, so a test can lock a
   * job to the daemon at that moment (the race coderd allows).
   */
  onCancelAcquire?: () => void;
}

export interface Daemon {
  /** Who owns jobs: a random id per connection (v0.17), or organization + name (v2). */
  owner: string;
  name: string;
  organization: string;
  tags: Record<string, string>;
  credential: "session-token" | "psk" | "provisioner-key";
  apiVersion: string | undefined;
  buildVersion: string | undefined;
}

export interface FakeJob {
  id: string;
  organization: string;
  tags: Record<string, string>;
  /** The AcquiredJob to send (its jobId is set by the fake). */
  acquired: Record<string, unknown>;
  state: "queued" | "running" | "completed" | "failed";
  owner: string | undefined;
  updates: unknown[];
  terminal: unknown;
  cancelRequested: boolean;
  failure: string | undefined;
  /** performance.now() when queued, when its first log line arrived, and at its terminal call. */
  times: { queued: number; firstLog?: number; ended?: number };
}

export interface FakeUpload {
  /** The announced sha256. */
  hash: Buffer;
  size: number;
  chunks: number;
  data: Buffer;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
const SIGNED_OUT =
  "You are signed out or your session has expired. Please sign in again to continue.";

function refuse(status: number, message: string, extra: Partial<Refusal["body"]> = {}): Refusal {
  return { status, body: { message, ...extra } };
}

function fileError(error: string): Uint8Array {
  return sdk.FileUpload.encode({ type: { $case: "error", value: { error } } }).finish();
}

/** A job runs on a daemon whose tags include every tag of the job. */
function tagsMatch(job: Record<string, string>, daemon: Record<string, string>): boolean {
  return Object.entries(job).every(([k, v]) => daemon[k] === v);
}

export class FakeCoderdDrpc {
  readonly options: FakeOptions;
  readonly jobs = new Map<string, FakeJob>();
  readonly daemons: Daemon[] = [];
  /** Anything a correct daemon never does (a second terminal message, …). */
  readonly violations: string[] = [];
  consumedCredits = 0;
  /** CancelAcquire messages received. */
  cancelAcquires = 0;
  /** v2: files received by UploadFile that passed coderd's checks. */
  readonly uploads: FakeUpload[] = [];
  /**
   * v2: coderd's file store as DownloadFile serves it, by file id (here the sha256 in hex):
   * uploaded module files and those a CompleteJob carried inline. A test may add entries, also
   * with a `hash` that does not match `data` or an `announce`d size and chunk count that lie.
   */
  readonly files = new Map<
    string,
    { data: Buffer; hash: Buffer; announce?: { size: number; chunks: number } }
  >();
  /** v2: file ids DownloadFile was asked for. */
  readonly downloads: string[] = [];
  private server!: WsDrpcServer;
  private readonly waiters = new Set<() => void>();

  private constructor(options: FakeOptions) {
    this.options = options;
  }

  static async start(options: FakeOptions): Promise<FakeCoderdDrpc> {
    const fake = new FakeCoderdDrpc(options);
    await fake.listen();
    return fake;
  }

  private async listen(port?: number): Promise<void> {
    const { options } = this;
    this.server = await startWsDrpcServer({
      check: (request) => this.check(request),
      buildInfo: () => ({
        version:
          options.buildVersion ??
          (options.generation === "v2" ? "v2.35.0+f963381" : "v0.17.4+a1b2c3d"),
        external_url: "https://github.com/coder/coder",
      }),
      serverFor: (connection) => this.serverFor(connection),
      ...(port === undefined ? {} : { port }),
    });
  }

  /**
   * A coderd restart with its database intact: every connection drops, then the same port
   * serves again with the same jobs. Daemon rows are per connection, so a job in flight stays
   * owned by a connection that no longer exists.
   */
  async restart(): Promise<void> {
    const port = this.server.port;
    await this.server.close();
    await this.listen(port);
  }

  get url(): URL {
    return this.server.url;
  }

  get connections(): ServedConnection[] {
    return this.server.connections;
  }

  get organizations(): Organization[] {
    return this.options.organizations ?? [{ id: randomUUIDFixed, name: "coder", isDefault: true }];
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  /** Queues a job; `acquired` is the layout's AcquiredJob without jobId. */
  enqueue(
    acquired: Record<string, unknown>,
    options: { tags?: Record<string, string>; organization?: string } = {},
  ): FakeJob {
    const job: FakeJob = {
      id: randomUUID(),
      organization: options.organization ?? (this.organizations[0] as Organization).id,
      tags: { scope: "organization", ...options.tags },
      acquired,
      state: "queued",
      owner: undefined,
      updates: [],
      terminal: undefined,
      cancelRequested: false,
      failure: undefined,
      times: { queued: performance.now() },
    };
    this.jobs.set(job.id, job);
    for (const wake of [...this.waiters]) wake();
    return job;
  }

  /** AcquireJob / AcquireJobWithCancel calls waiting for a job right now. */
  get waiting(): number {
    return this.waiters.size;
  }

  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (job) job.cancelRequested = true;
  }

  private organization(arg: string): Organization | undefined {
    const orgs = this.organizations;
    if (this.options.generation === "v2" && (arg === "default" || arg === NIL_UUID)) {
      return orgs.find((o) => o.isDefault);
    }
    return orgs.find((o) => o.id === arg || (this.options.generation === "v2" && o.name === arg));
  }

  /** The upgrade checks, in coderd's order. */
  private check(request: IncomingMessage): Refusal | undefined {
    const url = new URL(request.url ?? "/", "http://x");
    const match = /^\/api\/v2\/organizations\/([^/]+)\/provisionerdaemons\/serve$/.exec(
      url.pathname,
    );
    if (!match) return refuse(404, "Route not found.");
    const orgArg = decodeURIComponent(match[1] as string);
    if (this.options.licensed === false) {
      return refuse(403, "External provisioner daemons is an Enterprise feature. Contact sales!");
    }
    const header = (name: string) => {
      const v = request.headers[name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    };
    const token = header("Coder-Session-Token");
    const user = token === undefined ? undefined : this.options.sessionTokens?.[token];
    let credential: Daemon["credential"];
    let keyEntry: { organization: string; tags: Record<string, string> } | undefined;
    if (this.options.generation === "v0.17") {
      if (token === undefined) {
        return refuse(401, SIGNED_OUT, {
          detail: 'Cookie "coder_session_token" or query parameter must be provided.',
        });
      }
      if (user === undefined)
        return refuse(401, SIGNED_OUT, { detail: "API key secret is invalid." });
      credential = "session-token";
      if (!UUID.test(orgArg)) {
        return refuse(400, 'Invalid UUID "organization".', {
          detail: `invalid UUID length: ${orgArg.length}`,
        });
      }
    } else {
      const key = header("Coder-Provisioner-Daemon-Key");
      const psk = header("Coder-Provisioner-Daemon-PSK");
      // Key and PSK together make the key check fail; every failure is just "unauthenticated".
      keyEntry =
        key !== undefined && psk === undefined ? this.options.provisionerKeys?.[key] : undefined;
      const pskOk = key === undefined && psk !== undefined && psk === this.options.psk;
      const daemonAuth = keyEntry !== undefined || pskOk;
      if (user !== undefined && daemonAuth) {
        return refuse(
          400,
          "API key and external provisioner authentication provided, but only one is allowed",
        );
      }
      if (user === undefined && !daemonAuth) {
        return refuse(
          401,
          "API key or external provisioner authentication required, but none provided",
        );
      }
      credential = keyEntry !== undefined ? "provisioner-key" : pskOk ? "psk" : "session-token";
    }
    const org = this.organization(orgArg);
    if (org === undefined)
      return refuse(404, "Resource not found or you do not have access to this resource");
    const tags: Record<string, string> = {};
    for (const tag of url.searchParams.getAll("tag")) {
      const at = tag.indexOf("=");
      if (at < 0) {
        return refuse(
          400,
          `Invalid format for tag "${tag}". Key and value must be separated with =.`,
        );
      }
      tags[tag.slice(0, at)] = tag.slice(at + 1);
    }
    const provisioners = url.searchParams.getAll("provisioner");
    if (provisioners.length === 0)
      return refuse(400, "The provisioner query parameter must be specified.");
    for (const p of provisioners) {
      if (p !== "terraform" && p !== "echo") return refuse(400, `Unknown provisioner type "${p}"`);
    }
    const scopeSent = tags.scope ?? "";
    if (credential === "provisioner-key") {
      if (url.searchParams.getAll("tag").length > 0) {
        return refuse(
          403,
          `You aren't allowed to create provisioner daemons with scope "${scopeSent}"`,
          {
            detail: "tags are not allowed when using a provisioner key",
          },
        );
      }
      if (keyEntry && keyEntry.organization !== org.id) {
        return refuse(404, "Resource not found or you do not have access to this resource");
      }
      Object.assign(tags, keyEntry?.tags);
    } else if (credential === "psk" && !org.isDefault) {
      const def = this.organizations.find((o) => o.isDefault);
      return refuse(
        403,
        `You aren't allowed to create provisioner daemons with scope "${scopeSent}"`,
        {
          detail: `PSK auth is only allowed for the default organization '${def?.name ?? ""}'`,
        },
      );
    }
    if (tags.scope !== "user") tags.scope = "organization";
    if (tags.scope === "organization" && credential === "session-token" && !user?.orgAdmin) {
      if (this.options.generation === "v0.17") {
        return refuse(
          403,
          "You aren't allowed to create provisioner daemons for the organization.",
        );
      }
      return refuse(
        403,
        `You aren't allowed to create provisioner daemons with scope "${scopeSent}"`,
        {
          detail: "user unauthorized",
        },
      );
    }
    if (tags.scope === "user") tags.owner = user?.userId ?? "user";
    let apiVersion: string | undefined;
    if (this.options.generation === "v2") {
      apiVersion = url.searchParams.get("version") ?? "1.0";
      const problem = this.versionProblem(apiVersion);
      if (problem !== undefined) {
        return refuse(400, "Incompatible or unparsable version", {
          validations: [{ field: "version", detail: problem }],
        });
      }
    }
    const name =
      this.options.generation === "v2"
        ? (url.searchParams.get("name") ?? randomUUID())
        : randomUUID();
    this.daemonOf.set(request, {
      owner: this.options.generation === "v2" ? `${org.id}/${name}` : randomUUID(),
      name,
      organization: org.id,
      tags,
      credential,
      apiVersion,
      buildVersion: header("X-Coder-Build-Version"),
    });
    return undefined;
  }

  /** The daemon each accepted upgrade request authenticated as. */
  private readonly daemonOf = new WeakMap<IncomingMessage, Daemon>();

  private versionProblem(version: string): string | undefined {
    const server = `1.${this.options.apiMinor ?? 18}`;
    const parts = version.split(".");
    if (parts.length !== 2) return `invalid version string: ${version}`;
    const [major, minor] = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN)) as [
      number,
      number,
    ];
    if (Number.isNaN(major)) return `invalid major version: ${version}`;
    if (Number.isNaN(minor)) return `invalid minor version: ${version}`;
    if (major > 1)
      return `server is at version ${server}, behind requested major version ${version}`;
    if (major < 1) return `version ${version} is no longer supported`;
    if (minor > (this.options.apiMinor ?? 18)) {
      return `server is at version ${server}, behind requested minor version ${version}`;
    }
    return undefined;
  }

  private serverFor(connection: ServedConnection): DrpcServer {
    const daemon = this.daemonOf.get(connection.request) as Daemon;
    this.daemons.push(daemon);
    const pb = this.options.generation === "v0.17" ? v017 : v2;
    const path = (m: string) => `/provisionerd.ProvisionerDaemon/${m}`;
    const server = new DrpcServer();
    const acquiredBytes = (job: FakeJob | undefined) =>
      job === undefined
        ? new Uint8Array()
        : pb.AcquiredJob.encode(
            (pb.AcquiredJob.fromPartial as (o: object) => unknown)({
              ...job.acquired,
              jobId: job.id,
            }) as never,
          ).finish();

    server.unary(path("AcquireJob"), async (_, signal) => {
      let job = this.take(daemon);
      if (job === undefined && this.options.generation === "v2") {
        job = await this.waitForJob(daemon, signal, this.options.longPollMs ?? 5_000);
      }
      return acquiredBytes(job);
    });
    if (this.options.generation === "v2") {
      server.register(path("AcquireJobWithCancel"), async (call) => {
        const cancel = new AbortController();
        // CancelAcquire, CloseSend, or the stream going away: stop waiting.
        void call.receive().then(
          (bytes) => {
            if (bytes !== undefined) {
              this.cancelAcquires++;
              this.options.onCancelAcquire?.();
            }
            cancel.abort();
          },
          () => cancel.abort(),
        );
        call.signal.addEventListener("abort", () => cancel.abort(), { once: true });
        const job = await this.waitForJob(daemon, cancel.signal, Number.POSITIVE_INFINITY);
        if (call.signal.aborted) {
          if (job !== undefined) {
            job.state = "failed";
            job.failure = "connection to provisioner daemon broken";
          }
          return undefined;
        }
        await call.send(acquiredBytes(job));
        return "close";
      });
    }
    if (this.options.generation === "v2") {
      // coderd's checks of an upload, then Empty + CloseSend (sent even after a failed upload).
      server.register(path("UploadFile"), async (call) => {
        const upload: FakeUpload = {
          hash: Buffer.alloc(0),
          size: 0,
          chunks: 0,
          data: Buffer.alloc(0),
        };
        const pieces: Buffer[] = [];
        try {
          for (
            let bytes = await call.receive();
            bytes !== undefined;
            bytes = await call.receive()
          ) {
            const message = sdk.FileUpload.decode(bytes).type;
            if (message?.$case === "dataUpload") {
              const { dataHash, fileSize, chunks, uploadType } = message.value;
              if (uploadType !== sdk.DataUploadType.UPLOAD_TYPE_MODULE_FILES) {
                throw new Error(`unsupported upload type ${uploadType}`);
              }
              if (dataHash.length !== 32) throw new Error("hash must be 32 bytes");
              if (fileSize < 0 || fileSize > 100 * 1024 * 1024) throw new Error("file too large");
              if (chunks > Math.ceil(fileSize / (2 * 1024 * 1024)))
                throw new Error("too many chunks");
              Object.assign(upload, { hash: dataHash, size: fileSize, chunks });
            } else if (message?.$case === "chunkPiece") {
              if (!message.value.fullDataHash.equals(upload.hash)) throw new Error("hash mismatch");
              if (message.value.pieceIndex !== pieces.length) throw new Error("chunk out of order");
              pieces.push(message.value.data);
            } else throw new Error("unexpected upload message");
          }
          upload.data = Buffer.concat(pieces);
          if (upload.data.length !== upload.size) throw new Error("size mismatch");
          if (!createHash("sha256").update(upload.data).digest().equals(upload.hash)) {
            throw new Error("sha256 mismatch");
          }
          this.uploads.push(upload);
          this.storeFile(upload.data);
        } catch (error) {
          this.violations.push(`UploadFile: ${(error as Error).message}`);
        }
        await call.send(new Uint8Array());
        return "close-send";
      });
    }
    if (this.options.generation === "v2") {
      // DataUpload then 2 MiB chunks; a failure is one FileUpload.error, then CloseSend.
      server.register(path("DownloadFile"), async (call) => {
        const request = v2.FileRequest.decode((await call.receive()) ?? new Uint8Array());
        this.downloads.push(request.fileId);
        const file = this.files.get(request.fileId);
        if (request.fileId === "") await call.send(fileError("file id is required"));
        else if (file === undefined) {
          await call.send(fileError("get file: sql: no rows in result set"));
        } else {
          const chunkBytes = 2 * 1024 * 1024;
          const chunks = Math.ceil(file.data.length / chunkBytes);
          await call.send(
            sdk.FileUpload.encode({
              type: {
                $case: "dataUpload",
                value: {
                  uploadType: sdk.DataUploadType.UPLOAD_TYPE_MODULE_FILES,
                  dataHash: file.hash,
                  fileSize: file.announce?.size ?? file.data.length,
                  chunks: file.announce?.chunks ?? chunks,
                },
              },
            }).finish(),
          );
          for (let index = 0; index < chunks; index++) {
            await call.send(
              sdk.FileUpload.encode({
                type: {
                  $case: "chunkPiece",
                  value: {
                    data: file.data.subarray(index * chunkBytes, (index + 1) * chunkBytes),
                    fullDataHash: file.hash,
                    pieceIndex: index,
                  },
                },
              }).finish(),
            );
          }
        }
        return "close-send";
      });
    }
    server.unary(path("UpdateJob"), async (bytes) => {
      const request = pb.UpdateJobRequest.decode(bytes);
      const job = this.ownedJob(request.jobId, daemon);
      job.updates.push(request);
      if (request.logs.length > 0) job.times.firstLog ??= performance.now();
      return pb.UpdateJobResponse.encode(
        (pb.UpdateJobResponse.fromPartial as (o: object) => unknown)({
          canceled: job.cancelRequested,
        }) as never,
      ).finish();
    });
    server.unary(path("FailJob"), async (bytes) => {
      const failed = pb.FailedJob.decode(bytes);
      const job = this.ownedJob(failed.jobId, daemon, true);
      job.state = "failed";
      job.terminal = failed;
      job.failure = failed.error;
      this.ended(job);
      return new Uint8Array();
    });
    server.unary(path("CompleteJob"), async (bytes) => {
      const completed = pb.CompletedJob.decode(bytes);
      const job = this.ownedJob(completed.jobId, daemon, true);
      job.state = "completed";
      job.terminal = completed;
      const imported = (completed as { type?: { $case: string; value: { moduleFiles?: Buffer } } })
        .type;
      if (imported?.$case === "templateImport" && (imported.value.moduleFiles?.length ?? 0) > 0) {
        this.storeFile(imported.value.moduleFiles as Buffer);
      }
      this.ended(job);
      return new Uint8Array();
    });
    server.unary(path("CommitQuota"), async (bytes) => {
      const request = pb.CommitQuotaRequest.decode(bytes);
      this.ownedJob(request.jobId, daemon);
      const budget = this.options.budget ?? 100;
      const ok = this.consumedCredits + request.dailyCost <= budget;
      if (ok) this.consumedCredits += request.dailyCost;
      return pb.CommitQuotaResponse.encode({
        ok,
        creditsConsumed: this.consumedCredits,
        budget,
      }).finish();
    });
    return server;
  }

  /** Keeps a file as coderd would, under the id DownloadFile takes (the sha256 in hex). */
  storeFile(data: Buffer): string {
    const hash = createHash("sha256").update(data).digest();
    const id = hash.toString("hex");
    this.files.set(id, { data, hash });
    return id;
  }

  private readonly endWaiters = new Set<() => void>();

  private ended(job: FakeJob): void {
    job.times.ended = performance.now();
    for (const wake of [...this.endWaiters]) wake();
  }

  /** Resolves when the job has had its terminal message; rejects after `timeoutMs`. */
  waitForEnd(job: FakeJob, timeoutMs: number): Promise<FakeJob> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (job.times.ended === undefined) return;
        finish();
        resolve(job);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`job ${job.id} did not end within ${timeoutMs} ms (${job.state})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.endWaiters.delete(check);
      };
      this.endWaiters.add(check);
      check();
    });
  }

  /** The first queued job this daemon may run, now locked for it. */
  private take(daemon: Daemon): FakeJob | undefined {
    for (const job of this.jobs.values()) {
      if (job.state !== "queued" || job.organization !== daemon.organization) continue;
      if (!tagsMatch(job.tags, daemon.tags)) continue;
      job.state = "running";
      job.owner = daemon.owner;
      return job;
    }
    return undefined;
  }

  private waitForJob(
    daemon: Daemon,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<FakeJob | undefined> {
    return new Promise((resolve) => {
      const done = (job: FakeJob | undefined) => {
        this.waiters.delete(wake);
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(job);
      };
      const wake = () => {
        const job = this.take(daemon);
        if (job !== undefined) done(job);
      };
      const onAbort = () => done(undefined);
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => done(undefined), timeoutMs)
        : undefined;
      if (signal.aborted) {
        done(undefined);
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(wake);
      wake();
    });
  }

  /** coderd's checks on every job call, with its texts. */
  private ownedJob(jobId: string, daemon: Daemon, terminal = false): FakeJob {
    if (!UUID.test(jobId)) throw new Error(`parse job id: invalid UUID length: ${jobId.length}`);
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new Error("get job: sql: no rows in result set");
    if (job.state === "queued") throw new Error("job isn't running yet");
    if (job.owner !== daemon.owner) throw new Error("you don't own this job");
    if (job.state !== "running") {
      if (terminal) this.violations.push(`job ${job.id}: a second terminal message`);
      throw new Error("job already completed");
    }
    return job;
  }
}

/** The default organization's id when a test names none. */
export const randomUUIDFixed = "8f2c5b5e-1d1e-4c3a-9b0e-0123456789ab";
