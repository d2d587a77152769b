// `provisionerd start`: the daemon, with its logs, metrics and health endpoints, until a
// signal stops it (SIGTERM drains, SIGINT cancels, a second signal forces) or `--max-jobs` jobs
// ran. A refusal of our credentials is fatal: logged, and the exit code is 1, never a hang.
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { coderdV2 } from "../coderd/adapters/v2-adapter.js";
import { coderdV017 } from "../coderd/adapters/v017-adapter.js";
import type { CoderdCredential } from "../coderd/handshake.js";
import {
  AuthenticationRefusedError,
  createDaemon,
  DAEMON_VERSION,
  type Daemon,
  handleShutdownSignals,
} from "../daemon/index.js";
import { createTerraformProvisioner } from "../terraform/index.js";
import { SecretMasker, unmaskedSecretNotice } from "../terraform/redact.js";
import type { CliIo } from "./cli-io.js";
import { detectCoderdApi } from "./coderd-generation.js";
import {
  checkJobDirectories,
  checkTerraformOption,
  providerMirrorOption,
} from "./common-options.js";
import { type HealthServer, startHealthServer } from "./health-server.js";
import { createLogger } from "./logger.js";
import { DaemonMetrics } from "./metrics.js";
import { combineObservers, ReadinessTracker } from "./readiness.js";
import { type StartConfig, V017_REQUIRED } from "./start-config.js";
import { ReportedError, UsageError } from "./usage-error.js";

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

/** coderd v2's credentials in the order Coder's own daemon prefers them. */
function v2Credential(config: StartConfig): CoderdCredential {
  if (config.key !== undefined) return { kind: "provisioner-key", key: config.key };
  if (config.psk !== undefined) return { kind: "psk", psk: config.psk };
  return { kind: "session-token", token: config.token ?? "" };
}

/**
 * The protocol adapter the URL selects; for http(s):// the coderd generation too, from
 * --coderd-api or coderd's buildinfo. The poll interval is 0 for coderd v2, whose acquire call
 * waits for a job itself.
 */
async function coordinatorOption(config: StartConfig, logger: Logger) {
  if (config.protocol === "grpc") {
    // gRPC has no path prefix: the host is the endpoint (a grpc: URL has no web origin).
    const scheme = config.coderUrl.protocol === "grpcs:" ? "https" : "http";
    return { coderUrl: `${scheme}://${config.coderUrl.host}`, psk: config.psk };
  }
  const { caFile, certFile, keyFile } = config.tls;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFile(file));
  const [ca, cert, key] = await Promise.all([read(caFile), read(certFile), read(keyFile)]);
  let api = config.coderdApi;
  if (api === undefined) {
    const choice = await detectCoderdApi(config.coderUrl, { ca, cert, key });
    api = choice.api;
    if (choice.version === undefined) {
      logger.warn(
        { coderdApi: api, problem: choice.problem },
        "could not tell coderd's generation from its buildinfo; speaking coderd v2 (set --coderd-api to choose)",
      );
    } else {
      logger.info({ coderdApi: api, coderdVersion: choice.version }, "coderd generation detected");
    }
  } else {
    logger.info({ coderdApi: api }, "coderd generation set by --coderd-api");
  }
  const connect = { tls: { ca, cert, key } };
  if (api === "v0.17") {
    const missing = (["token", "organization"] as const)
      .filter((key) => config[key] === undefined)
      .map((key) => `--${key}: ${V017_REQUIRED[key]}`);
    if (missing.length > 0) throw new UsageError(missing);
    return {
      coderUrl: config.coderUrl.href,
      connect: coderdV017({
        coderUrl: config.coderUrl,
        organization: config.organization ?? "",
        sessionToken: config.token ?? "",
        tags: config.tags,
        connect,
      }),
    };
  }
  return {
    coderUrl: config.coderUrl.href,
    connect: coderdV2({
      coderUrl: config.coderUrl,
      organization: config.organization,
      credential: v2Credential(config),
      tags: config.tags,
      name: config.name,
      buildVersion: DAEMON_VERSION,
      connect,
    }),
  };
}

export async function runStart(config: StartConfig, io: CliIo): Promise<number> {
  const secrets = new SecretMasker();
  const credentials = { "--psk": config.psk, "--key": config.key, "--token": config.token };
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
    pollIntervalMs: config.pollIntervalMs,
    ...(await coordinatorOption(config, logger)),
    cacheDir: config.cacheDir,
    name: config.name,
    tags: config.tags,
    provisioners: [provisioner],
    ...(config.protocol === "grpc" ? tlsOption(config) : {}),
    concurrency: config.concurrency,
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
