// Running one terraform command: its own process group, graceful and forced cancellation, and
// output read line by line in arrival order with back-pressure.
//
// Differences from the reference: it sent SIGINT to terraform only and
// SIGKILL to terraform only, so provider plugins and local-exec children could outlive a killed
// terraform; here both signals go to the whole process group. Lines of any length are kept (the
// reference's bufio.Scanner stopped a reader at 64 KiB).
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { execa } from "execa";
import { isPromiseLike } from "../daemon/abort.js";

export type Stream = "stdout" | "stderr";

/** Receives one line (without its newline). A returned promise pauses reading until it settles. */
export type LineHandler = (stream: Stream, line: string) => void | Promise<void>;

export interface RunCommandOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Graceful cancel: SIGINT to the process group, SIGKILL after `gracePeriodMs`. */
  signal?: AbortSignal;
  /** Forced cancel: SIGKILL to the process group now. */
  killSignal?: AbortSignal;
  gracePeriodMs: number;
  /** Line-by-line output; when absent, output is collected (see RunCommandResult). */
  onLine?: LineHandler;
  /** Collect stdout in memory (for `show -json` and `graph`) instead of passing lines. */
  collectStdout?: boolean;
  /**
   * After the process exited, how long the pipes may stay open with nothing arriving before they
   * are closed (a grandchild may hold them). Default 5 s.
   */
  drainTimeoutMs?: number;
  /** Called with the process id (= process group id) once the process started. */
  onSpawn?: (pid: number) => void;
}

export interface RunCommandResult {
  exitCode: number | undefined;
  /** The signal that ended the process, if any. */
  signal: string | undefined;
  /** Collected stdout (only with collectStdout). */
  stdout: string;
  /** The last 64 KiB of stderr, for error messages. */
  stderrTail: string;
  /** A graceful cancel was requested while the command ran. */
  interrupted: boolean;
  /** The process group was killed (grace period over or forced cancel). */
  killed: boolean;
}

/** The command could not be started (missing binary, bad working directory). */
export class CommandStartError extends Error {
  override readonly name = "CommandStartError";
}

/** Process groups still running, killed if the daemon process exits under them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const pgid of liveGroups) signalGroup(pgid, "SIGKILL");
  });
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    // ESRCH: the group is gone already.
    return false;
  }
}

const stderrTailLimit = 64 * 1024;

/**
 * Runs a command to completion. Resolves with its exit status (a non-zero exit is not an
 * error here); rejects with CommandStartError when it could not start, or with the line
 * handler's error after the process has ended.
 */
export async function runCommand(options: RunCommandOptions): Promise<RunCommandResult> {
  installExitHook();
  const subprocess = execa(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    // Own process group: signals reach terraform, its providers and local-exec children alike.
    detached: true,
    // Cancellation is ours (group signals), not execa's.
    cleanup: false,
  });
  // The execa promise only settles once streams close; its outcome is read from events below.
  const settled = subprocess.then(
    (result) => result,
    (error: unknown) => error,
  );

  const pid = subprocess.pid;
  if (pid === undefined) {
    const result = await settled;
    const message =
      result instanceof Error
        ? result.message
        : ((result as { shortMessage?: string }).shortMessage ?? "unknown error");
    throw new CommandStartError(`start ${options.file}: ${message}`);
  }
  liveGroups.add(pid);
  options.onSpawn?.(pid);

  const result: RunCommandResult = {
    exitCode: undefined,
    signal: undefined,
    stdout: "",
    stderrTail: "",
    interrupted: false,
    killed: false,
  };

  let graceTimer: NodeJS.Timeout | undefined;
  const kill = () => {
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    result.killed = true;
    signalGroup(pid, "SIGKILL");
  };
  const interrupt = () => {
    if (result.interrupted) return;
    result.interrupted = true;
    signalGroup(pid, "SIGINT");
    graceTimer = setTimeout(kill, options.gracePeriodMs);
    graceTimer.unref();
  };
  const onAbort = () => interrupt();
  const onKill = () => kill();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  options.killSignal?.addEventListener("abort", onKill, { once: true });

  const exited = new Promise<void>((resolve) => {
    subprocess.once("exit", (code, signal) => {
      result.exitCode = code ?? undefined;
      result.signal = signal ?? undefined;
      resolve();
    });
  });

  // Either signal may have fired before we listened.
  if (options.killSignal?.aborted) kill();
  else if (options.signal?.aborted) interrupt();

  const stdoutChunks: Buffer[] = [];
  const reader = new OrderedLineReader(
    [subprocess.stdout as Readable, subprocess.stderr as Readable],
    (stream, line) => {
      if (stream === "stderr") {
        result.stderrTail = `${result.stderrTail}${line}\n`.slice(-stderrTailLimit);
      }
      return options.onLine?.(stream, line);
    },
    options.collectStdout ? (chunk) => stdoutChunks.push(chunk) : undefined,
  );

  const killStragglers = () => {
    // After a cancel, whatever terraform left behind in its group (providers, local-exec
    // children) goes too; they would otherwise also keep our pipes open.
    if (result.interrupted || result.killed) signalGroup(pid, "SIGKILL");
  };
  try {
    await exited;
    killStragglers();
    // A grandchild that inherited our pipes can keep them open after terraform exited; do not
    // wait for it forever (the reference's Go code would).
    await reader.finished(options.drainTimeoutMs ?? 5_000);
  } finally {
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    options.signal?.removeEventListener("abort", onAbort);
    options.killSignal?.removeEventListener("abort", onKill);
    killStragglers();
    liveGroups.delete(pid);
    reader.destroy();
    await settled;
  }
  result.stdout = Buffer.concat(stdoutChunks).toString("utf8");
  reader.throwIfFailed();
  return result;
}

