// Builds a real terraform provisioner in a scratch directory, and template archives from text.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { Metadata, type WorkspaceTransition } from "../../../src/provisioner/model.js";
import {
  type ApplyRequest,
  type PlanRequest,
  ProvisionError,
  type ProvisionerLog,
  type ProvisionSession,
} from "../../../src/provisioner/provisioner.js";
import {
  createTerraformProvisioner,
  type TerraformProvisioner,
  type TerraformProvisionerOptions,
} from "../../../src/terraform/index.js";
import { makeTar } from "./tar.js";

export interface Scratch {
  root: string;
  workDirRoot: string;
  cacheDir: string;
  provisioner: TerraformProvisioner;
  /** Work dirs still present under workDirRoot. */
  workDirs(): string[];
  cleanup(): void;
}

export function scratchProvisioner(
  options: Partial<TerraformProvisionerOptions> = {},
  dirPrefix = "tf-provisioner-test-",
): Scratch {
  const root = mkdtempSync(join(tmpdir(), dirPrefix));
  const workDirRoot = join(root, "work");
  const cacheDir = join(root, "cache");
  const provisioner = createTerraformProvisioner({
    workDirRoot,
    cacheDir,
    cancelGracePeriodMs: 30_000,
    ...options,
  });
  return {
    root,
    workDirRoot,
    cacheDir,
    provisioner,
    workDirs: () => {
      try {
        return readdirSync(workDirRoot);
      } catch {
        return [];
      }
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Opens a session on a template given as `{path: content}`, in slot 0. */
export function openTemplate(
  scratch: Scratch,
  files: Record<string, string>,
  jobId: string,
): Promise<ProvisionSession> {
  return scratch.provisioner.open({
    archive: templateArchive(files),
    jobId,
    slot: 0,
    signal: new AbortController().signal,
  });
}

/** The ProvisionError a call must fail with (the test fails if it succeeds or throws another). */
export async function provisionFailure(promise: Promise<unknown>): Promise<ProvisionError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProvisionError);
  return error as ProvisionError;
}

/** A template archive from `{path: content}`. */
export function templateArchive(files: Record<string, string>): Uint8Array {
  return makeTar(Object.entries(files).map(([name, data]) => ({ name, data })));
}

export function metadata(transition: WorkspaceTransition, extra: Partial<Metadata> = {}): Metadata {
  return Metadata.create({
    coderUrl: "https://coder.example.com/",
    workspaceTransition: transition,
    workspaceName: "dev",
    workspaceOwner: "alice",
    workspaceOwnerEmail: "alice@example.com",
    workspaceId: "3b1a7c8e-0000-4000-8000-000000000001",
    workspaceOwnerId: "3b1a7c8e-0000-4000-8000-000000000002",
    ...extra,
  });
}

/** Collects log lines; `waitFor` resolves when a line matching the predicate arrives. */
export class LogCollector {
  readonly logs: ProvisionerLog[] = [];
  private waiters: Array<{ match: (log: ProvisionerLog) => boolean; resolve: () => void }> = [];

  readonly sink = (log: ProvisionerLog): void => {
    this.logs.push(log);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(log)) return true;
      w.resolve();
      return false;
    });
  };

  waitFor(match: (log: ProvisionerLog) => boolean): Promise<void> {
    if (this.logs.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  text(): string {
    return this.logs.map((l) => l.output).join("\n");
  }
}

export function planRequest(
  transition: WorkspaceTransition,
  state: Uint8Array,
  logs: LogCollector,
  extra: Partial<PlanRequest> = {},
): PlanRequest {
  return {
    config: { metadata: metadata(transition), state },
    parameterValues: [],
    richParameterValues: [],
    variableValues: [],
    gitAuthProviders: [],
    signal: new AbortController().signal,
    onLog: logs.sink,
    ...extra,
  };
}

export function applyRequest(
  transition: WorkspaceTransition,
  state: Uint8Array,
  plan: Uint8Array,
  logs: LogCollector,
  extra: Partial<ApplyRequest> = {},
): ApplyRequest {
  return {
    config: { metadata: metadata(transition), state },
    plan,
    signal: new AbortController().signal,
    onLog: logs.sink,
    ...extra,
  };
}
