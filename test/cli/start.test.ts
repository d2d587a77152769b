// `provisionerd start` (the real binary) against the strict fake coderd: health and readiness,
// metrics after real jobs, /readyz flipping while SIGTERM drains, one-shot --max-jobs, job_id on
// job log lines, secrets kept out of logs, and a refused PSK ending the process.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { packTemplateDirectory } from "../../src/cli/template-archive.js";
import { ParameterDestination_Scheme, WorkspaceTransition } from "../../src/provisioner/model.js";
import { FakeCoderd } from "../fake-coderd/fake-coderd.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import { ensureBuilt, provisionerdStart, ROOT } from "./cli-binary.js";

const TIMEOUT = 120_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-start-"));
let fake: FakeCoderd;
let slowArchive: Buffer;

beforeAll(async () => {
  await ensureBuilt();
  fake = await FakeCoderd.start();
  slowArchive = await packTemplateDirectory(
    path.join(ROOT, "test/fixtures/templates/slow-and-chatty"),
  );
}, TIMEOUT);

afterAll(async () => {
  await fake?.stop();
});

interface Daemon {
  child: ResultPromise;
  lines: Array<Record<string, unknown>>;
  raw: () => string;
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    what: string,
  ): Promise<Record<string, unknown>>;
}

const running: Daemon[] = [];
afterEach(() => {
  for (const daemon of running.splice(0)) daemon.child.kill("SIGKILL");
});

function startDaemon(args: string[], psk = fake.psk): Daemon {
  const child = provisionerdStart({
    coderUrl: fake.url,
    psk,
    scratch: tmp,
    args: ["--log-level", "debug", "--poll-interval", "100ms", ...args],
  });
  const lines: Array<Record<string, unknown>> = [];
  let text = "";
  let pending = "";
  const waiters: Array<() => void> = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    pending += chunk.toString();
    const complete = pending.split("\n");
    pending = complete.pop() ?? "";
    for (const line of complete) {
      if (line.trim() === "") continue;
      lines.push(JSON.parse(line));
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const daemon: Daemon = {
    child,
    lines,
    raw: () => text,
    waitForLog: (predicate, what) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found) return resolve(found);
          if (child.exitCode !== null)
            return reject(new Error(`daemon exited before ${what}:\n${text}`));
          waiters.push(check);
        };
        child.once("exit", () => waiters.length > 0 && check());
        check();
      }),
  };
  running.push(daemon);
  return daemon;
}

async function metricsUrl(daemon: Daemon): Promise<string> {
  const line = await daemon.waitForLog(
    (l) => l.msg === "serving /healthz, /readyz and /metrics",
    "the metrics server",
  );
  return String(line.url);
}

