// Every binary message sample captured from coderd's own generated code decodes with our layouts
// to the JSON rendering beside it, and encodes back to the same bytes.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as v2provisioner from "../../src/coderd/v2/gen/provisioner.js";
import * as v2provisionerd from "../../src/coderd/v2/gen/provisionerd.js";
import * as v017provisioner from "../../src/coderd/v017/gen/provisioner.js";
import * as v017provisionerd from "../../src/coderd/v017/gen/provisionerd.js";
import { sharedData } from "../helpers/shared-data.js";

interface Codec {
  decode(input: Uint8Array): unknown;
  encode(message: never): { finish(): Uint8Array };
  fromJSON(object: unknown): unknown;
  toJSON(message: never): unknown;
}

const layouts = {
  "v0.17.4": { provisioner: v017provisioner, provisionerd: v017provisionerd },
  "v2-api-1.18": { provisioner: v2provisioner, provisionerd: v2provisionerd },
} as const;

function codecFor(layout: keyof typeof layouts, fullName: string): Codec {
  const [pkg, name] = fullName.split(".") as ["provisioner" | "provisionerd", string];
  const codec = (layouts[layout][pkg] as Record<string, unknown>)[name];
  if (codec === undefined) throw new Error(`${layout} has no message ${fullName}`);
  return codec as Codec;
}

/** True for the values proto3 JSON prints for an unset field when unpopulated fields are emitted. */
function isDefault(value: unknown): boolean {
  if (value === null || value === "" || value === 0 || value === "0" || value === false) {
    return true;
  }
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === "object") return Object.keys(value).length === 0;
  return false;
}

/** Every field ts-proto printed is in the reference JSON with the same value (it omits defaults). */
function expectPrintedSubset(printed: unknown, reference: unknown, path: string): void {
  if (printed !== null && typeof printed === "object" && !Array.isArray(printed)) {
    expect(typeof reference, path).toBe("object");
    const ref = reference as Record<string, unknown>;
    for (const [key, value] of Object.entries(printed)) {
      expect(ref, `${path}.${key}`).toHaveProperty([key]);
      expectPrintedSubset(value, ref[key], `${path}.${key}`);
    }
    return;
  }
  if (Array.isArray(printed)) {
    expect(Array.isArray(reference), path).toBe(true);
    expect((reference as unknown[]).length, path).toBe(printed.length);
    printed.forEach((item, i) => {
      expectPrintedSubset(item, (reference as unknown[])[i], `${path}[${i}]`);
    });
    return;
  }
  // int64 prints as a number here and as a decimal string in proto3 JSON.
  if (typeof printed === "number" && typeof reference === "string") {
    expect(String(printed), path).toBe(reference);
    return;
  }
  // ts-proto prints a Timestamp through Date (milliseconds); the byte and fromJSON checks above
  // prove the nanoseconds survive decoding and encoding.
  if (typeof printed === "string" && typeof reference === "string" && TIMESTAMP.test(reference)) {
    expect(printed, path).toBe(reference.replace(TIMESTAMP, "$1Z"));
    return;
  }
  expect(printed, path).toEqual(reference);
}

const TIMESTAMP = /(T\d\d:\d\d:\d\d\.\d{3})\d*Z$/;

for (const layout of Object.keys(layouts) as (keyof typeof layouts)[]) {
  const dir = sharedData(`coderd-wire/messages/${layout}`);
  describe.skipIf(!dir.ok)(`coderd ${layout} message samples`, () => {
    const samples = dir.ok
      ? readdirSync(dir.path)
          .filter((f) => f.endsWith(".bin"))
          .sort()
      : [];
    it("finds the samples", () => {
      expect(samples.length).toBeGreaterThan(15);
    });
    for (const file of samples) {
      it(file, () => {
        const fullName = file.slice(0, file.indexOf("__"));
        const codec = codecFor(layout, fullName);
        const bytes = new Uint8Array(readFileSync(join(dir.path, file)));
        const json: unknown = JSON.parse(
          readFileSync(join(dir.path, file.replace(/\.bin$/, ".json")), "utf8"),
        );
        const decoded = codec.decode(bytes);
        // Re-encoding gives the same bytes (the samples were marshalled deterministically).
        expect(Buffer.from(codec.encode(decoded as never).finish()).toString("hex")).toBe(
          Buffer.from(bytes).toString("hex"),
        );
        // The reference JSON parses to the same message, and encodes to the same bytes.
        const parsed = codec.fromJSON(json);
        expect(parsed).toEqual(decoded);
        expect(Buffer.from(codec.encode(parsed as never).finish())).toEqual(Buffer.from(bytes));
        // What we print agrees with the reference, which adds only unset (default) fields.
        const printed = codec.toJSON(decoded as never);
        expectPrintedSubset(printed, json, fullName);
        for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
          if (!(key in (printed as Record<string, unknown>)) && !isDefault(value)) {
            // An enum's zero value prints by name; it must decode to 0.
            expect((decoded as Record<string, unknown>)[key], `${fullName}.${key}`).toBe(0);
          }
        }
      });
    }
  });
}