/**
 * Reads several streams line by line into one handler, in the order chunks arrive (the same
 * order guarantee the reference's mutex gave). While the handler's promise is pending, every
 * stream is paused: the child blocks on a full pipe instead of our memory growing.
 */
class OrderedLineReader {
  private readonly queue: Array<[Stream, string]> = [];
  private head = 0;
  private busy = false;
  private failure: unknown;
  private openStreams: number;
  private onIdle: (() => void) | undefined;
  private lastActivity = Date.now();

  constructor(
    private readonly streams: Readable[],
    private readonly handler: LineHandler,
    collect?: (chunk: Buffer) => void,
  ) {
    this.openStreams = streams.length;
    streams.forEach((stream, i) => {
      const name: Stream = i === 0 ? "stdout" : "stderr";
      if (i === 0 && collect !== undefined) {
        stream.on("data", (chunk: Buffer) => {
          this.lastActivity = Date.now();
          collect(chunk);
        });
      } else {
        const decoder = new StringDecoder("utf8");
        let partial = "";
        stream.on("data", (chunk: Buffer) => {
          const text = partial + decoder.write(chunk);
          const lines = text.split("\n");
          partial = lines.pop() ?? "";
          for (const line of lines) this.queue.push([name, stripCR(line)]);
          this.pump();
        });
        stream.once("end", () => {
          const rest = partial + decoder.end();
          if (rest !== "") this.queue.push([name, stripCR(rest)]);
          partial = "";
          this.pump();
        });
      }
      stream.once("close", () => {
        this.openStreams--;
        this.pump();
      });
      stream.on("error", () => {
        // A destroyed pipe after the drain timeout; nothing more to read.
      });
    });
  }

  private pump(): void {
    this.lastActivity = Date.now();
    if (this.busy) return;
    while (this.head < this.queue.length) {
      const [stream, line] = this.queue[this.head] as [Stream, string];
      this.head++;
      if (this.failure !== undefined) continue;
      let pending: void | Promise<void>;
      try {
        pending = this.handler(stream, line);
      } catch (error) {
        this.failure = error;
        continue;
      }
      if (isPromiseLike<void>(pending)) {
        this.busy = true;
        for (const s of this.streams) s.pause();
        pending.then(
          () => this.resume(),
          (error: unknown) => {
            this.failure ??= error;
            this.resume();
          },
        );
        return;
      }
    }
    this.queue.length = 0;
    this.head = 0;
    if (this.openStreams === 0) this.onIdle?.();
  }

  private resume(): void {
    this.busy = false;
    for (const s of this.streams) s.resume();
    this.pump();
  }

  /**
   * Resolves when every stream closed and every line was handled. If the streams stay open with
   * nothing arriving and nothing pending for `idleTimeoutMs` (a stray grandchild holds the pipe),
   * they are destroyed instead; a slow handler never counts as idle, so no line is dropped.
   */
  finished(idleTimeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.onIdle = undefined;
        resolve();
      };
      const check = () => {
        const idleFor = Date.now() - this.lastActivity;
        if (this.busy || this.head < this.queue.length || idleFor < idleTimeoutMs) {
          timer = setTimeout(check, Math.max(idleTimeoutMs - idleFor, 10));
          return;
        }
        for (const s of this.streams) s.destroy();
        done();
      };
      this.onIdle = () => {
        if (!this.busy && this.head >= this.queue.length && this.openStreams === 0) done();
      };
      timer = setTimeout(check, idleTimeoutMs);
      this.pump();
    });
  }

  destroy(): void {
    for (const s of this.streams) s.destroy();
  }

  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

function stripCR(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
