// A real daemon process (`provisionerd start`) against the in-process fake coderd: what the
// process benchmarks (memory, log streaming, overhead, concurrency) measure. Its log goes to a
// pipe whose tail is kept for error messages.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import type { FakeCoderd } from "../../test/fake-coderd/fake-coderd.js";
import { type BenchContext, requireDaemon, requireTerraform } from "./context.js";
import { FigureUnavailableError } from "./figures.js";

export interface DaemonProcess {
  readonly pid: number;
  /** Its --cache-dir (plugin caches, the terraform CLI config it writes). */
  readonly cacheDir: string;
  /** The last lines the daemon logged. */
  logTail(): string;
  /** SIGTERM (drain), then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonProcessOptions {
  fake: FakeCoderd;
  concurrency?: number;
  /** Scratch name; the daemon gets its own cache and work dirs under it. */
  name: string;
  readyTimeoutMs?: number;
  /** --terraform-path (e.g. a wrapper counting terraform's starts); PATH's terraform without. */
  terraformPath?: string;
}

const TAIL_CHARS = 8_000;

function inheritedEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("CODER_")) env[key] = value;
  }
  return env;
}

export async function startDaemonProcess(
  context: BenchContext,
  options: DaemonProcessOptions,
): Promise<DaemonProcess> {
  const entry = requireDaemon(context);
  const { mirror } = requireTerraform(context);
  const concurrency = options.concurrency ?? 1;
  const dir = await context.scratch(options.name);
  const cacheDir = join(dir, "cache");
  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry.path,
      "start",
      "--coder-url",
      options.fake.grpcUrl,
      "--name",
      options.name,
      "--concurrency",
      String(concurrency),
      "--provider-mirror",
      mirror.mirrorDir,
      "--cache-dir",
      cacheDir,
      "--work-dir",
      join(dir, "work"),
      "--log-format",
      "json",
      ...(options.terraformPath === undefined ? [] : ["--terraform-path", options.terraformPath]),
    ],
    {
      env: { ...inheritedEnvironment(), CODER_PROVISIONER_DAEMON_PSK: options.fake.psk },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_CHARS);
  });
  const exited = once(child, "exit");
  const pid = child.pid;
  if (pid === undefined) throw new FigureUnavailableError("the daemon process did not start");

  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  try {
    // Ready = connected on the acquire stream with every slot offered.
    await Promise.race([
      options.fake.waitFor(
        () => options.fake.streamDaemons().find((d) => !d.withdrawn && d.slots >= concurrency),
        options.readyTimeoutMs ?? 30_000,
        "the daemon process to connect",
      ),
      exited.then(() => {
        throw new Error(`the daemon process exited before connecting:\n${tail}`);
      }),
    ]);
  } catch (error) {
    await stop(1_000);
    throw error;
  }
  return { pid, cacheDir, logTail: () => tail, stop };
}
