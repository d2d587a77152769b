// The reference data beside the repository (`../shared`) is present in CI but not in a fresh
// clone. Tests that read it go through `sharedData`, which skips them with a printed reason when
// it is absent, or fails them when PROVISIONERD_REQUIRE_SHARED=1 (set by .ci/run), so a CI run
// can never pass by skipping them.
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** The folder beside the repository root that holds the reference data. */
export const SHARED_ROOT = resolve(import.meta.dirname, "../../../shared");

export const REQUIRE_SHARED_ENV = "PROVISIONERD_REQUIRE_SHARED";

export interface SharedData {
  /** Absolute path of the requested folder or file under ../shared. */
  path: string;
  /** Whether it exists; when false the caller's tests must skip (`describe.skipIf(!ok)`). */
  ok: boolean;
}

const reported = new Set<string>();

/**
 * Locates `relative` under ../shared. When it is missing, prints once why the tests that need it
 * are skipped, or throws when the environment requires the data to be there.
 */
export function sharedData(relative: string): SharedData {
  const path = resolve(SHARED_ROOT, relative);
  const ok = existsSync(path);
  if (!ok) {
    const reason = `${path} is absent (the reference data beside the repository), so the tests that read it are skipped`;
    if (process.env[REQUIRE_SHARED_ENV] === "1") {
      throw new Error(`${reason}; ${REQUIRE_SHARED_ENV}=1 requires it`);
    }
    if (!reported.has(path)) {
      reported.add(path);
      console.warn(`SKIP: ${reason}`);
    }
  }
  return { path, ok };
}
