// Daemon options: one zod schema, so the CLI, tests and the local build mode agree on names,
// defaults and limits, and bad input becomes one clear error naming every bad field.
import { hostname } from "node:os";
import type { Logger } from "pino";
import { z } from "zod";
import type { Provisioner } from "../provisioner/provisioner.js";
import type { CoordinatorFactory } from "./coordinator.js";
import { DaemonOptionsError } from "./errors.js";
import type { DaemonObserver } from "./observer.js";
import { DAEMON_VERSION } from "./version.js";

const isProvisioner = (value: unknown): value is Provisioner =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Provisioner).type === "string" &&
  typeof (value as Provisioner).open === "function";

const isLogger = (value: unknown): value is Logger =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as Logger).info === "function" &&
  typeof (value as Logger).child === "function";

/** A number of milliseconds; its limit is worded for people, who give durations (`1s`). */
const ms = (min: number, fallback: number) =>
  z
    .int()
    .min(min, {
      error: min === 1 ? "expected a duration above 0" : `expected a duration of at least ${min}ms`,
    })
    .default(fallback);

/** Most job slots one daemon runs at once. */
export const MAX_CONCURRENCY = 64;

export const LogBatchOptionsSchema = z.object({
  /** Longest a line waits before it is sent (issue: at most 100 ms). */
  maxDelayMs: z.int().min(1).max(100).default(100),
  /** Most lines in one UpdateJob. */
  maxLines: z.int().min(1).max(10_000).default(100),
  /** Most bytes of log text in one UpdateJob. */
  maxBytes: z
    .int()
    .min(1024)
    .max(1 << 20)
    .default(64 << 10),
  // The worst line-to-coderd delay is about buffer / drain rate, so the buffer stays a few
  // batches deep: enough to keep sends back to back, small enough that a starved daemon makes
  // Terraform wait instead of letting lines age (10,000 lines measured 140-660 ms worst delay
  // under load, 1,000 lines about 100 ms at the same throughput).
  /** Unsent lines held before the provisioner is made to wait (back-pressure). */
  bufferLines: z.int().min(1).default(1_000),
  /** Unsent bytes held before the provisioner is made to wait (back-pressure). */
  bufferBytes: z
    .int()
    .min(1024)
    .default(1 << 20),
});
export type LogBatchOptions = z.output<typeof LogBatchOptionsSchema>;

