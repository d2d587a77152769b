// Public API of the daemon: what the CLI (and the local build mode) use.
import { connectGrpc } from "../coderd/adapters/grpc-client.js";
import { createDaemon as createDaemonWithAdapter, type Daemon } from "./daemon.js";
import type { DaemonOptions } from "./options.js";

/**
 * A provisioner daemon. Its coordinator is `options.connect` (a protocol adapter); without one,
 * it speaks our gRPC protocol to `coderUrl` with `psk` and `tls`.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  if (options.connect !== undefined || options.psk === undefined)
    return createDaemonWithAdapter(options);
  const { coderUrl, psk, tls } = options;
  return createDaemonWithAdapter({ ...options, connect: connectGrpc({ coderUrl, psk, tls }) });
}

export {
  CoderdClient,
  type CoderdClientOptions,
  connectGrpc,
  grpcTarget,
} from "../coderd/adapters/grpc-client.js";
export { CLAIM_FILE, claimCacheDir } from "./cache-dir-claim.js";
export type { JobCoordinator } from "./coordinator.js";
export type { Daemon, ShutdownMode } from "./daemon.js";
export { DAEMON_ID_FILE, defaultCacheDir, loadOrCreateDaemonId } from "./daemon-id.js";
export {
  AuthenticationRefusedError,
  CacheDirInUseError,
  CoordinatorRefusedError,
  DaemonIdError,
  DaemonOptionsError,
  DaemonStateError,
  type JobErrorCode,
  JobFailure,
  TransportError,
  UnimplementedError,
} from "./errors.js";
export { RESCUED_STATE_DIR } from "./job-records.js";
export { type JobResult, resultState } from "./job-result.js";
export {
  DEFAULT_JOB_TIMING,
  jobTypeOf,
  type RunJobOptions,
  type RunJobTiming,
  runJob,
} from "./job-runner.js";
export { FAILURE, MISSING_PARAMETER, STAGE } from "./job-texts.js";
export type {
  DaemonObserver,
  DaemonState,
  JobStage,
  JobStatus,
  JobType,
  ObservedJob,
} from "./observer.js";
export {
  type DaemonConfig,
  type DaemonOptions,
  DaemonOptionsSchema,
  describeIssue,
  type LogBatchOptions,
  LogBatchOptionsSchema,
  MAX_CONCURRENCY,
  parseDaemonOptions,
} from "./options.js";
export { handleShutdownSignals, type SignalHandlingOptions } from "./signals.js";
export { pemCertificatesProblem, pemPrivateKeyProblem } from "./tls.js";
export { DAEMON_VERSION } from "./version.js";
