// `provisionerd start` with TLS flags (the real binary): files that are no PEM are usage errors
// naming the flag, the flags reach the daemon (mutual TLS connects), and a coderd refusing the
// missing client certificate ends the process with a fatal line and a hint about the flags.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeCoderd } from "../fake-coderd/fake-coderd.js";
import { createSelfSignedCertificate } from "../fixtures/coder-provider/src/cert.js";
import { ensureBuilt, provisionerdStart } from "./cli-binary.js";

const TIMEOUT = 120_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-cli-tls-"));

function file(name: string, content: string): string {
  const target = path.join(tmp, name);
  writeFileSync(target, content, { mode: 0o600 });
  return target;
}

const coderd = createSelfSignedCertificate();
const client = createSelfSignedCertificate({ commonName: "provisionerd" });
const coderdCa = file("coderd.pem", coderd.certPem);
const clientCert = file("client.pem", client.certPem);
const clientKey = file("client.key", client.keyPem);
const notPem = file("not-pem.txt", "not a certificate\n");

let fake: FakeCoderd;
beforeAll(async () => {
  await ensureBuilt();
  fake = await FakeCoderd.start({
    tls: { key: coderd.keyPem, cert: coderd.certPem, clientCa: client.certPem },
  });
}, TIMEOUT);
afterAll(async () => {
  await fake?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const children: Array<ReturnType<typeof provisionerdStart>> = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function start(args: string[]) {
  const child = provisionerdStart({ coderUrl: fake.grpcUrl, psk: fake.psk, scratch: tmp, args });
  children.push(child);
  return child;
}

function lines(text: unknown): string[] {
  return String(text)
    .split("\n")
    .filter((line) => line !== "");
}

describe("provisionerd start with TLS flags", () => {
  it("--tls-ca with a file that holds no certificate exits 2 naming the flag", async () => {
    const result = await start(["--tls-ca", notPem]);
    expect(result.exitCode).toBe(2);
    expect(lines(result.stderr)).toEqual([
      `provisionerd start: --tls-ca: expected a PEM CA bundle, got "${notPem}": no PEM certificate in it`,
    ]);
  });

  it("--tls-key with a certificate instead of a key exits 2 naming the flag", async () => {
    const result = await start(["--tls-cert", clientCert, "--tls-key", clientCert]);
    expect(result.exitCode).toBe(2);
    const errors = lines(result.stderr);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^provisionerd start: --tls-key: expected a PEM private key, got "${clientCert}": `,
      ),
    );
  });

  it(
    "connects with --tls-ca, --tls-cert and --tls-key, and drains on SIGTERM",
    async () => {
      const child = start(["--tls-ca", coderdCa, "--tls-cert", clientCert, "--tls-key", clientKey]);
      await new Promise<void>((resolve, reject) => {
        let text = "";
        child.stderr?.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes('"msg":"connected to coderd"')) resolve();
        });
        void child.then((result) =>
          reject(new Error(`exited ${result.exitCode} before connecting:\n${text}`)),
        );
      });
      child.kill("SIGTERM");
      const result = await child;
      expect(result.exitCode).toBe(0);
      expect(String(result.stderr)).not.toContain(client.keyPem.split("\n")[1]);
    },
    TIMEOUT,
  );

  it(
    "exits 1 with a fatal line and a hint when coderd wants a client certificate",
    async () => {
      const result = await start(["--tls-ca", coderdCa]);
      expect(result.exitCode).toBe(1);
      const fatal = lines(result.stderr)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.level === "fatal");
      expect(fatal?.msg).toMatch(
        /^coderd refused the provisioner daemon's credentials: TLS handshake refused: certificate required/,
      );
      expect(fatal?.hint).toMatch(/--tls-cert and --tls-key/);
    },
    TIMEOUT,
  );
});
