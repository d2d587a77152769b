import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED, resolveLogFormat } from "../../src/cli/logger.js";
import { SecretMasker } from "../../src/terraform/redact.js";

function capture(isTTY = false) {
  const lines: string[] = [];
  const output = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(
          ...String(chunk)
            .split("\n")
            .filter((line) => line !== ""),
        );
        done();
      },
    }),
    { isTTY },
  );
  return { output, lines };
}

describe("createLogger", () => {
  it("writes JSON lines with level names and bindings such as job_id", () => {
    const { output, lines } = capture();
    const logger = createLogger({ level: "info", format: "json", output });
    logger.child({ job_id: "job-1" }).info({ stage: "plan" }, "planning");
    logger.debug("hidden below the level");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({ level: "info", job_id: "job-1", stage: "plan", msg: "planning" });
    expect(typeof line.time).toBe("string");
  });

  it("writes job_id on job lines even when a module binds it as jobId", () => {
    const { output, lines } = capture();
    const logger = createLogger({ level: "info", format: "json", output });
    logger.child({ jobId: "job-2", slot: 0 }).info("acquired job");
    logger.info({ jobId: "job-3" }, "queued");
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ job_id: "job-2", slot: 0, msg: "acquired job" });
    expect(first.jobId).toBeUndefined();
    expect(second).toMatchObject({ job_id: "job-3" });
  });

  it("redacts secret fields and scrubs registered secret values wherever they appear", () => {
    const { output, lines } = capture();
    const secrets = new SecretMasker();
    secrets.add("hunter2-psk");
    secrets.add('we"ird\\value');
    const logger = createLogger({ level: "info", format: "json", output, secrets });
    logger.info({ psk: "hunter2-psk", agent: { token: "agent-token-123" } }, "connecting");
    logger.error({ err: new Error("dial failed with key hunter2-psk") }, "failed: hunter2-psk");
    logger.info({ detail: 'value we"ird\\value here' }, "escaped");
    const text = lines.join("\n");
    expect(text).not.toContain("hunter2-psk");
    expect(text).not.toContain("agent-token-123");
    expect(text).not.toContain('we\\"ird');
    const [first, second, third] = lines.map((line) => JSON.parse(line));
    expect(first.psk).toBe(REDACTED);
    expect(first.agent.token).toBe(REDACTED);
    expect(second.msg).toBe(`failed: ${REDACTED}`);
    expect(second.err.message).toBe(`dial failed with key ${REDACTED}`);
    expect(third.detail).toBe(`value ${REDACTED} here`);
  });

  it("pretty-prints for people, without colour off a terminal, still scrubbed", () => {
    const { output, lines } = capture(false);
    const secrets = new SecretMasker();
    secrets.add("hunter2-psk");
    const logger = createLogger({ level: "info", format: "pretty", output, secrets });
    logger.child({ job_id: "job-7" }).warn("psk hunter2-psk refused");
    const text = lines.join("\n");
    expect(text).toMatch(/WARN.*psk \[REDACTED\] refused/);
    expect(text).toContain("job_id");
    expect(text).toContain("job-7");
    expect(text).not.toContain("\u001b[");
    expect(() => JSON.parse(lines[0] as string)).toThrow();
  });

  it("picks pretty on a terminal and JSON otherwise unless told", () => {
    expect(resolveLogFormat(undefined, { isTTY: true })).toBe("pretty");
    expect(resolveLogFormat(undefined, { isTTY: false })).toBe("json");
    expect(resolveLogFormat("json", { isTTY: true })).toBe("json");
    expect(resolveLogFormat("pretty", {})).toBe("pretty");
  });
});
