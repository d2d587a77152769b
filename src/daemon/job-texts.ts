// Every text of a job that coderd shows or keys on, exactly as Coder's own daemon writes it:
// stage names, failure texts and the prefixes that say which step failed, and the quota lines.
// coderd's UI and CLI key on them, so they live here and nowhere else.
export const STAGE = {
  settingUp: "Setting up",
  noReadme: "No README.md provided",
  addingReadme: "Adding README.md...",
  parsingParameters: "Parsing template parameters",
  parseParameters: "Parse parameters",
  persistentResources: "Detecting persistent resources",
  ephemeralResources: "Detecting ephemeral resources",
  planning: "Planning infrastructure",
  commitQuota: "Commit quota",
  starting: "Starting workspace",
  stopping: "Stopping workspace",
  destroying: "Destroying workspace",
  cleaningUp: "Cleaning Up",
} as const;

/** The text coderd's CLI and UI look for to prompt for legacy parameter values. */
export const MISSING_PARAMETER = "missing parameter";

export const FAILURE = {
  shutdown: "provisioner daemon was shutdown gracefully",
  canceled: "job was canceled",
  /** Ours: a graceful cancel because the daemon shuts down. */
  shuttingDown: "canceled: provisioner daemon is shutting down",
  heartbeat: "send periodic update: ",
  sendLogs: "send logs: ",
  commitQuota: "commit quota: ",
  cancelTimedOut: "Cancel timed out",
  noProvisioner: (name: string) => `no provisioner ${name}`,
  unknownJobType: (type: string) =>
    `unknown job type "${type}"; ensure your provisioner daemon is up-to-date`,
  insufficientQuota: "insufficient quota",
  richWithLegacy: "invalid use of rich parameters",
  /** Ours: coderd pushed a job without a credit for it. */
  noFreeSlot: "provisioner daemon has no free slot: coderd sent more jobs than it was offered",
} as const;

/** Prefixes a failure gets from the step it happened in (the cause's text follows). */
export const FAILURE_PREFIX = {
  parse: "run parse: ",
  dryRun: "run dry-run provision job: ",
  importPlan: (transition: "start" | "stop") => `template import provision for ${transition}: `,
  writeLog: "write log: ",
  updateJob: "update job: ",
  unpackArchive: "unpack template archive: ",
  /** The terraform provisioner's steps, followed by ": " and the cause. */
  terraformParse: "parse",
  terraformPlan: "plan terraform",
  terraformApply: "apply terraform",
} as const;

export const QUOTA_TEXT = {
  cost: (cost: number) => `Build cost       —   ${cost}`,
  // A negative budget is no limit (the local build's coordinator answers -1).
  budget: (budget: number) => `Budget           —   ${budget < 0 ? "unlimited" : budget}`,
  consumed: (consumed: number) => `Credits consumed —   ${consumed}`,
  exceeded: "This build would exceed your quota. Failing.",
  failed: (error: string) => `Failed to commit quota: ${error}`,
} as const;
