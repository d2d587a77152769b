// Terraform output -> provisioner log lines.
import { z } from "zod";
import { LogLevel } from "../provisioner/model.js";
import type { ProvisionerLog } from "../provisioner/provisioner.js";
import {
  type Diagnostic,
  diagnosticHeadline,
  diagnosticSchema,
  snippetLines,
} from "./diagnostics.js";

/** One line of terraform's `-json` machine-readable UI output (only the fields we use). */
const jsonLogLine = z.object({
  "@level": z.string(),
  "@message": z.string(),
  diagnostic: diagnosticSchema.optional(),
});

export interface ConvertedLine {
  logs: ProvisionerLog[];
  /** The diagnostic the line carried, if any. */
  diagnostic?: Diagnostic;
}

/**
 * Converts one stdout line of `terraform plan/apply -json`. Non-JSON lines (terraform prints a
 * few, e.g. state lock notices) pass through at INFO; blank ones are dropped.
 */
export function convertJsonLogLine(line: string): ProvisionerLog[] {
  return readJsonLogLine(line).logs;
}

/** convertJsonLogLine, also handing back the line's diagnostic (for the command's error). */
export function readJsonLogLine(line: string): ConvertedLine {
  if (line.trim() === "") return { logs: [] };
  let parsed: z.infer<typeof jsonLogLine> | undefined;
  if (line.trimStart().startsWith("{")) {
    try {
      const result = jsonLogLine.safeParse(JSON.parse(line));
      if (result.success) parsed = result.data;
    } catch {
      // Not JSON after all: passed through below.
    }
  }
  if (parsed === undefined) return { logs: [{ level: LogLevel.INFO, output: line }] };
  const diagnostic = parsed.diagnostic;
  // A log line is one line: multi-line messages and details become several lines.
  const logs: ProvisionerLog[] = [];
  const message =
    diagnostic === undefined ? parsed["@message"] : located(parsed["@message"], diagnostic);
  for (const part of message.split("\n")) {
    logs.push(...withLevel(parsed["@level"], part));
  }
  if (diagnostic === undefined) return { logs };
  const level = diagnostic.severity ?? parsed["@level"];
  for (const code of snippetLines(diagnostic)) logs.push(...withLevel(level, code));
  // The summary is already the @message; the detail is what explains it.
  if (diagnostic.detail !== undefined && diagnostic.detail !== "") {
    for (const detail of diagnostic.detail.split("\n")) logs.push(...withLevel(level, detail));
  }
  return { logs, diagnostic };
}

/**
 * `Error: Invalid value for variable` -> `Error: main.tf:13: Invalid value for variable`: the
 * message is terraform's severity and summary, the location goes between them.
 */
function located(message: string, diagnostic: Diagnostic): string {
  const summary = diagnostic.summary ?? "";
  if (summary === "" || !message.endsWith(summary)) return message;
  return `${message.slice(0, message.length - summary.length)}${diagnosticHeadline(diagnostic)}`;
}

function withLevel(level: string, output: string): ProvisionerLog[] {
  const converted = convertLogLevel(level);
  if (converted !== undefined) return [{ level: converted, output }];
  return [
    { level: LogLevel.WARN, output: `unable to convert log level ${level}` },
    { level: LogLevel.INFO, output },
  ];
}

/**
 * Terraform level names -> LogLevel, case-insensitively; undefined for an unknown name.
 * Reference quirk fixed: diagnostics use severity "warning", which the reference did not know
 * (it logged an extra "unable to convert log level warning" line and used INFO).
 */
export function convertLogLevel(level: string): LogLevel | undefined {
  switch (level.toLowerCase()) {
    case "trace":
      return LogLevel.TRACE;
    case "debug":
      return LogLevel.DEBUG;
    case "info":
      return LogLevel.INFO;
    case "warn":
    case "warning":
      return LogLevel.WARN;
    case "error":
      return LogLevel.ERROR;
    default:
      return undefined;
  }
}
