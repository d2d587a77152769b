// The coderd generation behind an http(s):// URL, from GET /api/v2/buildinfo.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { detectCoderdApi } from "../../src/cli/coderd-generation.js";
import { FakeCoderdDrpc, type Generation } from "../coderd/fake-coderd-drpc.js";

let fake: FakeCoderdDrpc | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function urlOf(generation: Generation, buildVersion?: string): Promise<URL> {
  fake = await FakeCoderdDrpc.start({ generation, ...(buildVersion ? { buildVersion } : {}) });
  return fake.url;
}

describe("detectCoderdApi", () => {
  it("reads v0.x as coderd v0.17 and v2.x as coderd v2", async () => {
    expect(await detectCoderdApi(await urlOf("v0.17"), {})).toEqual({
      api: "v0.17",
      version: "v0.17.4+a1b2c3d",
    });
    await fake?.close();
    expect(await detectCoderdApi(await urlOf("v2"), {})).toEqual({
      api: "v2",
      version: "v2.35.0+f963381",
    });
  });

  it("falls back to v2 and says why when buildinfo cannot be read", async () => {
    const server = createServer((_, response) => {
      response.statusCode = 502;
      response.end("bad gateway");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const choice = await detectCoderdApi(new URL(`http://127.0.0.1:${port}/`), {});
      expect(choice).toEqual({
        api: "v2",
        version: undefined,
        problem: `http://127.0.0.1:${port}/api/v2/buildinfo answered HTTP 502`,
      });
    } finally {
      server.close();
    }
    expect(await detectCoderdApi(await urlOf("v2", "v3.0.0"), {})).toMatchObject({
      api: "v2",
      problem: 'unknown coderd version "v3.0.0"',
    });
  });
});