export const DaemonOptionsSchema = z
  .object({
    /**
     * The coordinator's endpoint. Without `connect` it speaks our gRPC protocol: grpc:// (or
     * http://) is plain, grpcs:// (or https://) is TLS.
     */
    coderUrl: z.url({
      protocol: /^(https?|grpcs?)$/,
      error: "must be an http://, https://, grpc:// or grpcs:// URL",
    }),
    /** Pre-shared key of our gRPC protocol; sent as call metadata, never logged. */
    psk: z.string().min(1, "must not be empty").optional(),
    /** A protocol adapter; our gRPC protocol when absent. */
    connect: z.custom<CoordinatorFactory>((v) => typeof v === "function").optional(),
    /** Stable daemon id; generated once and kept in `cacheDir` when not given. */
    daemonId: z.uuid().optional(),
    /** Where the daemon keeps its id (and where the CLI points the provisioner's caches). */
    cacheDir: z.string().min(1).optional(),
    name: z.string().min(1).default(hostname()),
    version: z.string().min(1).default(DAEMON_VERSION),
    /** Routing tags; a tagged job runs only on a daemon carrying all its tags. */
    tags: z.record(z.string().min(1, "tag keys must not be empty"), z.string()).default({}),
    /** Provisioners by type (e.g. the terraform one). */
    provisioners: z
      .array(z.custom<Provisioner>(isProvisioner, "must be a Provisioner (type + open())"))
      .min(1, "at least one provisioner is needed"),
    tls: z
      .object({
        /** PEM file of the CA bundle that signed coderd's certificate (system roots otherwise). */
        caFile: z.string().min(1).optional(),
        /** PEM file of the client certificate, for mutual TLS. */
        certFile: z.string().min(1).optional(),
        /** PEM file of the client key, for mutual TLS. */
        keyFile: z.string().min(1).optional(),
      })
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
        error: "certFile and keyFile go together",
      })
      .optional(),
    /** Jobs run at once, each in its own slot (own work dir and plugin cache). */
    concurrency: z
      .int()
      .min(1, { error: "expected a whole number of job slots, 1 or more" })
      .max(MAX_CONCURRENCY, { error: `expected at most ${MAX_CONCURRENCY} job slots` })
      .default(1),
    /** `stream`: coderd pushes jobs (falls back to `poll` when coderd lacks the stream). */
    acquireMode: z.enum(["stream", "poll"]).default("stream"),
    /** Above 0: polling back to back would hammer coderd. */
    pollIntervalMs: ms(1, 1_000),
    pollJitterMs: ms(0, 100),
    /** How long coderd may hold a unary acquire open (long poll); 0 = answer at once. */
    pollWaitMs: z.int().min(0).max(600_000).default(10_000),
    /** Time a cancelled job gets to stop gracefully before it is failed and killed. */
    forceCancelIntervalMs: ms(1, 10 * 60_000),
    heartbeatIntervalMs: ms(10, 500),
    /**
     * A job whose updates keep failing this long is failed locally and Terraform is stopped.
     * coderd (v0.17) gives up on a job after 30 s without an update, so stay below that.
     */
    heartbeatDeadlineMs: ms(100, 25_000),
    /** Per-attempt deadline of unary calls (retries follow on transport errors). */
    rpcTimeoutMs: ms(100, 30_000),
    /** Longest close() waits for the final FailJob and work-dir removal of forced jobs. */
    closeTimeoutMs: ms(0, 10_000),
    /** Take this many jobs, then drain and stop (autoscaled one-shot runners). */
    maxJobs: z.int().min(1).optional(),
    logBatch: LogBatchOptionsSchema.prefault({}),
    reconnect: z
      .object({ initialMs: ms(1, 50), maxMs: ms(1, 10_000) })
      .refine((r) => r.initialMs <= r.maxMs, { error: "initialMs must not exceed maxMs" })
      .prefault({}),
    logger: z.custom<Logger>(isLogger, "must be a pino logger").optional(),
    observer: z.custom<DaemonObserver>((v) => typeof v === "object" && v !== null).optional(),
  })
  .refine((o) => o.connect !== undefined || o.psk !== undefined, {
    error: "a pre-shared key is needed for the gRPC protocol",
    path: ["psk"],
  })
  .refine((o) => new Set(o.provisioners.map((p) => p.type)).size === o.provisioners.length, {
    error: "two provisioners have the same type",
    path: ["provisioners"],
  });

export type DaemonOptions = z.input<typeof DaemonOptionsSchema>;
export type DaemonConfig = z.output<typeof DaemonOptionsSchema>;

/**
 * One option problem as one phrase: the schema's message, then the value that was given when the
 * message does not already show it. `shown` is the value as the user typed it (the CLI passes the
 * flag's text); without it a number is shown as is, and nothing else (it might be a secret).
 */
export function describeIssue(issue: z.core.$ZodIssue, shown?: string): string {
  // Custom issues come from transforms whose messages already echo the value.
  if (issue.code === "custom") return issue.message;
  const given = shown ?? (typeof issue.input === "number" ? String(issue.input) : undefined);
  return given === undefined ? issue.message : `${issue.message}, got ${given}`;
}

/** Validates and fills defaults; throws DaemonOptionsError naming every bad field on one line. */
export function parseDaemonOptions(input: unknown): DaemonConfig {
  const result = DaemonOptionsSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".") || "(options)"}: ${describeIssue(issue)}`,
    );
    throw new DaemonOptionsError(`invalid daemon options: ${problems.join("; ")}`);
  }
  return result.data;
}
