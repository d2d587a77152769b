// Public API of the daemon: what the CLI (and the local build mode) use.

export { CLAIM_FILE, claimCacheDir } from "./cache-dir-claim.js";
export { CoderdClient, type CoderdClientOptions, grpcTarget } from "./coderd-client.js";
export type { JobCoordinator } from "./coordinator.js";
export { createDaemon, type Daemon, type ShutdownMode } from "./daemon.js";
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
