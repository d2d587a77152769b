// TLS to coderd: channel credentials from PEM files, checked when the daemon starts (a file
// that is no PEM must not become an empty trust store that fails every handshake later), and
// handshake failures named. grpc-js reports a failed handshake only as text inside an
// UNAVAILABLE status, so that text is where the cause is read from.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials } from "@grpc/grpc-js";
import { DaemonOptionsError, errorMessage } from "./errors.js";

export interface TlsFiles {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new DaemonOptionsError(`read TLS ${what} "${file}": ${errorMessage(error)}`);
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** What is wrong with a PEM certificate file's content (a CA bundle or a chain), if anything. */
export function pemCertificatesProblem(pem: Buffer): string | undefined {
  const blocks = pem.toString("latin1").match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) return "no PEM certificate in it";
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `certificate ${index + 1} cannot be read: ${errorMessage(error)}`;
    }
  }
  return undefined;
}

/** What is wrong with a PEM private key file's content, if anything. */
export function pemPrivateKeyProblem(pem: Buffer): string | undefined {
  try {
    createPrivateKey(pem);
    return undefined;
  } catch (error) {
    // OpenSSL's reason; it never quotes the key.
    return errorMessage(error);
  }
}

function readChecked(file: string, what: string, check: (pem: Buffer) => string | undefined) {
  const pem = readFile(file, what);
  const problem = check(pem);
  if (problem !== undefined) throw new DaemonOptionsError(`TLS ${what} "${file}": ${problem}`);
  return pem;
}

export function channelCredentials(secure: boolean, tls: TlsFiles | undefined): ChannelCredentials {
  if (!secure) {
    if (tls?.caFile || tls?.certFile) {
      throw new DaemonOptionsError(
        "TLS files were given but the coder URL is http://; use https://",
      );
    }
    return credentials.createInsecure();
  }
  const ca = tls?.caFile ? readChecked(tls.caFile, "CA bundle", pemCertificatesProblem) : null;
  const cert = tls?.certFile
    ? readChecked(tls.certFile, "client certificate", pemCertificatesProblem)
    : null;
  const key = tls?.keyFile ? readChecked(tls.keyFile, "client key", pemPrivateKeyProblem) : null;
  try {
    return credentials.createSsl(ca, key, cert);
  } catch (error) {
    // Both files parse, so what is left is the pair itself (e.g. the key is not the cert's).
    const pair = `TLS client certificate "${tls?.certFile}" and key "${tls?.keyFile}"`;
    throw new DaemonOptionsError(`${pair}: ${errorMessage(error)}`);
  }
}

export type TlsProblem =
  /** coderd refused our client certificate (none given, untrusted, expired...): configuration. */
  | { kind: "client-certificate-refused"; reason: string; message: string }
  /** We refused coderd's certificate, or coderd did not speak TLS: it may be fixed on its side. */
  | { kind: "server-certificate-rejected" | "handshake-failed"; reason: string; message: string };

// OpenSSL's texts for alerts the peer sent about a certificate. The only certificate the daemon
// sends is its client certificate, so such an alert is coderd refusing it.
const PEER_CERTIFICATE_ALERT =
  /alert (certificate required|bad certificate|unknown ca|certificate expired|certificate revoked|certificate unknown|unsupported certificate|access denied)/i;
// Node's and OpenSSL's texts for coderd's certificate chain failing our verification.
const SERVER_CERTIFICATE_UNTRUSTED =
  /self[- ]signed certificate(?: in certificate chain)?|unable to (?:verify the first certificate|get local issuer certificate|get issuer certificate)|certificate (?:has expired|is not yet valid|signature failure|revoked)|unsupported certificate purpose|invalid CA certificate/i;
// Node's checkServerIdentity text; grpc-js appends ". Resolution note: ..." to it.
const SERVER_HOST_MISMATCH =
  /Host: (\S+?)\. is not in the cert's altnames: (.*?)(?:\. Resolution note|\n|$)/;
// Not TLS on the other end (e.g. https:// to a plaintext port), or no common protocol.
const HANDSHAKE_FAILED =
  /wrong version number|packet length too long|alert handshake failure|alert protocol version|no protocols available/i;

/** Names a TLS handshake failure hidden in a grpc-js status text, or undefined. */
export function tlsProblem(details: string): TlsProblem | undefined {
  const peerAlert = PEER_CERTIFICATE_ALERT.exec(details);
  if (peerAlert !== null) {
    const reason = (peerAlert[1] as string).toLowerCase();
    const advice =
      reason === "certificate required"
        ? "coderd requires a client certificate (mutual TLS); set tls.certFile and tls.keyFile (--tls-cert, --tls-key)"
        : "check tls.certFile and tls.keyFile (--tls-cert, --tls-key) against the CA coderd trusts for clients";
    return {
      kind: "client-certificate-refused",
      reason,
      message: `TLS handshake refused: ${reason}: ${advice}`,
    };
  }
  const untrusted = SERVER_CERTIFICATE_UNTRUSTED.exec(details);
  if (untrusted !== null) {
    const reason = untrusted[0];
    return {
      kind: "server-certificate-rejected",
      reason,
      message: `coderd's TLS certificate is not trusted: ${reason}; give the CA that signed it in tls.caFile (--tls-ca)`,
    };
  }
  const mismatch = SERVER_HOST_MISMATCH.exec(details);
  if (mismatch !== null) {
    const reason = `it is for ${mismatch[2]}, not ${mismatch[1]}`;
    return {
      kind: "server-certificate-rejected",
      reason,
      message: `coderd's TLS certificate does not name the coder URL's host: ${reason}`,
    };
  }
  const handshake = HANDSHAKE_FAILED.exec(details);
  if (handshake !== null) {
    const reason = handshake[0];
    return {
      kind: "handshake-failed",
      reason,
      message: `TLS handshake with coderd failed: ${reason}; does the coder URL's scheme (https:// or http://) match what coderd serves?`,
    };
  }
  return undefined;
}
