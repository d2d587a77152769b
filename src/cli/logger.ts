// The process log: pino, JSON by default and pretty on a terminal. Secrets are kept out twice:
// by field (pino redaction of the keys that hold them) and by value (every registered secret is
// scrubbed from each serialized line, wherever it ended up: a message, an error, a binding).
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import { REDACTED, type SecretMasker } from "../terraform/redact.js";
import type { LogFormat, LogLevelName } from "./common-options.js";

export type { Logger } from "pino";

export { REDACTED } from "../terraform/redact.js";

/** Keys that carry secrets wherever they appear in a log object (two levels deep). */
export const REDACT_PATHS = [
  "psk",
  "token",
  "accessToken",
  "access_token",
  "password",
  "authorization",
  "*.psk",
  "*.token",
  "*.accessToken",
  "*.access_token",
  "*.password",
  "*.authorization",
];

export interface LoggerOptions {
  level: LogLevelName;
  /** undefined: pretty when the output is a terminal, JSON otherwise. */
  format: LogFormat | undefined;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  output?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Secret values known at run time (the PSK, given values), masked in every line. */
  secrets?: SecretMasker;
  /** Fields on every line (e.g. the daemon name). */
  base?: Record<string, unknown>;
}

export function resolveLogFormat(
  format: LogFormat | undefined,
  output: { isTTY?: boolean },
): LogFormat {
  return format ?? (output.isTTY ? "pretty" : "json");
}

/**
 * Job lines must carry `job_id`, whatever the emitting module bound (pino offers no hook for
 * child bindings), so the key is renamed in the serialized line. Only a JSON key can match:
 * inside a string value the quotes are escaped.
 */
function renameJobIdKey(line: string): string {
  return line.includes('"jobId":') ? line.replaceAll('"jobId":', '"job_id":') : line;
}

/** Every serialized line passes here before it is written (or pretty-printed). */
function cleaning(target: DestinationStream, secrets: SecretMasker | undefined): DestinationStream {
  return {
    write: (line: string) => {
      const renamed = renameJobIdKey(line);
      target.write(secrets ? secrets.redact(renamed) : renamed);
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const output = options.output ?? process.stderr;
  const format = resolveLogFormat(options.format, output);
  const target: DestinationStream =
    format === "pretty"
      ? pretty({
          destination: output,
          sync: true,
          colorize: Boolean(output.isTTY),
          ignore: "pid,hostname",
          translateTime: "SYS:HH:MM:ss.l",
        })
      : (output as DestinationStream);
  const destination = cleaning(target, options.secrets);
  return pino(
    {
      level: options.level,
      base: options.base ?? null,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
