import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSelfSignedCertificate } from "../fixtures/coder-provider/src/cert.js";
import {
  integer,
  namedBits,
  objectIdentifier,
  sequence,
  time,
  tlv,
  unsignedInteger,
} from "../fixtures/coder-provider/src/der.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("DER encoding", () => {
  it("uses the long length form from 128 bytes on", () => {
    expect(hex(tlv(0x04, Buffer.alloc(127))).slice(0, 4)).toBe("047f");
    expect(hex(tlv(0x04, Buffer.alloc(128))).slice(0, 6)).toBe("048180");
    expect(hex(tlv(0x04, Buffer.alloc(300))).slice(0, 8)).toBe("0482012c");
  });

  it("encodes integers minimally and positive", () => {
    expect(hex(integer(0))).toBe("020100");
    expect(hex(integer(2))).toBe("020102");
    expect(hex(integer(128))).toBe("02020080");
    expect(hex(unsignedInteger(Buffer.from([0, 0, 0xff])))).toBe("020200ff");
  });

  it("encodes object identifiers (base-128 arcs)", () => {
    expect(hex(objectIdentifier("1.2.840.10045.4.3.2"))).toBe("06082a8648ce3d040302");
    expect(hex(objectIdentifier("2.5.29.17"))).toBe("0603551d11");
  });

  it("drops trailing zero bits of named bit strings", () => {
    // digitalSignature (0) + keyCertSign (5): 1000 0100, two unused bits.
    expect(hex(namedBits([0, 5]))).toBe("03020284");
    expect(hex(namedBits([0]))).toBe("03020780");
  });

  it("writes UTCTime before 2050 and GeneralizedTime after", () => {
    expect(time(new Date("2024-02-03T04:05:06Z")).toString("latin1")).toBe("\x17\x0d240203040506Z");
    expect(time(new Date("2051-01-01T00:00:00Z")).toString("latin1")).toBe(
      "\x18\x0f20510101000000Z",
    );
  });

  it("nests sequences", () => {
    expect(hex(sequence(integer(1), sequence()))).toBe("30050201013000");
  });
});

describe("self-signed certificate", () => {
  it("is a valid localhost CA certificate signed by its own EC P-256 key", () => {
    const now = new Date("2030-06-01T12:00:00Z");
    const cert = createSelfSignedCertificate({ now, validForMs: 3600_000 });
    const x509 = new X509Certificate(cert.der);
    expect(x509.ca).toBe(true);
    expect(x509.checkHost("localhost")).toBe("localhost");
    expect(x509.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(x509.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    expect(x509.verify(cert.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(cert.privateKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(new Date(x509.validFrom).getTime()).toBe(now.getTime() - 60_000);
    expect(new Date(x509.validTo).getTime()).toBe(now.getTime() + 3600_000);
    expect(new X509Certificate(cert.certPem).fingerprint256).toBe(x509.fingerprint256);
  });

  it("differs on every call (fresh key and serial)", () => {
    const a = new X509Certificate(createSelfSignedCertificate().der);
    const b = new X509Certificate(createSelfSignedCertificate().der);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.publicKey.export({ format: "der", type: "spki" })).not.toEqual(
      b.publicKey.export({ format: "der", type: "spki" }),
    );
  });
});
