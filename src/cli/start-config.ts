// `provisionerd start`: every setting as a flag and an environment variable, validated into one
// StartConfig. The env names follow the reference daemon where it had one.
import os from "node:os";
import { z } from "zod";
import {
  DaemonOptionsSchema,
  pemCertificatesProblem,
  pemPrivateKeyProblem,
} from "../daemon/index.js";
import { LOG_FORMATS, LOG_LEVELS, logOptionSpecs, terraformOptionSpecs } from "./common-options.js";
import type { OptionSpec, RawOptions } from "./option-spec.js";
import { envName, parseOptions } from "./option-spec.js";
import {
  coordinatorUrl,
  directoryPath,
  durationMs,
  executable,
  integer,
  keyValues,
  listenAddress,
  oneOf,
  pemFile,
  providerMirror,
  requiredString,
} from "./value-schemas.js";

export function startOptionSpecs(env: NodeJS.ProcessEnv): OptionSpec[] {
  return [
    {
      key: "coderUrl",
      flags: "--coder-url <url>",
      env: "CODER_URL",
      description:
        "coderd's access URL (http:// or https://), or grpc:// / grpcs:// for our own gRPC protocol",
      required: true,
    },
    {
      key: "psk",
      flags: "--psk <key>",
      env: "CODER_PROVISIONER_DAEMON_PSK",
      description:
        "pre-shared key: of the gRPC protocol (grpc:// URLs), or coderd v2's provisioner daemon PSK (default organization only; prefer the env var: flags show in ps)",
      secret: true,
    },
    {
      key: "key",
      flags: "--key <key>",
      env: "CODER_PROVISIONER_DAEMON_KEY",
      description:
        "coderd v2 provisioner key; coderd takes the organization and tags from it (prefer the env var)",
      secret: true,
    },
    {
      key: "token",
      flags: "--token <token>",
      env: "CODER_SESSION_TOKEN",
      description:
        "session token of a coderd user allowed to create provisioner daemons (http(s):// URLs; prefer the env var)",
      secret: true,
    },
    {
      key: "organization",
      flags: "--organization <id>",
      env: "CODER_ORGANIZATION",
      description:
        "organization whose jobs the daemon takes (http(s):// URLs): its id for coderd v0.17, its id or name for v2",
      defaultDescription: "coderd v2: the default organization",
    },
    {
      key: "coderdApi",
      flags: "--coderd-api <generation>",
      env: "CODER_PROVISIONERD_CODERD_API",
      description: `coderd's generation for http(s):// URLs: ${CODERD_APIS.join(" or ")}`,
      defaultDescription: "asked from coderd (GET /api/v2/buildinfo); v2 when that fails",
    },
    {
      key: "tag",
      flags: "-t, --tag <key=value>",
      env: "CODER_PROVISIONERD_TAGS",
      description:
        "routing tag, repeatable; the env var takes a comma-separated list. A tagged daemon takes only jobs whose tags it all carries",
      defaultDescription: "none (takes untagged jobs only)",
      repeatable: true,
    },
    {
      key: "name",
      flags: "--name <name>",
      // Coder's own `coder provisioner start` reads the first name; ours read the second first.
      env: envName(env, "CODER_PROVISIONER_DAEMON_NAME", "CODER_PROVISIONERD_NAME"),
      description:
        "daemon name shown in coderd (the env var's older name CODER_PROVISIONERD_NAME is read too)",
      default: os.hostname(),
    },
    {
      key: "concurrency",
      flags: "--concurrency <n>",
      env: "CODER_PROVISIONERD_CONCURRENCY",
      description: "jobs run at once, each in its own slot with its own work dir and plugin cache",
      default: "1",
    },
    {
      key: "pollInterval",
      flags: "--poll-interval <duration>",
      env: "CODER_PROVISIONERD_POLL_INTERVAL",
      description: "wait between acquire polls when coderd has no acquire stream",
      default: "1s",
    },
    {
      key: "pollJitter",
      flags: "--poll-jitter <duration>",
      env: "CODER_PROVISIONERD_POLL_JITTER",
      description: "random extra wait added to each poll interval",
      default: "100ms",
    },
    {
      key: "forceCancelInterval",
      flags: "--force-cancel-interval <duration>",
      env: "CODER_PROVISIONERD_FORCE_CANCEL_INTERVAL",
      description:
        "after a cancel, how long terraform may take to stop before the job is failed and killed",
      default: "10m",
    },
    ...terraformOptionSpecs(env),
    {
      key: "tlsCa",
      flags: "--tls-ca <file>",
      env: "CODER_PROVISIONERD_TLS_CA",
      description: "PEM CA bundle to verify coderd's certificate",
      defaultDescription: "system CAs",
    },
    {
      key: "tlsCert",
      flags: "--tls-cert <file>",
      env: "CODER_PROVISIONERD_TLS_CERT",
      description: "PEM client certificate (with --tls-key) for mutual TLS",
    },
    {
      key: "tlsKey",
      flags: "--tls-key <file>",
      env: "CODER_PROVISIONERD_TLS_KEY",
      description: "PEM private key of --tls-cert",
    },
    ...logOptionSpecs(),
    {
      key: "metricsAddress",
      flags: "--metrics-address <host:port>",
      env: "CODER_PROVISIONERD_METRICS_ADDRESS",
      description: "serve /healthz, /readyz and Prometheus /metrics on this address",
      defaultDescription: "off",
    },
    {
      key: "maxJobs",
      flags: "--max-jobs <n>",
      env: "CODER_PROVISIONERD_MAX_JOBS",
      description:
        "exit 0 after this many jobs (one-shot runners in autoscaled pools); 0 = no limit",
      default: "0",
    },
  ];
}

