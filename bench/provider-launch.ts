// What one launch of the test coder provider costs: spawn through the mirror's #!/bin/sh wrapper,
// go-plugin handshake (key + certificate), mutual-TLS connection, GetSchema, Shutdown, exit.
// Terraform pays this about three times per plan and per apply.
//
//   npx tsx bench/provider-launch.ts [runs]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchProvider } from "../test/fixtures/coder-provider/client.js";
import { createProviderMirror } from "../test/fixtures/coder-provider/mirror.js";
import { median, round } from "./lib/stats.js";

export interface ProviderLaunchFigures {
  /** Median milliseconds from spawn to process exit, over `runs` launches. */
  medianMs: number;
  /** Median milliseconds from spawn to the handshake line. */
  handshakeMedianMs: number;
  runs: number;
}

/** Launches the provider `runs` times (after one warm-up) and returns the medians. */
export async function measureProviderLaunch(runs = 10): Promise<ProviderLaunchFigures> {
  const dir = await mkdtemp(join(tmpdir(), "bench-provider-launch-"));
  try {
    const { executable } = await createProviderMirror(dir);
    const total: number[] = [];
    const handshake: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const start = performance.now();
      const provider = await launchProvider(executable);
      const ready = performance.now();
      const schema = await provider.call("/tfplugin5.Provider/GetSchema", new Uint8Array(0));
      if (schema.status !== 0) throw new Error(`GetSchema failed: ${schema.message}`);
      const exit = await provider.shutdown();
      if (exit.code !== 0)
        throw new Error(`provider exited with ${exit.code}: ${provider.stderr()}`);
      if (i === 0) continue; // warm-up: file system caches
      total.push(performance.now() - start);
      handshake.push(ready - start);
    }
    return {
      medianMs: round(median(total), 1),
      handshakeMedianMs: round(median(handshake), 1),
      runs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The figure the issue asks for: milliseconds per provider launch (median). */
export async function providerLaunchMs(runs = 10): Promise<number> {
  return (await measureProviderLaunch(runs)).medianMs;
}

/** The benchmark runner's entry: named figures, like the other bench/ files. */
export async function benchProviderLaunch(): Promise<{
  provider_launch_ms: number;
  provider_handshake_ms: number;
}> {
  const figures = await measureProviderLaunch();
  return {
    provider_launch_ms: figures.medianMs,
    provider_handshake_ms: figures.handshakeMedianMs,
  };
}

export default benchProviderLaunch;

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await measureProviderLaunch(Number(process.argv[2] ?? 10));
  console.log(JSON.stringify(figures));
}
