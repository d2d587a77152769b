// Authentication and identity travel as gRPC call metadata, never inside messages: messages
// get logged and recorded, metadata does not.
import { timingSafeEqual } from "node:crypto";
import { Metadata, status } from "@grpc/grpc-js";

export const PSK_METADATA_KEY = "coder-provisioner-daemon-psk";
export const DAEMON_ID_METADATA_KEY = "coder-provisioner-daemon-id";

export interface CallIdentity {
  psk: string;
  daemonId: string;
}

export function buildCallMetadata(identity: CallIdentity): Metadata {
  const metadata = new Metadata();
  metadata.set(PSK_METADATA_KEY, identity.psk);
  metadata.set(DAEMON_ID_METADATA_KEY, identity.daemonId);
  return metadata;
}

/** A refused call, shaped as grpc-js expects from a service handler. */
export interface CallRefusal {
  code: status;
  details: string;
}

function single(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === "string" && value !== "" ? value : undefined;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; the length check leaks only the length.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Server side: checks the PSK and returns the caller's daemon id, or the refusal to send.
 * The refusal text says what is wrong but never echoes what was sent.
 */
export function authenticateCall(
  metadata: Metadata,
  expectedPsk: string,
): { daemonId: string } | CallRefusal {
  const psk = single(metadata, PSK_METADATA_KEY);
  if (psk === undefined) {
    return {
      code: status.UNAUTHENTICATED,
      details: `provisioner daemon pre-shared key missing: send it as "${PSK_METADATA_KEY}" call metadata`,
    };
  }
  if (!sameSecret(psk, expectedPsk)) {
    return {
      code: status.UNAUTHENTICATED,
      details: "provisioner daemon pre-shared key is invalid",
    };
  }
  const daemonId = single(metadata, DAEMON_ID_METADATA_KEY);
  if (daemonId === undefined) {
    return {
      code: status.INVALID_ARGUMENT,
      details: `daemon id missing: send it as "${DAEMON_ID_METADATA_KEY}" call metadata`,
    };
  }
  return { daemonId };
}

export function isRefusal(result: { daemonId: string } | CallRefusal): result is CallRefusal {
  return "code" in result;
}