/** The coderd generations an http(s):// URL can speak. */
export const CODERD_APIS = ["v0.17", "v2"] as const;
export type CoderdApi = (typeof CODERD_APIS)[number];

/** What coderd v0.17 needs that v2 does not: flag → the line that says so. */
export const V017_REQUIRED = {
  token: "required with coderd v0.17: set CODER_SESSION_TOKEN (or --token)",
  organization:
    "required with coderd v0.17: set CODER_ORGANIZATION (or --organization) to the organization's id",
} as const;

/** Which wire protocol a URL selects: our gRPC one, or real coderd's WebSocket/dRPC one. */
export function protocolOf(url: URL): "grpc" | "coderd" {
  return url.protocol === "grpc:" || url.protocol === "grpcs:" ? "grpc" : "coderd";
}

export function startConfigSchema(env: NodeJS.ProcessEnv) {
  const daemon = DaemonOptionsSchema.shape;
  return z
    .object({
      coderUrl: requiredString("required: set --coder-url or CODER_URL").pipe(
        coordinatorUrl("https://coder.example.com"),
      ),
      psk: requiredString("expected a non-empty key").optional(),
      key: requiredString("expected a non-empty provisioner key").optional(),
      coderdApi: oneOf(CODERD_APIS).optional(),
      token: requiredString("expected a non-empty session token").optional(),
      organization: requiredString("expected an organization id").optional(),
      tag: keyValues("a tag"),
      name: requiredString("expected a non-empty daemon name"),
      // Limits are the daemon's own, so a value the CLI accepts is one the daemon takes.
      concurrency: integer("a whole number of job slots").pipe(daemon.concurrency.unwrap()),
      pollInterval: durationMs.pipe(daemon.pollIntervalMs.unwrap()),
      pollJitter: durationMs.pipe(daemon.pollJitterMs.unwrap()),
      forceCancelInterval: durationMs.pipe(daemon.forceCancelIntervalMs.unwrap()),
      terraformPath: executable(env.PATH),
      providerMirror: providerMirror.optional(),
      cacheDir: directoryPath,
      workDir: directoryPath,
      tlsCa: pemFile("a PEM CA bundle", pemCertificatesProblem).optional(),
      tlsCert: pemFile("a PEM certificate", pemCertificatesProblem).optional(),
      tlsKey: pemFile("a PEM private key", pemPrivateKeyProblem).optional(),
      logLevel: oneOf(LOG_LEVELS),
      logFormat: oneOf(LOG_FORMATS).optional(),
      metricsAddress: listenAddress.optional(),
      // 0 is the CLI's "no limit"; the daemon takes a limit or none.
      maxJobs: integer("a whole number of jobs, 0 for no limit", 0),
    })
    .superRefine((config, ctx) => {
      if (config.tlsCert !== undefined && config.tlsKey === undefined) {
        ctx.addIssue({ code: "custom", path: ["tlsKey"], message: "required with --tls-cert" });
      }
      if (config.tlsKey !== undefined && config.tlsCert === undefined) {
        ctx.addIssue({ code: "custom", path: ["tlsCert"], message: "required with --tls-key" });
      }
      const usesTls = [config.tlsCa, config.tlsCert].some((file) => file !== undefined);
      if (usesTls && !/^(https|grpcs):$/.test(config.coderUrl.protocol)) {
        ctx.addIssue({
          code: "custom",
          path: ["coderUrl"],
          message: `TLS files were given, so expected an https:// or grpcs:// URL, got ${JSON.stringify(config.coderUrl.href)}`,
        });
      }
      const needs = (key: "psk" | "token" | "organization", message: string) => {
        if (config[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message });
      };
      if (protocolOf(config.coderUrl) === "grpc") {
        needs("psk", "required with a grpc:// URL: set CODER_PROVISIONER_DAEMON_PSK (or --psk)");
      } else if (config.coderdApi === "v0.17") {
        needs("token", V017_REQUIRED.token);
        needs("organization", V017_REQUIRED.organization);
      } else {
        if ([config.token, config.psk, config.key].every((c) => c === undefined)) {
          ctx.addIssue({
            code: "custom",
            path: ["token"],
            message:
              "required with an http(s):// URL: set CODER_SESSION_TOKEN (--token), CODER_PROVISIONER_DAEMON_PSK (--psk) or CODER_PROVISIONER_DAEMON_KEY (--key)",
          });
        }
        if (config.key !== undefined && Object.keys(config.tag).length > 0) {
          ctx.addIssue({
            code: "custom",
            path: ["tag"],
            message:
              "cannot be given with a provisioner key (--key, CODER_PROVISIONER_DAEMON_KEY): coderd takes the tags from the key",
          });
        }
      }
    })
    .transform((config) => ({
      coderUrl: config.coderUrl,
      protocol: protocolOf(config.coderUrl),
      psk: config.psk,
      key: config.key,
      token: config.token,
      coderdApi: config.coderdApi,
      organization: config.organization,
      tags: config.tag,
      name: config.name,
      concurrency: config.concurrency,
      pollIntervalMs: config.pollInterval,
      pollJitterMs: config.pollJitter,
      forceCancelIntervalMs: config.forceCancelInterval,
      terraformPath: config.terraformPath,
      providerMirror: config.providerMirror,
      cacheDir: config.cacheDir,
      workDir: config.workDir,
      tls: { caFile: config.tlsCa, certFile: config.tlsCert, keyFile: config.tlsKey },
      logLevel: config.logLevel,
      logFormat: config.logFormat,
      metricsAddress: config.metricsAddress,
      maxJobs: config.maxJobs,
    }));
}

/** The validated settings of `provisionerd start`. */
export type StartConfig = z.output<ReturnType<typeof startConfigSchema>>;

export function parseStartConfig(
  raw: RawOptions,
  specs: readonly OptionSpec[],
  env: NodeJS.ProcessEnv,
): StartConfig {
  return parseOptions(startConfigSchema(env), raw, specs);
}
