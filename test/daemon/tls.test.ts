// TLS between the daemon and coderd: server-authenticated TLS and mutual TLS against the strict
// fake coderd, what happens when either side refuses the other's certificate (a refused client
// certificate is fatal like a refused PSK; an untrusted coderd is retried with a warning that
// names the problem), and PEM files that are missing or are no PEM. Certificates are made here,
// at run time, so no private key is ever committed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { status } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  AuthenticationRefusedError,
  CoderdClient,
  createDaemon,
  type Daemon,
  DaemonOptionsError,
  TransportError,
} from "../../src/daemon/index.js";
import { WorkspaceTransition } from "../../src/provisioner/model.js";
import { FakeCoderd, type FakeCoderdOptions } from "../fake-coderd/fake-coderd.js";
import { buildPayload } from "../fake-coderd/payloads.js";
import {
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from "../fixtures/coder-provider/src/cert.js";
import { type Harness, type HarnessDaemonOptions, startHarness } from "./helpers/harness.js";
import { ScriptProvisioner } from "./helpers/script-provisioner.js";

const dir = mkdtempSync(join(tmpdir(), "provisionerd-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

/** A certificate and its key on disk, as an operator would hand them to the daemon. */
function identity(name: string, options?: Parameters<typeof createSelfSignedCertificate>[0]) {
  const cert = createSelfSignedCertificate(options);
  return {
    ...cert,
    certFile: file(`${name}.pem`, cert.certPem),
    keyFile: file(`${name}.key`, cert.keyPem),
  };
}

// Each is self-signed and CA:TRUE, so a certificate is also the CA that trusts it.
const coderd = identity("coderd");
const client = identity("client", { commonName: "provisionerd" });
const stranger = identity("stranger");
const elsewhere = identity("elsewhere", { dnsNames: ["coder.example"] });

const serverTls = (cert: SelfSignedCertificate, clientCa?: SelfSignedCertificate) => ({
  key: cert.keyPem,
  cert: cert.certPem,
  ...(clientCa ? { clientCa: clientCa.certPem } : {}),
});

/** The base64 body of a PEM key: what must never show up in a log or an error. */
const keyBody = (keyPem: string) => keyPem.split("\n")[1] as string;

let harnesses: Harness[] = [];
const extraFakes: FakeCoderd[] = [];
async function harness(options: FakeCoderdOptions): Promise<Harness> {
  const h = await startHarness(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  await Promise.allSettled(harnesses.map((h) => h.teardown()));
  await Promise.allSettled(extraFakes.splice(0).map((f) => f.stop()));
  harnesses = [];
});

function enqueueBuild(fake: FakeCoderd): string {
  return fake.enqueueJob({
    kind: "workspace_build",
    payload: buildPayload({ transition: WorkspaceTransition.START, state: Buffer.from("") }),
    archive: Buffer.from("script"),
  });
}

function daemonOptions(extra: Partial<HarnessDaemonOptions> = {}): HarnessDaemonOptions {
  return { provisioners: [new ScriptProvisioner()], ...extra };
}

/** What `promise` settled with (its error when it rejected); fails the test if it hangs. */
function settledWithin(promise: Promise<unknown>, ms: number, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([
    promise.then(
      (value) => value,
      (error: unknown) => error,
    ),
    hung,
  ]).finally(() => clearTimeout(timer));
}

const ACQUIRE_WARNING = {
  stream: "acquire stream failed; reconnecting",
  poll: "acquire job failed; coderd unreachable",
} as const;
const MODES = ["stream", "poll"] as const;

/** Waits for `count` acquire warnings whose error matches `pattern`; returns the last. */
async function acquireWarnings(
  h: Harness,
  mode: (typeof MODES)[number],
  pattern: RegExp,
  count: number,
): Promise<Record<string, unknown>> {
  let seen = 0;
  return h.log.waitForLine(
    (line) =>
      line.level === 40 &&
      line.msg === ACQUIRE_WARNING[mode] &&
      pattern.test(String(line.err)) &&
      ++seen >= count,
    `${count} acquire warnings matching ${pattern}`,
  );
}

describe("TLS to coderd", () => {
  for (const mode of MODES) {
    it(`completes a job over TLS when tls.caFile holds coderd's certificate (${mode})`, async () => {
      const h = await harness({ tls: serverTls(coderd) });
      expect(h.fake.url).toMatch(/^https:\/\/localhost:\d+$/);
      const daemon = await h.daemon(
        daemonOptions({ acquireMode: mode, tls: { caFile: coderd.certFile } }),
      );
      const id = enqueueBuild(h.fake);
      const job = await h.fake.waitForJobEnd(id, 10_000);
      expect(job.terminal?.kind).toBe("complete");
      expect(job.status).toBe("succeeded");
      expect(daemon.connected).toBe(true);
      expect(h.fake.violations).toEqual([]);
    });
  }

  it("reconnects over TLS when coderd restarts on the same port", async () => {
    const h = await harness({ tls: serverTls(coderd) });
    await h.daemon(daemonOptions({ tls: { caFile: coderd.certFile } }));
    const first = enqueueBuild(h.fake);
    expect((await h.fake.waitForJobEnd(first, 10_000)).status).toBe("succeeded");
    const port = h.fake.port;
    await h.fake.restart();
    expect(h.fake.port).toBe(port);
    const second = enqueueBuild(h.fake);
    expect((await h.fake.waitForJobEnd(second, 10_000)).status).toBe("succeeded");
    expect(h.fake.violations).toEqual([]);
  });
});

describe("mutual TLS", () => {
  it("completes a job with the client certificate and key", async () => {
    const h = await harness({ tls: serverTls(coderd, client) });
    const daemon = await h.daemon(
      daemonOptions({
        tls: { caFile: coderd.certFile, certFile: client.certFile, keyFile: client.keyFile },
      }),
    );
    const id = enqueueBuild(h.fake);
    expect((await h.fake.waitForJobEnd(id, 10_000)).status).toBe("succeeded");
    expect(daemon.connected).toBe(true);
    expect(h.log.text()).not.toContain(keyBody(client.keyPem));
  });

  for (const mode of MODES) {
    it(`stops with AuthenticationRefusedError naming the missing client certificate (${mode})`, async () => {
      const h = await harness({ tls: serverTls(coderd, client) });
      const id = enqueueBuild(h.fake);
      const daemon = await h.daemon(
        daemonOptions({ acquireMode: mode, tls: { caFile: coderd.certFile } }),
      );
      const error = await settledWithin(daemon.done, 10_000, "the daemon to stop");
      expect(error).toBeInstanceOf(AuthenticationRefusedError);
      expect((error as AuthenticationRefusedError).credential).toBe("tls-client-certificate");
      expect((error as Error).message).toMatch(/certificate required/);
      expect((error as Error).message).toMatch(/client certificate \(mutual TLS\)/);
      expect(daemon.state).toBe("stopped");
      expect(daemon.connected).toBe(false);
      // The handshake failed, so no call ever reached coderd and the job is still queued.
      expect(h.fake.calls).toEqual([]);
      expect(h.fake.job(id).status).toBe("pending");
      const fatal = await h.log.waitForLine(
        (line) => line.msg === "provisioner daemon cannot go on",
        "the fatal line",
      );
      expect(String(fatal.err)).toMatch(/certificate required/);
    });
  }

  it("a refusal alert from a Go coderd (bad certificate) is fatal too", () => {
    // The fake is Node, which drops a connection with an untrusted client certificate without
    // an alert; Go's TLS stack (coderd) sends bad_certificate, as OpenSSL reports it here.
    const refusals: AuthenticationRefusedError[] = [];
    const contacts: boolean[] = [];
    const coderdClient = new CoderdClient({
      coderUrl: "https://coder.example:443",
      psk: "psk",
      daemonId: "6b0a4f3e-2f59-4c4b-9d3e-0a1b2c3d4e5f",
      rpcTimeoutMs: 1_000,
      logger: pino({ level: "silent" }),
      onAuthRefused: (refused) => refusals.push(refused),
      onContact: (answered) => contacts.push(answered),
    });
    try {
      const details =
        "No connection established. Last error: 80ACA8CFDD7F0000:error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 42\n (2026-01-01T00:00:00.000Z). Resolution note: ";
      const error = coderdClient.classify({ code: status.UNAVAILABLE, details, message: details });
      expect(error).toBeInstanceOf(AuthenticationRefusedError);
      expect(error.message).toMatch(/TLS handshake refused: bad certificate/);
      expect(refusals).toEqual([error]);
      expect(contacts).toEqual([false]);
      // A connection refused is no TLS problem: still a plain, retried transport error.
      const refused = coderdClient.classify({
        code: status.UNAVAILABLE,
        details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:443",
      });
      expect(refused).toBeInstanceOf(TransportError);
      expect(refusals).toHaveLength(1);
    } finally {
      coderdClient.close();
    }
  });
});

describe("coderd's certificate refused by the daemon", () => {
  const cases = [
    { name: "no tls.caFile (system roots)", tls: undefined, mode: "stream" },
    { name: "no tls.caFile (system roots)", tls: undefined, mode: "poll" },
    { name: "tls.caFile of another CA", tls: { caFile: stranger.certFile }, mode: "stream" },
  ] as const;
  for (const c of cases) {
    it(`${c.name}: keeps retrying, not connected, warning that the certificate is not trusted (${c.mode})`, async () => {
      const h = await harness({ tls: serverTls(coderd) });
      const id = enqueueBuild(h.fake);
      const daemon = await h.daemon(
        daemonOptions({ acquireMode: c.mode, ...(c.tls ? { tls: c.tls } : {}) }),
      );
      // Two warnings: the daemon retries with backoff instead of wedging after the first.
      const warning = await acquireWarnings(
        h,
        c.mode,
        /coderd's TLS certificate is not trusted: self-signed certificate; give the CA that signed it in tls\.caFile/,
        2,
      );
      expect(String(warning.err)).not.toMatch(/Resolution note/);
      expect(daemon.connected).toBe(false);
      expect(daemon.state).toBe("running");
      expect(h.fake.calls).toEqual([]);
      expect(h.fake.job(id).status).toBe("pending");
    });
  }

  it("names a certificate for another host", async () => {
    const h = await harness({ tls: serverTls(elsewhere) });
    const daemon = await h.daemon(daemonOptions({ tls: { caFile: elsewhere.certFile } }));
    await acquireWarnings(
      h,
      "stream",
      /coderd's TLS certificate does not name the coder URL's host: it is for DNS:coder\.example, IP Address:127\.0\.0\.1, not localhost$/,
      1,
    );
    expect(daemon.connected).toBe(false);
  });

  it("names a coderd that does not speak TLS on an https:// URL", async () => {
    const h = await harness({});
    const daemon = await h.daemon(
      daemonOptions({
        coderUrl: `https://localhost:${h.fake.port}`,
        tls: { caFile: coderd.certFile },
      }),
    );
    await acquireWarnings(h, "stream", /TLS handshake with coderd failed: wrong version number/, 1);
    expect(daemon.connected).toBe(false);
  });

  it("connects, without a restart, once coderd serves a certificate the daemon trusts", async () => {
    const h = await harness({ tls: serverTls(stranger) });
    const daemon = await h.daemon(daemonOptions({ tls: { caFile: coderd.certFile } }));
    await acquireWarnings(h, "stream", /not trusted: self-signed certificate/, 1);
    // coderd comes back on the same address with its certificate fixed.
    await h.fake.stop();
    const fixed = await FakeCoderd.start({ port: h.fake.port, tls: serverTls(coderd) });
    extraFakes.push(fixed);
    const id = enqueueBuild(fixed);
    expect((await fixed.waitForJobEnd(id, 10_000)).status).toBe("succeeded");
    expect(daemon.connected).toBe(true);
  });
});

describe("TLS files", () => {
  async function startFails(tls: HarnessDaemonOptions["tls"]): Promise<Error> {
    const h = await harness({ tls: serverTls(coderd) });
    const daemon: Daemon = createDaemon({
      coderUrl: h.fake.url,
      psk: h.fake.psk,
      daemonId: "6b0a4f3e-2f59-4c4b-9d3e-0a1b2c3d4e5f",
      provisioners: [new ScriptProvisioner()],
      logger: h.log.logger,
      tls,
    });
    const error = await daemon.start().then(
      () => new Error("start() resolved"),
      (reason: Error) => reason,
    );
    await expect(daemon.done).rejects.toBe(error);
    expect(daemon.state).toBe("stopped");
    expect(h.fake.calls).toEqual([]);
    return error;
  }

  it("a tls.caFile that does not exist is an options error naming the file", async () => {
    const error = await startFails({ caFile: "/nonexistent/ca.pem" });
    expect(error).toBeInstanceOf(DaemonOptionsError);
    expect(error.message).toMatch(/^read TLS CA bundle "\/nonexistent\/ca\.pem": ENOENT/);
  });

  it("a tls.caFile that holds no PEM certificate is an options error naming the file", async () => {
    // Node would take it as an empty trust store, and every handshake would fail later.
    const notPem = file("not-a-ca.pem", "this is not a certificate\n");
    const error = await startFails({ caFile: notPem });
    expect(error).toBeInstanceOf(DaemonOptionsError);
    expect(error.message).toBe(`TLS CA bundle "${notPem}": no PEM certificate in it`);
  });

  it("a tls.keyFile that is no key is an options error naming the file", async () => {
    const error = await startFails({
      caFile: coderd.certFile,
      certFile: client.certFile,
      keyFile: client.certFile,
    });
    expect(error).toBeInstanceOf(DaemonOptionsError);
    expect(error.message).toMatch(new RegExp(`^TLS client key "${client.certFile}": `));
  });

  it("a client key that is not the certificate's names both files and never the key", async () => {
    const error = await startFails({
      caFile: coderd.certFile,
      certFile: client.certFile,
      keyFile: stranger.keyFile,
    });
    expect(error).toBeInstanceOf(DaemonOptionsError);
    expect(error.message).toContain(
      `TLS client certificate "${client.certFile}" and key "${stranger.keyFile}": `,
    );
    expect(error.message).not.toContain(keyBody(stranger.keyPem));
  });

  it("tls.certFile without tls.keyFile is refused by createDaemon", () => {
    expect(() =>
      createDaemon({
        coderUrl: "https://localhost:1",
        psk: "psk",
        provisioners: [new ScriptProvisioner()],
        tls: { certFile: client.certFile },
      }),
    ).toThrow(/certFile and keyFile go together/);
  });
});
