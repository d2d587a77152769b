// The `provisionerd` command line: commander declares the commands and collects raw values;
// each command validates them into its config and runs. Every bad input ends as one line on
// stderr naming the flag, and exit code 2.
import { Command, CommanderError } from "commander";
import { DAEMON_VERSION } from "../daemon/version.js";
import { buildOptionSpecs, parseBuildConfig, TEMPLATE_ARGUMENT_SPEC } from "./build-config.js";
import type { CliIo } from "./cli-io.js";
import { addOptions, collectRawOptions } from "./option-spec.js";
import { parseStartConfig, startOptionSpecs } from "./start-config.js";
import { EXIT_USAGE, ReportedError, UsageError } from "./usage-error.js";

const START_HELP = `
Signals:
  SIGTERM   drain: take no new jobs, let running jobs finish, exit 0
  SIGINT    cancel running jobs gracefully (terraform gets SIGINT), then exit
  a second signal forces: running jobs fail with "provisioner daemon was shutdown gracefully",
            terraform is killed, exit

Examples:
  CODER_PROVISIONER_DAEMON_PSK=... provisionerd start --coder-url https://coder.example.com \\
    --tag region=eu --tag pool=gpu --metrics-address :2112
`;

const BUILD_HELP = `
Runs a template import, then a workspace build, on this machine with the same job runner as
'start' and an in-process coordinator instead of coderd. Parameters that are missing are asked
for on a terminal, or listed in one error otherwise.

Examples:
  provisionerd build ./my-template --state-file ws.tfstate --rich-param region=eu
  provisionerd build ./my-template --state-file ws.tfstate --transition stop
  provisionerd build template.tar --provider-mirror /opt/terraform-mirror --json
  provisionerd build ./my-template --state-file ws.tfstate --plan-only
`;

/** Commands report their exit code through this callback (commander drops action results). */
export type ExitCodeSink = (code: number) => void;

export function createProgram(io: CliIo, setExitCode: ExitCodeSink = () => {}): Command {
  const program = new Command("provisionerd")
    .description("Terraform provisioner daemon for Coder")
    .version(DAEMON_VERSION, "-V, --version")
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`provisionerd: ${text.replace(/^error: /, "")}`),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);

  const startSpecs = startOptionSpecs(io.env);
  const start = program
    .command("start")
    .description("run the daemon: take jobs from coderd and run them with terraform")
    .addHelpText("after", START_HELP);
  addOptions(start, startSpecs);
  start.action(async () => {
    const config = parseStartConfig(collectRawOptions(start, startSpecs), startSpecs, io.env);
    const { runStart } = await import("./start-command.js");
    setExitCode(await runStart(config, io));
  });

  const buildSpecs = buildOptionSpecs(io.env);
  const build = program
    .command("build")
    .description("build a template locally, without coderd: import, then a workspace build")
    .argument(TEMPLATE_ARGUMENT_SPEC.flags, TEMPLATE_ARGUMENT_SPEC.description)
    .addHelpText("after", BUILD_HELP);
  addOptions(build, buildSpecs);
  build.action(async (template: string) => {
    const raw = collectRawOptions(build, buildSpecs);
    raw.values.template = template;
    raw.sources.template = "cli";
    const config = parseBuildConfig(raw, buildSpecs, io.env);
    const { runBuild } = await import("./build-command.js");
    setExitCode(await runBuild(config, io));
  });

  return program;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    return reportError(error, argv, io);
  }
}

function reportError(error: unknown, argv: readonly string[], io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" only to commander; their text is already printed.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return 0;
    if (wantsJson(argv)) writeJsonError(io, EXIT_USAGE, [error.message.replace(/^error: /, "")]);
    return EXIT_USAGE;
  }
  const command = argv[0] === "start" || argv[0] === "build" ? ` ${argv[0]}` : "";
  if (error instanceof UsageError) {
    for (const line of error.lines) io.stderr.write(`provisionerd${command}: ${line}\n`);
    if (wantsJson(argv)) writeJsonError(io, EXIT_USAGE, error.lines, error.details);
    return EXIT_USAGE;
  }
  if (error instanceof ReportedError) return error.exitCode;
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`provisionerd${command}: ${message}\n`);
  if (wantsJson(argv)) writeJsonError(io, 1, [message]);
  return 1;
}

/** `build --json` promises JSON on stdout, also when the command stops before any job ran. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return argv[0] === "build" && (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

function writeJsonError(
  io: CliIo,
  exitCode: number,
  messages: readonly string[],
  details: Record<string, unknown> = {},
) {
  const kind = exitCode === EXIT_USAGE ? "usage" : "failed";
  const body = { ok: false, error: { kind, exitCode, messages, ...details } };
  io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
}
