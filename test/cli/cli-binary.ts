// Runs the real built `provisionerd` binary (dist/src/cli/main.js) the way users do.
// The build is refreshed once, under a lock, when any source file is newer than the last build:
// test files run in parallel and other engineers edit sources in the same checkout.
import { existsSync, mkdtempSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { execa, type Options, type ResultPromise } from "execa";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BINARY = path.join(ROOT, "dist/src/cli/main.js");
const STAMP = path.join(ROOT, "dist/.cli-test-build");
const LOCK = path.join(ROOT, "dist/.cli-test-build.lock");

/** Builds with tsc when sources changed since the last test build. */
export async function ensureBuilt(): Promise<void> {
  // Inside the lock the check runs again, so parallel test files build only once.
  const script = `
    if [ -f "${STAMP}" ] && [ -f "${BINARY}" ] && [ -z "$(find src test/fixtures -newer "${STAMP}" -name '*.ts' -print -quit)" ]; then exit 0; fi
    touch "${STAMP}.next"
    npx tsc -p tsconfig.build.json >/dev/null 2>&1 || true
    mv "${STAMP}.next" "${STAMP}"
  `;
  await execa("mkdir", ["-p", path.dirname(LOCK)]);
  await execa("flock", [LOCK, "sh", "-c", script], { cwd: ROOT });
  if (!existsSync(BINARY)) throw new Error(`the build did not produce ${BINARY}`);
}

/** A child environment with only what a user's shell would typically have (no CODER_*). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.CHECKPOINT_DISABLE = "1";
  env.NO_COLOR = "1";
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

export function provisionerd(
  args: readonly string[],
  options: Options & { env?: Record<string, string> } = {},
): ResultPromise<Options> {
  return execa(process.execPath, [BINARY, ...args], {
    cwd: ROOT,
    reject: false,
    extendEnv: false,
    env: options.env ?? cleanEnv(),
    ...options,
  }) as ResultPromise<Options>;
}

/**
 * `provisionerd start` against `coderUrl` (the gRPC fake's `grpcUrl`), logging JSON, with work
 * and cache dirs in a fresh directory under `scratch`, so that daemons of one test file never
 * share them.
 */
export function provisionerdStart(options: {
  coderUrl: string;
  psk: string;
  scratch: string;
  args: readonly string[];
}): ResultPromise<Options> {
  const dir = mkdtempSync(path.join(options.scratch, "daemon-"));
  return provisionerd(
    [
      "start",
      "--coder-url",
      options.coderUrl,
      "--log-format",
      "json",
      "--work-dir",
      path.join(dir, "work"),
      "--cache-dir",
      path.join(dir, "cache"),
      ...options.args,
    ],
    {
      env: cleanEnv({ CODER_PROVISIONER_DAEMON_PSK: options.psk }),
      buffer: true,
      // A drain after SIGTERM lasts as long as the running job: execa's default SIGKILL 5 s
      // after kill() would end the daemon the tests are watching.
      forceKillAfterDelay: false,
    },
  );
}

/**
 * Calls `act` once, as soon as the child's stdout has shown `text`: tests react to what is on
 * screen rather than guess how long the child takes to get there.
 */
export function onceStdoutShows(
  child: { stdout: Readable | null },
  text: string,
  act: () => unknown,
): { readonly output: string; readonly acted: boolean } {
  let output = "";
  let acted = false;
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (!acted && output.includes(text)) {
      acted = true;
      act();
    }
  });
  return {
    get output() {
      return output;
    },
    get acted() {
      return acted;
    },
  };
}
