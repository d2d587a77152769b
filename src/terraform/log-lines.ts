// Terraform output -> provisioner log lines (terraform.md §7).
import { z } from "zod";
import { LogLevel } from "../proto/provisioner.js";
import type { ProvisionerLog } from "../provisioner/provisioner.js";

/** One line of terraform's `-json` machine-readable UI output (only the fields we use). */
const jsonLogLine = z.object({
  "@level": z.string(),
  "@message": z.string(),
  diagnostic: z
    .object({
      severity: z.string().optional(),
      summary: z.string().optional(),
      detail: z.string().optional(),
    })
    .optional(),
});

/**
 * Converts one stdout line of `terraform plan/apply -json`. Non-JSON lines (terraform prints a
 * few, e.g. state lock notices) pass through at INFO; blank ones are dropped.
 */
export function convertJsonLogLine(line: string): ProvisionerLog[] {
  if (line.trim() === "") return [];
  let parsed: z.infer<typeof jsonLogLine> | undefined;
  if (line.trimStart().startsWith("{")) {
    try {
      const result = jsonLogLine.safeParse(JSON.parse(line));
      if (result.success) parsed = result.data;
    } catch {
      // Not JSON after all: passed through below.
    }
  }
  if (parsed === undefined) return [{ level: LogLevel.INFO, output: line }];
  // A log line is one line: multi-line messages and details become several lines.
  const logs: ProvisionerLog[] = [];
  for (const message of parsed["@message"].split("\n")) {
    logs.push(...withLevel(parsed["@level"], message));
  }
  const diagnostic = parsed.diagnostic;
  // The summary is already the @message; the detail is what explains it.
  if (diagnostic?.detail !== undefined && diagnostic.detail !== "") {
    for (const detail of diagnostic.detail.split("\n")) {
      logs.push(...withLevel(diagnostic.severity ?? parsed["@level"], detail));
    }
  }
  return logs;
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
