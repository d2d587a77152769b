import { describe, expect, it } from "vitest";
import {
  conform,
  decodeMsgpack,
  encodeMsgpack,
  isWhollyKnown,
  UNKNOWN,
  valuesEqual,
} from "../fixtures/coder-provider/src/cty.js";

const objectType = [
  "object",
  {
    name: "string",
    count: "number",
    enabled: "bool",
    tags: ["map", "string"],
    items: ["list", "string"],
  },
] as const;

describe("msgpack DynamicValues", () => {
  it("encodes an unknown as Terraform does (fixext 1, type 0)", () => {
    expect(encodeMsgpack(UNKNOWN, "string").toString("hex")).toBe("d40000");
  });

  it("decodes unknowns, including refined ones (extension 12)", () => {
    expect(decodeMsgpack(Buffer.from("d40000", "hex"))).toBe(UNKNOWN);
    expect(decodeMsgpack(Buffer.from("d70c0000000000000000", "hex"))).toBe(UNKNOWN);
  });

  it("round-trips objects, filling missing attributes with null", () => {
    const encoded = encodeMsgpack({ name: "a", count: 3, items: ["x", UNKNOWN] }, objectType);
    expect(decodeMsgpack(encoded)).toEqual({
      count: 3,
      enabled: null,
      items: ["x", UNKNOWN],
      name: "a",
      tags: null,
    });
  });

  it("keeps non-integral numbers as floats", () => {
    expect(decodeMsgpack(encodeMsgpack(1.5, "number"))).toBe(1.5);
    expect(decodeMsgpack(encodeMsgpack(2 ** 40, "number"))).toBe(2 ** 40);
  });

  it("decodes an empty buffer as null", () => {
    expect(decodeMsgpack(new Uint8Array(0))).toBeNull();
  });
});

describe("conform", () => {
  it("converts primitives the way cty converts them", () => {
    expect(conform(5, "string")).toBe("5");
    expect(conform("12", "number")).toBe(12);
    expect(conform("true", "bool")).toBe(true);
    expect(() => conform("x", "number")).toThrow(/cannot use "x" as number/);
  });

  it("drops attributes the type does not have", () => {
    expect(conform({ name: "a", extra: 1 }, ["object", { name: "string" }])).toEqual({ name: "a" });
  });
});

describe("value helpers", () => {
  it("tells wholly known values from partly unknown ones", () => {
    expect(isWhollyKnown({ a: [1, { b: "x" }] })).toBe(true);
    expect(isWhollyKnown({ a: [1, { b: UNKNOWN }] })).toBe(false);
  });

  it("compares deeply and never treats unknowns as equal", () => {
    expect(valuesEqual({ a: [1, 2] }, { a: [1, 2] })).toBe(true);
    expect(valuesEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(valuesEqual(UNKNOWN, UNKNOWN)).toBe(false);
  });
});