/** Polls /readyz until it answers `status` (readiness follows the daemon's state). */
async function readyz(url: string, status: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${url}/readyz`);
    const body = await response.text();
    if (response.status === status) return body;
    if (Date.now() > deadline) throw new Error(`/readyz stayed ${response.status}: ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function enqueueSlowBuild(sleepSeconds: number, tags: Record<string, string>): string {
  return fake.enqueueJob({
    kind: "workspace_build",
    archive: slowArchive,
    tags,
    payload: buildPayload({
      transition: WorkspaceTransition.START,
      parameterValues: [
        {
          destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
          name: "lines",
          value: "5",
          sensitive: false,
        },
        {
          destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
          name: "sleep_seconds",
          value: String(sleepSeconds),
          sensitive: false,
        },
      ],
    }),
  });
}

/** Polls /metrics until `ready` holds for its text. */
async function metricsWhen(url: string, ready: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if (ready(text)) return text;
    if (Date.now() > deadline) throw new Error(`/metrics never got there:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe("provisionerd start", () => {
  it(
    "serves /healthz, /readyz and /metrics; readiness drops while SIGTERM drains the running job",
    async () => {
      const daemon = startDaemon(["--metrics-address", "127.0.0.1:0", "--tag", "pool=cli-test"]);
      const url = await metricsUrl(daemon);
      const healthz = await fetch(`${url}/healthz`);
      expect(healthz.status).toBe(200);
      expect(await readyz(url, 200)).toBe("ready\n");

      // A tagged job: only a daemon carrying the tag may take it (the fake checks).
      const first = fake.enqueueJob({
        kind: "workspace_build",
        archive: slowArchive,
        tags: { pool: "cli-test" },
        payload: buildPayload({ transition: WorkspaceTransition.START }),
      });
      const done = await fake.waitForJobEnd(first, 60_000);
      expect(done.status, JSON.stringify(done.terminal)).toBe("succeeded");

      // The daemon counts the job as finished once coderd has answered its CompleteJob.
      const text = await metricsWhen(url, (t) =>
        t.includes(
          'coderd_provisionerd_job_timings_seconds_count{provisioner="terraform",status="success"} 1',
        ),
      );
      expect(metricValue(text, 'coderd_provisionerd_jobs_current{provisioner="terraform"}')).toBe(
        0,
      );
      expect(
        metricValue(
          text,
          'coderd_provisionerd_job_timings_seconds_count{provisioner="terraform",status="success"}',
        ),
      ).toBe(1);
      for (const stage of ["setup", "init", "plan", "apply"]) {
        expect(
          metricValue(
            text,
            `coderd_provisionerd_job_stage_timings_seconds_count{provisioner="terraform",stage="${stage}"}`,
          ),
          stage,
        ).toBe(1);
      }
      expect(metricValue(text, "coderd_provisionerd_log_lines_sent_total")).toBe(
        fake.job(first).logs.length,
      );
      expect(
        metricValue(text, "coderd_provisionerd_acquire_latency_seconds_count"),
      ).toBeGreaterThanOrEqual(1);
      expect(
        metricValue(
          text,
          'coderd_provisionerd_jobs_total{provisioner="terraform",type="workspace_build",status="success"}',
        ),
      ).toBe(1);
      expect(metricValue(text, 'coderd_provisionerd_slots{state="idle"}')).toBe(1);
      expect(metricValue(text, "coderd_provisionerd_connected")).toBe(1);
      expect(text).toContain("process_cpu_seconds_total");

      // Every log line about the job carries its id as job_id.
      const jobLines = daemon.lines.filter((l) => JSON.stringify(l).includes(first));
      expect(jobLines.length).toBeGreaterThan(0);
      for (const line of jobLines) expect(line.job_id, JSON.stringify(line)).toBe(first);

      // A long job, then SIGTERM: not ready while it drains, the job still finishes.
      const slow = enqueueSlowBuild(4, { pool: "cli-test" });
      await fake.waitForLogs(
        slow,
        (logs) => logs.some((l) => l.output.endsWith("sleeping 4s")),
        60_000,
      );
      daemon.child.kill("SIGTERM");
      expect(await readyz(url, 503)).toBe(
        "not ready: draining: finishing running jobs, taking no new ones\n",
      );
      expect(fake.job(slow).status).toBe("running");
      const draining = await (await fetch(`${url}/metrics`)).text();
      expect(metricValue(draining, "coderd_provisionerd_draining")).toBe(1);
      expect(
        metricValue(draining, 'coderd_provisionerd_jobs_current{provisioner="terraform"}'),
      ).toBe(1);
      expect(metricValue(draining, 'coderd_provisionerd_slots{state="busy"}')).toBe(1);
      const late = enqueueSlowBuild(0, { pool: "cli-test" });

      const result = await daemon.child;
      expect(result.exitCode, daemon.raw()).toBe(0);
      expect(fake.job(slow).status).toBe("succeeded");
      expect(fake.job(late).status).toBe("pending");
      expect(fake.violations).toEqual([]);
      expect(daemon.raw()).not.toContain(fake.psk);
    },
    TIMEOUT,
  );

  it(
    "SIGINT cancels the running job gracefully; a second signal forces it to fail at once",
    async () => {
      const cancel = startDaemon(["--tag", "pool=sigint"]);
      const canceled = enqueueSlowBuild(60, { pool: "sigint" });
      await fake.waitForLogs(
        canceled,
        (logs) => logs.some((l) => l.output.endsWith("sleeping 60s")),
        60_000,
      );
      cancel.child.kill("SIGINT");
      const ended = await fake.waitForJobEnd(canceled, 60_000);
      expect(ended.status).toBe("failed");
      const failure = ended.terminal?.kind === "fail" ? ended.terminal.message : undefined;
      // Terraform was interrupted (not killed) and handed back the state it had.
      expect(failure?.error).toMatch(/terraform apply: canceled \(interrupted/);
      expect(failure?.errorCode).toBe("SHUTDOWN");
      expect(
        failure?.type?.$case === "workspaceBuild" && failure.type.value.state.length,
      ).toBeGreaterThan(0);
      expect((await cancel.child).exitCode, cancel.raw()).toBe(0);

      const force = startDaemon(["--tag", "pool=force"]);
      const forced = enqueueSlowBuild(60, { pool: "force" });
      await fake.waitForLogs(
        forced,
        (logs) => logs.some((l) => l.output.endsWith("sleeping 60s")),
        60_000,
      );
      force.child.kill("SIGTERM");
      await force.waitForLog((l) => String(l.msg).startsWith("signal caught"), "the first signal");
      force.child.kill("SIGTERM");
      const failed = await fake.waitForJobEnd(forced, 60_000);
      expect(failed.terminal?.kind === "fail" && failed.terminal.message.error).toBe(
        "provisioner daemon was shutdown gracefully",
      );
      expect((await force.child).exitCode, force.raw()).toBe(0);
      expect(fake.violations).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    "exits 0 by itself after --max-jobs jobs",
    async () => {
      const daemon = startDaemon(["--max-jobs", "1", "--tag", "pool=one-shot"]);
      const job = fake.enqueueJob({
        kind: "workspace_build",
        archive: slowArchive,
        tags: { pool: "one-shot" },
        payload: buildPayload({ transition: WorkspaceTransition.START }),
      });
      const result = await daemon.child;
      expect(result.exitCode, daemon.raw()).toBe(0);
      expect(fake.job(job).status).toBe("succeeded");
    },
    TIMEOUT,
  );

  it(
    "exits 1 with a clear fatal line when coderd refuses the PSK",
    async () => {
      const daemon = startDaemon(["--metrics-address", "127.0.0.1:0"], "not-the-psk");
      const result = await daemon.child;
      expect(result.exitCode).toBe(1);
      const fatal = daemon.lines.find((line) => line.level === "fatal");
      expect(fatal?.msg).toMatch(/coderd refused the provisioner daemon's credentials/);
      expect(fatal?.hint).toMatch(/CODER_PROVISIONER_DAEMON_PSK/);
      expect(daemon.raw()).not.toContain("not-the-psk");
    },
    TIMEOUT,
  );

  it(
    "warns that a PSK shorter than 8 characters is too short to mask",
    async () => {
      const daemon = startDaemon([], "pw1");
      const result = await daemon.child;
      expect(result.exitCode).toBe(1);
      expect(
        daemon.lines.filter((line) => line.level === "warn").map((line) => line.msg),
      ).toContain(
        "The value of sensitive setting --psk is shorter than 8 characters: too short to mask, it is not hidden in logs.",
      );
    },
    TIMEOUT,
  );
});
