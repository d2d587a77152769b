// `provisionerd start`: the daemon, with its logs, metrics and health endpoints, until a
// signal stops it (SIGTERM drains, SIGINT cancels, a second signal forces) or `--max-jobs` jobs
// ran. A refusal of our credentials is fatal: logged, and the exit code is 1, never a hang.
import {
  AuthenticationRefusedError,
  createDaemon,
  type Daemon,
  handleShutdownSignals,
} from "../daemon/index.js";
import { createTerraformProvisioner } from "../terraform/index.js";
import {
  checkJobDirectories,
  checkTerraformOption,
  providerMirrorOption,
} from "./common-options.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { createLogger, SecretValues } from "./logger.js";
import { DaemonMetrics } from "./metrics.js";
import type { CliIo } from "./program.js";
import { combineObservers, ReadinessTracker } from "./readiness.js";
import type { StartConfig } from "./start-config.js";
import { ReportedError } from "./usage-error.js";

function tlsOption(config: StartConfig) {
  const { caFile, certFile, keyFile } = config.tls;
  if (caFile === undefined && certFile === undefined) return {};
  return {
    tls: {
      ...(caFile !== undefined ? { caFile } : {}),
      ...(certFile !== undefined ? { certFile } : {}),
      ...(keyFile !== undefined ? { keyFile } : {}),
    },
  };
}

/** Points the operator at the setting behind a refused credential. */
function refusalHint(error: unknown): string | undefined {
  if (!(error instanceof AuthenticationRefusedError)) return undefined;
  return error.credential === "tls-client-certificate"
    ? "coderd wants a client certificate it trusts: check --tls-cert and --tls-key (CODER_PROVISIONERD_TLS_CERT, CODER_PROVISIONERD_TLS_KEY)"
    : "check CODER_PROVISIONER_DAEMON_PSK (--psk) against coderd's provisioner daemon PSK";
}

export async function runStart(config: StartConfig, io: CliIo): Promise<number> {
  const secrets = new SecretValues();
  secrets.add(config.psk);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    output: io.stderr,
    secrets,
  });
  await checkJobDirectories(config);

  const metrics = new DaemonMetrics({ concurrency: config.concurrency });
  const readiness = new ReadinessTracker();
  const provisioner = createTerraformProvisioner({
    terraformPath: config.terraformPath,
    workDirRoot: config.workDir,
    cacheDir: config.cacheDir,
    ...providerMirrorOption(config.providerMirror),
    logger,
  });
  await checkTerraformOption(provisioner);
  const daemon: Daemon = createDaemon({
    // gRPC has no path prefix: the origin is the endpoint.
    coderUrl: config.coderUrl.origin,
    psk: config.psk,
    cacheDir: config.cacheDir,
    name: config.name,
    tags: config.tags,
    provisioners: [provisioner],
    ...tlsOption(config),
    concurrency: config.concurrency,
    pollIntervalMs: config.pollIntervalMs,
    pollJitterMs: config.pollJitterMs,
    forceCancelIntervalMs: config.forceCancelIntervalMs,
    ...(config.maxJobs > 0 ? { maxJobs: config.maxJobs } : {}),
    logger,
    observer: combineObservers(metrics, readiness),
  });

  let health: HealthServer | undefined;
  if (config.metricsAddress !== undefined) {
    try {
      health = await startHealthServer({
        address: config.metricsAddress,
        readiness: () => readiness.readiness(),
        metrics,
      });
    } catch (error) {
      logger.fatal((error as Error).message);
      throw new ReportedError((error as Error).message);
    }
    logger.info({ url: health.url }, "serving /healthz, /readyz and /metrics");
  }

  const removeSignalHandlers = handleShutdownSignals(daemon, { logger });
  try {
    logger.info(
      {
        coderUrl: config.coderUrl.origin,
        name: config.name,
        tags: config.tags,
        concurrency: config.concurrency,
        maxJobs: config.maxJobs,
        workDir: config.workDir,
        cacheDir: config.cacheDir,
        providerMirror: providerMirrorOption(config.providerMirror).providerMirror,
      },
      "starting provisioner daemon",
    );
    await daemon.start();
    await daemon.done;
    logger.info("provisioner daemon stopped");
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = refusalHint(error);
    logger.fatal({ ...(hint ? { hint } : {}) }, message);
    return 1;
  } finally {
    removeSignalHandlers();
    await health?.close();
  }
}
