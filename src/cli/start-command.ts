// `provisionerd start`: the daemon, with its logs, metrics and health endpoints, until a
// signal stops it (SIGTERM drains, SIGINT cancels, a second signal forces) or `--max-jobs` jobs
// ran. A refusal of our credentials is fatal: logged, and the exit code is 1, never a hang.
import { readFile } from "node:fs/promises";
import { coderdV017 } from "../coderd/adapters/v017-adapter.js";
import {
  AuthenticationRefusedError,
  createDaemon,
  type Daemon,
  handleShutdownSignals,
} from "../daemon/index.js";
import { createTerraformProvisioner } from "../terraform/index.js";
import { SecretMasker, unmaskedSecretNotice } from "../terraform/redact.js";
import {
  checkJobDirectories,
  checkTerraformOption,
  providerMirrorOption,
} from "./common-options.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { createLogger } from "./logger.js";
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

const REFUSAL_HINTS: Record<AuthenticationRefusedError["credential"], string> = {
  "tls-client-certificate":
    "coderd wants a client certificate it trusts: check --tls-cert and --tls-key (CODER_PROVISIONERD_TLS_CERT, CODER_PROVISIONERD_TLS_KEY)",
  psk: "check CODER_PROVISIONER_DAEMON_PSK (--psk) against coderd's provisioner daemon PSK",
  "session-token":
    "check CODER_SESSION_TOKEN (--token): a valid session token of a user allowed to create provisioner daemons",
  "provisioner-key": "check the provisioner key against the ones coderd lists for the organization",
};

/** Points the operator at the setting behind a refused credential. */
function refusalHint(error: unknown): string | undefined {
  if (!(error instanceof AuthenticationRefusedError)) return undefined;
  return REFUSAL_HINTS[error.credential];
}

/** The protocol adapter the URL selects; undefined = our gRPC protocol (the daemon's own). */
async function coordinatorOption(config: StartConfig) {
  if (config.protocol === "grpc") {
    // gRPC has no path prefix: the host is the endpoint (a grpc: URL has no web origin).
    const scheme = config.coderUrl.protocol === "grpcs:" ? "https" : "http";
    return { coderUrl: `${scheme}://${config.coderUrl.host}`, psk: config.psk };
  }
  const { caFile, certFile, keyFile } = config.tls;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFile(file));
  const [ca, cert, key] = await Promise.all([read(caFile), read(certFile), read(keyFile)]);
  return {
    coderUrl: config.coderUrl.href,
    connect: coderdV017({
      coderUrl: config.coderUrl,
      organization: config.organization ?? "",
      sessionToken: config.token ?? "",
      tags: config.tags,
      connect: { tls: { ca, cert, key } },
    }),
  };
}

export async function runStart(config: StartConfig, io: CliIo): Promise<number> {
  const secrets = new SecretMasker();
  const credentials = { "--psk": config.psk, "--token": config.token };
  const unmasked = Object.entries(credentials).filter(
    ([, value]) => value !== undefined && !secrets.add(value),
  );
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    output: io.stderr,
    secrets,
  });
  for (const [flag] of unmasked) logger.warn(unmaskedSecretNotice(`setting ${flag}`));
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
    ...(await coordinatorOption(config)),
    cacheDir: config.cacheDir,
    name: config.name,
    tags: config.tags,
    provisioners: [provisioner],
    ...(config.protocol === "grpc" ? tlsOption(config) : {}),
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
        coderUrl: `${config.coderUrl.protocol}//${config.coderUrl.host}`,
        protocol: config.protocol,
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
