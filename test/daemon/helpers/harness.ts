// Starts a fake coderd and a daemon wired to it, with a logger whose output tests can search
// (e.g. to prove the PSK never appears), and tears both down.
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { type Logger, pino } from "pino";
import { createDaemon, type Daemon, type DaemonOptions } from "../../../src/daemon/index.js";
import type { Provisioner } from "../../../src/provisioner/provisioner.js";
import { FakeCoderd, type FakeCoderdOptions } from "../../fake-coderd/fake-coderd.js";

export interface CapturedLogger {
  logger: Logger;
  lines: string[];
  text(): string;
  /** Resolves with the first line (parsed) the predicate accepts, already logged or to come. */
  waitForLine(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const written = new EventEmitter();
  written.setMaxListeners(0);
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      written.emit("line");
      callback();
    },
  });
  const logger = pino({ level: process.env.DAEMON_TEST_LOG_LEVEL ?? "debug" }, stream);
  const find = (predicate: (line: Record<string, unknown>) => boolean) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).find(predicate);
  return {
    logger,
    lines,
    text: () => lines.join(""),
    waitForLine: (predicate, what, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = find(predicate);
          if (found === undefined) return;
          finish();
          resolve(found);
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line: ${what}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          written.off("line", check);
        };
        written.on("line", check);
        check();
      }),
  };
}

export type HarnessDaemonOptions = Partial<Omit<DaemonOptions, "provisioners">> & {
  provisioners: Provisioner[];
};

export interface Harness {
  fake: FakeCoderd;
  log: CapturedLogger;
  daemons: Daemon[];
  /** Creates and starts a daemon against the fake (fast timings unless overridden). */
  daemon(options: HarnessDaemonOptions): Promise<Daemon>;
  teardown(): Promise<void>;
}

export async function startHarness(fakeOptions: FakeCoderdOptions = {}): Promise<Harness> {
  const fake = await FakeCoderd.start(fakeOptions);
  const log = captureLogger();
  const daemons: Daemon[] = [];
  return {
    fake,
    log,
    daemons,
    async daemon(options) {
      const daemon = createDaemon({
        coderUrl: fake.url,
        psk: fake.psk,
        daemonId: randomUUID(),
        name: "test-daemon",
        logger: log.logger,
        heartbeatIntervalMs: 100,
        pollIntervalMs: 50,
        pollJitterMs: 10,
        reconnect: { initialMs: 20, maxMs: 200 },
        closeTimeoutMs: 3_000,
        ...options,
      });
      daemons.push(daemon);
      await daemon.start();
      return daemon;
    },
    async teardown() {
      await Promise.allSettled(daemons.map((d) => d.close()));
      await fake.stop();
    },
  };
}
