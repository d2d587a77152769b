// Typed errors of the daemon. Callers branch on the class (or `code`), never on message text.
import type { ProvisionErrorCode } from "../provisioner/provisioner.js";

/**
 * coderd refused our credentials (wrong or missing PSK, or a TLS client certificate it does not
 * accept). Fatal: retrying cannot help, so the daemon stops and `done` rejects with this error;
 * the CLI exits non-zero on it.
 */
export class AuthenticationRefusedError extends Error {
  override readonly name = "AuthenticationRefusedError";
  /** Which credential was refused, so the operator is pointed at the right setting. */
  readonly credential: "psk" | "tls-client-certificate" | "session-token" | "provisioner-key";
  constructor(
    details: string,
    options?: { cause?: unknown; credential?: AuthenticationRefusedError["credential"] },
  ) {
    super(`coderd refused the provisioner daemon's credentials: ${details}`, {
      cause: options?.cause,
    });
    this.credential = options?.credential ?? "psk";
  }
}

/** The call did not reach coderd or its answer was lost: safe to retry. */
export class TransportError extends Error {
  override readonly name = "TransportError";
  readonly grpcCode: number | undefined;
  constructor(message: string, options?: { grpcCode?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.grpcCode = options?.grpcCode;
  }
}

/**
 * coderd answered and said no (job not ours, job already completed, bad request...). Retrying
 * the same call gives the same answer.
 */
export class CoordinatorRefusedError extends Error {
  override readonly name: string = "CoordinatorRefusedError";
  readonly grpcCode: number | undefined;
  constructor(message: string, options?: { grpcCode?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.grpcCode = options?.grpcCode;
  }
}

/** coderd does not implement the called method (e.g. an older coderd without the stream). */
export class UnimplementedError extends CoordinatorRefusedError {
  override readonly name: string = "UnimplementedError";
}

/** Options given to createDaemon were invalid; the message names every bad field. */
export class DaemonOptionsError extends Error {
  override readonly name = "DaemonOptionsError";
}

/** The persisted daemon id file exists but cannot be used. */
export class DaemonIdError extends Error {
  override readonly name = "DaemonIdError";
}

/** The cache dir is in use by another daemon process (or cannot be claimed). Fatal at start. */
export class CacheDirInUseError extends Error {
  override readonly name = "CacheDirInUseError";
}

/** An operation was called in a lifecycle state that does not allow it. */
export class DaemonStateError extends Error {
  override readonly name = "DaemonStateError";
}

/**
 * Category of a job failure, sent to coderd as FailedJob.error_code: a provisioner's own
 * category passes through unchanged (asJobFailure), the others only the daemon can tell.
 */
export type JobErrorCode = ProvisionErrorCode | "QUOTA" | "SHUTDOWN" | "HEARTBEAT" | "UNSUPPORTED";

/**
 * Why a job failed, as it goes to coderd. `state` is the Terraform state a failed build left
 * behind, so coderd does not forget infrastructure that exists.
 *
 * Two classes on purpose: a provisioner throws ProvisionError, whose codes are only what a
 * provisioner can know, and the provisioner contract does not depend on the daemon; JobFailure
 * adds the daemon's own categories (quota, shutdown, lost contact, unsupported). `asJobFailure`
 * is the one place where the first becomes the second.
 */
export class JobFailure extends Error {
  override readonly name = "JobFailure";
  readonly code: JobErrorCode;
  readonly state: Uint8Array | undefined;
  constructor(
    message: string,
    options: { code: JobErrorCode; state?: Uint8Array | undefined; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.state = options.state;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");
}
