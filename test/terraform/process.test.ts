// The process layer under every terraform command: ordered lines of any length, back-pressure,
// graceful and forced cancellation of the whole process group.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandStartError, runCommand, type Stream } from "../../src/terraform/process.js";
import { isAlive, processesInGroup, waitFor } from "./helpers/processes.js";

let dir: string;
const groups: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "process-test-"));
});
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

function sh(script: string, extra: Partial<Parameters<typeof runCommand>[0]> = {}) {
  const lines: Array<[Stream, string]> = [];
  const promise = runCommand({
    file: "/bin/sh",
    args: ["-c", script],
    cwd: dir,
    env,
    gracePeriodMs: 60_000,
    onLine: (stream, line) => {
      lines.push([stream, line]);
    },
    onSpawn: (pid) => groups.push(pid),
    ...extra,
  });
  return { lines, promise };
}

/**
 * Runs `script`, which starts a background process and prints `child <pid>`, and cancels it
 * (gracefully) as soon as that line arrives.
 */
async function cancelOnceChildStarts(script: string, gracePeriodMs: number) {
  const controller = new AbortController();
  let child = 0;
  let pgid = 0;
  const result = await runCommand({
    file: "/bin/sh",
    args: ["-c", script],
    cwd: dir,
    env,
    gracePeriodMs,
    signal: controller.signal,
    onSpawn: (pid) => {
      pgid = pid;
      groups.push(pid);
    },
    onLine: (_, line) => {
      if (line.startsWith("child ")) {
        child = Number(line.slice(6));
        controller.abort();
      }
    },
  });
  return { result, child, pgid };
}

