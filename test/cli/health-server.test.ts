import { afterEach, describe, expect, it } from "vitest";
import { type HealthServer, startHealthServer } from "../../src/cli/health-server.js";
import { DaemonMetrics } from "../../src/cli/metrics.js";

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const job = { jobId: "j1", provisioner: "terraform", type: "workspace_build" as const, slot: 0 };

describe("health server", () => {
  it("answers /healthz always, /readyz from the readiness callback, /metrics from the registry", async () => {
    let readiness = { ready: false, reason: "connecting to coderd" };
    const metrics = new DaemonMetrics({ concurrency: 2, processMetrics: false });
    const server = await startHealthServer({
      address: { host: "127.0.0.1", port: 0 },
      readiness: () => readiness,
      metrics,
    });
    servers.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const healthz = await fetch(`${server.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok\n");

    const notReady = await fetch(`${server.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe("not ready: connecting to coderd\n");
    readiness = { ready: true, reason: "" };
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    metrics.jobStarted(job);
    metrics.stageTimed(job, "plan", 1.5);
    metrics.logLinesSent(job, 7);
    metrics.jobFinished(job, { status: "success", seconds: 12 });
    metrics.slotsChanged({ busy: 1, idle: 1 });
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('coderd_provisionerd_jobs_current{provisioner="terraform"} 0');
    expect(text).toContain(
      'coderd_provisionerd_job_timings_seconds_bucket{le="30",provisioner="terraform",status="success"} 1',
    );
    expect(text).toContain(
      'coderd_provisionerd_job_stage_timings_seconds_count{provisioner="terraform",stage="plan"} 1',
    );
    expect(text).toContain("coderd_provisionerd_log_lines_sent_total 7");
    expect(text).toContain('coderd_provisionerd_slots{state="busy"} 1');
    expect(text).toContain(
      'coderd_provisionerd_jobs_total{provisioner="terraform",type="workspace_build",status="success"} 1',
    );

    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    const post = await fetch(`${server.url}/healthz`, { method: "POST" });
    expect(post.status).toBe(405);
  });

  it("fails with a line naming --metrics-address when the port is taken", async () => {
    const metrics = new DaemonMetrics({ concurrency: 1, processMetrics: false });
    const first = await startHealthServer({
      address: { host: "127.0.0.1", port: 0 },
      readiness: () => ({ ready: true, reason: "" }),
      metrics,
    });
    servers.push(first);
    const port = Number(new URL(first.url).port);
    await expect(
      startHealthServer({
        address: { host: "127.0.0.1", port },
        readiness: () => ({ ready: true, reason: "" }),
        metrics,
      }),
    ).rejects.toThrow(`--metrics-address: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});
