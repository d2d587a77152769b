// The fake coderd's rules about message shapes, kept apart from the server plumbing.
import { LogLevel } from "../../src/proto/provisioner.js";
import { type DaemonIdentity, type Log, LogSource } from "../../src/proto/provisionerd.js";

export const KNOWN_ERROR_CODES = new Set([
  "",
  "ARCHIVE",
  "PARSE",
  "CANCELED",
  "TERRAFORM",
  "CONVERSION",
  "PARAMETERS",
  "QUOTA",
  "SHUTDOWN",
  "HEARTBEAT",
  "UNSUPPORTED",
  "INTERNAL",
]);

/** A tagged job runs only on a daemon carrying all its tags; untagged only on untagged. */
export function tagsMatch(
  jobTags: Record<string, string>,
  daemonTags: Record<string, string>,
): boolean {
  const jobEntries = Object.entries(jobTags);
  if (jobEntries.length === 0) return Object.keys(daemonTags).length === 0;
  return jobEntries.every(([key, value]) => daemonTags[key] === value);
}

export function identityProblem(
  identity: DaemonIdentity | undefined,
  callerId: string,
): string | undefined {
  if (identity === undefined) return "daemon identity missing";
  if (identity.id !== callerId)
    return `daemon identity id "${identity.id}" does not match call metadata "${callerId}"`;
  if (identity.provisioners.length === 0) return "daemon identity lists no provisioners";
  if (identity.name === "") return "daemon identity has no name";
  return undefined;
}

export function logShapeProblem(log: Log): string | undefined {
  if (!Number.isInteger(log.sequence) || log.sequence < 1)
    return `log sequence ${log.sequence} is not a positive integer`;
  if (log.stage === "") return `log ${log.sequence} has no stage`;
  if (!(log.createdAt > 0)) return `log ${log.sequence} has no created_at`;
  if (log.source !== LogSource.PROVISIONER && log.source !== LogSource.PROVISIONER_DAEMON) {
    return `log ${log.sequence} has unknown source ${log.source}`;
  }
  if (!(log.level >= LogLevel.TRACE && log.level <= LogLevel.ERROR))
    return `log ${log.sequence} has unknown level ${log.level}`;
  return undefined;
}

export function sameLine(a: Log, b: Log): boolean {
  return (
    a.stage === b.stage && a.output === b.output && a.source === b.source && a.level === b.level
  );
}