describe("runCommand", () => {
  it("passes exactly the given environment and working directory", async () => {
    const lines: string[] = [];
    const result = await runCommand({
      file: "/bin/sh",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax
      args: ["-c", 'echo "$FOO"; echo "${HOME:-unset}"; pwd'],
      cwd: dir,
      env: { ...env, FOO: "bar" },
      gracePeriodMs: 1000,
      onLine: (_, line) => {
        lines.push(line);
      },
    });
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(["bar", "unset", dir]);
  });

  it("tags stdout and stderr and keeps their order", async () => {
    // Each line is written only after the previous one arrived (ack files), so the expected
    // order is causal, not a matter of timing.
    const script = [
      "echo one",
      "while [ ! -f ack1 ]; do sleep 0.01; done",
      "echo two >&2",
      "while [ ! -f ack2 ]; do sleep 0.01; done",
      "echo three",
    ].join("\n");
    const seen: Array<[Stream, string]> = [];
    const result = await runCommand({
      file: "/bin/sh",
      args: ["-c", script],
      cwd: dir,
      env,
      gracePeriodMs: 1000,
      onLine: (stream, line) => {
        seen.push([stream, line]);
        writeFileSync(join(dir, `ack${seen.length}`), "");
      },
    });
    expect(result.exitCode).toBe(0);
    expect(seen).toEqual([
      ["stdout", "one"],
      ["stderr", "two"],
      ["stdout", "three"],
    ]);
    expect(result.stderrTail).toBe("two\n");
  });

  it("keeps lines of any length (1 MiB, no 64 KiB cut-off) and a last line without newline", async () => {
    const { lines, promise } = sh(
      "head -c 1048576 /dev/zero | tr '\\0' x; echo; printf 'no newline at the end'",
    );
    await promise;
    expect(lines.map(([, l]) => l.length)).toEqual([1048576, "no newline at the end".length]);
    expect(lines[0]?.[1]).toMatch(/^x+$/);
  });

  it("collects stdout when asked, for show and graph", async () => {
    const result = await runCommand({
      file: "/bin/sh",
      args: ["-c", 'printf \'{"a":1}\\n{"b":2}\'; echo oops >&2; exit 4'],
      cwd: dir,
      env,
      gracePeriodMs: 1000,
      collectStdout: true,
    });
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toBe('{"a":1}\n{"b":2}');
    expect(result.stderrTail).toBe("oops\n");
  });

  it("stops reading while the sink is busy: the child blocks instead of memory growing", async () => {
    // The writer fills its stdout without blocking and stops once the pipe has stayed full for a
    // second (or after 64 MiB, which only happens when nobody applies back-pressure). It then
    // records how much it wrote.
    const writer = join(dir, "writer.mjs");
    writeFileSync(
      writer,
      `import { writeSync, writeFileSync } from "node:fs";
       process.stdout; // libuv makes fd 1 non-blocking: a full pipe throws EAGAIN
       const line = Buffer.from("y".repeat(1023) + "\\n");
       const pause = new Int32Array(new SharedArrayBuffer(4));
       let written = 0, fullSince = 0;
       while (written < 64 * 1024 * 1024) {
         try { writeSync(1, line); written += line.length; fullSince = 0; }
         catch (e) {
           if (e.code !== "EAGAIN") throw e;
           fullSince ||= Date.now();
           if (Date.now() - fullSince > 1000) break;
           Atomics.wait(pause, 0, 0, 20);
         }
       }
       writeFileSync("written", String(written));`,
    );
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let received = 0;
    const promise = runCommand({
      file: process.execPath,
      args: [writer],
      cwd: dir,
      env,
      gracePeriodMs: 1000,
      onSpawn: (pid) => groups.push(pid),
      onLine: () => {
        received++;
        // The first line holds the sink until the test releases it.
        return received === 1 ? held : undefined;
      },
    });
    const writtenFile = join(dir, "written");
    await waitFor(() => existsSync(writtenFile), "the writer to stop", 60_000);
    const written = Number(readFileSync(writtenFile, "utf8"));
    // Bounded by the pipe plus what was read before the pause, far below the 64 MiB cap.
    expect(written).toBeLessThan(4 * 1024 * 1024);
    expect(received).toBe(1);
    release();
    const result = await promise;
    expect(result.exitCode).toBe(0);
    expect(received).toBe(written / 1024);
  });

  it("graceful cancel sends SIGINT to the group and lets the command finish", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const promise = runCommand({
      file: "/bin/sh",
      args: ["-c", 'trap "echo got-int; exit 3" INT; echo ready; while :; do sleep 0.05; done'],
      cwd: dir,
      env,
      gracePeriodMs: 30_000,
      signal: controller.signal,
      onSpawn: (pid) => groups.push(pid),
      onLine: (_, line) => {
        lines.push(line);
        if (line === "ready") controller.abort();
      },
    });
    const result = await promise;
    expect(result).toMatchObject({ exitCode: 3, interrupted: true, killed: false });
    expect(lines).toEqual(["ready", "got-int"]);
  });

  it("kills the group with SIGKILL when the grace period ends, leaving no process behind", async () => {
    const started = Date.now();
    const { result, child, pgid } = await cancelOnceChildStarts(
      // SIGINT ignored by the shell and (inherited) by its children: only SIGKILL ends them.
      'trap "" INT; sleep 1000 & echo "child $!"; wait',
      300,
    );
    expect(result).toMatchObject({ interrupted: true, killed: true, signal: "SIGKILL" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await waitFor(() => !isAlive(child), "the background child to be killed");
    await waitFor(() => processesInGroup(pgid).length === 0, "the process group to be empty");
  });

  it("kills at once on the kill signal", async () => {
    const kill = new AbortController();
    const graceful = new AbortController();
    let pgid = 0;
    const result = await runCommand({
      file: "/bin/sh",
      args: ["-c", 'trap "" INT; echo ready; sleep 1000'],
      cwd: dir,
      env,
      gracePeriodMs: 600_000,
      signal: graceful.signal,
      killSignal: kill.signal,
      onSpawn: (pid) => {
        pgid = pid;
        groups.push(pid);
      },
      onLine: (_, line) => {
        if (line === "ready") kill.abort();
      },
    });
    expect(result).toMatchObject({ killed: true, signal: "SIGKILL" });
    await waitFor(() => processesInGroup(pgid).length === 0, "the process group to be empty");
  });

  it("kills children that outlive the interrupted command", async () => {
    // A background job of a non-interactive shell ignores SIGINT: it survives the shell.
    const { result, child, pgid } = await cancelOnceChildStarts(
      'sleep 1000 & echo "child $!"; wait',
      30_000,
    );
    expect(result.interrupted).toBe(true);
    expect(result.killed).toBe(false);
    await waitFor(() => !isAlive(child), "the background child to be killed");
    await waitFor(() => processesInGroup(pgid).length === 0, "the process group to be empty");
  });

  it("does not wait forever for pipes a background grandchild keeps open", async () => {
    const { lines, promise } = sh("sleep 1000 & echo started", { drainTimeoutMs: 200 });
    const result = await promise;
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual([["stdout", "started"]]);
  });

  it("reports a binary that cannot start", async () => {
    await expect(
      runCommand({
        file: join(dir, "no-such-terraform"),
        args: [],
        cwd: dir,
        env,
        gracePeriodMs: 1000,
      }),
    ).rejects.toBeInstanceOf(CommandStartError);
  });
});
