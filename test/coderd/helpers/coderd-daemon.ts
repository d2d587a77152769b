// A daemon wired to the strict dRPC fake coderd through the adapter of either generation
// (v0.17 with a session token, v2 with a PSK unless told otherwise), and the jobs the
// end-to-end tests queue on it. The job payloads are written once for both generations: each
// layout's `fromPartial` takes the fields it has (v2 has no legacy parameters, v0.17 none of
// v2's extra metadata).
import type { Logger } from "pino";
import { expect, vi } from "vitest";
import { coderdV2 } from "../../../src/coderd/adapters/v2-adapter.js";
import { coderdV017 } from "../../../src/coderd/adapters/v017-adapter.js";
import type { CoderdCredential } from "../../../src/coderd/handshake.js";
import { createDaemon, type Daemon, type DaemonOptions, STAGE } from "../../../src/daemon/index.js";
import { WorkspaceTransition } from "../../../src/provisioner/model.js";
import { type TerraformScratch, templateTar } from "../../daemon/helpers/terraform.js";
import {
  FakeCoderdDrpc,
  type FakeJob,
  type FakeOptions,
  type Generation,
  randomUUIDFixed,
} from "../fake-coderd-drpc.js";

export const TOKEN = "abcdefghij-0123456789abcdefghijkl";
export const PSK = "psk-0123456789-abcdefghij";
export const LONG = 120_000;
/** Five terraform runs in a row (import, dry run, start, stop, delete) on a loaded machine. */
export const LIFECYCLE_TIMEOUT = 300_000;
/** The name a v2 daemon connects under (v2 coderd owns jobs by it). */
export const V2_DAEMON_NAME = "daemon-under-test";

export interface CoderdSetup {
  fake: FakeCoderdDrpc;
  daemon: Daemon;
  close(): Promise<void>;
}

export interface CoderdDaemonOptions {
  /** v0.17: the session token sent (default TOKEN). */
  token?: string;
  /** v2: the credential sent (default the fake's PSK). */
  credential?: CoderdCredential;
  tags?: Record<string, string>;
  fake?: Partial<FakeOptions>;
  logger?: Logger;
  daemon?: Partial<DaemonOptions>;
}

/** Starts a fake of `generation`, then a daemon on it with terraform from `scratch`. */
export async function startCoderdDaemon(
  generation: Generation,
  scratch: TerraformScratch,
  options: CoderdDaemonOptions = {},
): Promise<CoderdSetup> {
  const fake = await FakeCoderdDrpc.start(
    generation === "v0.17"
      ? { generation, sessionTokens: { [TOKEN]: { orgAdmin: true } }, ...options.fake }
      : { generation, psk: PSK, ...options.fake },
  );
  const coderUrl = fake.url;
  const connect =
    generation === "v0.17"
      ? coderdV017({
          coderUrl,
          organization: randomUUIDFixed,
          sessionToken: options.token ?? TOKEN,
          tags: options.tags ?? {},
        })
      : coderdV2({
          coderUrl,
          credential: options.credential ?? { kind: "psk", psk: PSK },
          tags: options.tags ?? {},
          name: V2_DAEMON_NAME,
          buildVersion: "v0.0.0-test",
        });
  const daemon = createDaemon({
    coderUrl: coderUrl.href,
    connect,
    daemonId: "5d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
    provisioners: [scratch.provisioner],
    // v0.17 polls; v2 holds acquires open and waits on the interval only after an empty answer.
    pollIntervalMs: generation === "v0.17" ? 20 : 1,
    pollJitterMs: 0,
    heartbeatIntervalMs: 250,
    ...(options.logger ? { logger: options.logger } : {}),
    ...options.daemon,
  });
  try {
    await daemon.start();
  } catch (error) {
    await fake.close();
    throw error;
  }
  return {
    fake,
    daemon,
    async close() {
      await daemon.close();
      await fake.close();
    },
  };
}

/** Starts the v0.17 fake, then a daemon polling it every 20 ms with `token`. */
export function startV017(
  scratch: TerraformScratch,
  options: Omit<CoderdDaemonOptions, "credential"> = {},
): Promise<CoderdSetup> {
  return startCoderdDaemon("v0.17", scratch, options);
}

/** Starts the v2 fake, then a daemon holding an AcquireJobWithCancel open on it. */
export function startV2(
  scratch: TerraformScratch,
  options: Omit<CoderdDaemonOptions, "token"> = {},
): Promise<CoderdSetup> {
  return startCoderdDaemon("v2", scratch, options);
}

/** Waits for the job's terminal message (or the fake's own failure of it). */
export async function ended(job: FakeJob, timeout = LONG): Promise<FakeJob> {
  await vi.waitFor(() => expect(job.state).toMatch(/completed|failed/), {
    timeout,
    interval: 50,
  });
  return job;
}

const BUILD = {
  workspaceBuildId: "0b5a5f5e-1111-4222-8333-944445555666",
  workspaceId: "1b5a5f5e-1111-4222-8333-944445555666",
  workspaceOwnerId: "2b5a5f5e-1111-4222-8333-944445555666",
};

function variableValues(variables: Record<string, string>) {
  return Object.entries(variables).map(([name, value]) => ({ name, value, sensitive: false }));
}

/** A template import of `archive`. */
export function importJob(archive: Uint8Array): Record<string, unknown> {
  return {
    provisioner: "terraform",
    userName: "admin",
    templateSourceArchive: archive,
    type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
  };
}

/** A template dry run of `archive` (a workspace start that is planned, never applied). */
export function dryRunJob(
  archive: Uint8Array,
  variables: Record<string, string> = {},
): Record<string, unknown> {
  return {
    provisioner: "terraform",
    userName: "admin",
    templateSourceArchive: archive,
    type: {
      $case: "templateDryRun",
      value: {
        variableValues: variableValues(variables),
        metadata: {
          coderUrl: "http://coder",
          workspaceTransition: WorkspaceTransition.START,
          workspaceName: "dry-run",
          workspaceOwner: "admin",
        },
      },
    },
  };
}

/**
 * A build of `archive` (a start by default) with the template's variables set, from `state`
 * (the state the previous build of the workspace handed back).
 */
export function buildJob(
  archive: Uint8Array,
  variables: Record<string, string> = {},
  transition: WorkspaceTransition = WorkspaceTransition.START,
  state?: Uint8Array,
): Record<string, unknown> {
  return {
    provisioner: "terraform",
    userName: "admin",
    templateSourceArchive: archive,
    type: {
      $case: "workspaceBuild",
      value: {
        workspaceBuildId: BUILD.workspaceBuildId,
        workspaceName: "ws",
        variableValues: variableValues(variables),
        ...(state === undefined ? {} : { state }),
        metadata: {
          coderUrl: "http://coder",
          workspaceTransition: transition,
          workspaceName: "ws",
          workspaceOwner: "admin",
          workspaceId: BUILD.workspaceId,
          workspaceOwnerId: BUILD.workspaceOwnerId,
          workspaceOwnerEmail: "admin@example.com",
          // v2 only
          workspaceOwnerName: "Admin",
          workspaceBuildId: BUILD.workspaceBuildId,
        },
      },
    },
  };
}

/** `job` (a build) with more fields of its layout's AcquiredJob.WorkspaceBuild set. */
export function withBuildFields(
  job: Record<string, unknown>,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const type = job.type as { $case: string; value: Record<string, unknown> };
  return { ...job, type: { ...type, value: { ...type.value, ...fields } } };
}

/** What both layouts' messages have in common, as far as the lifecycle checks read them. */
interface Agent {
  name: string;
}
interface Resource {
  type: string;
  name: string;
  agents: Agent[];
}
interface JobUpdate {
  logs: { stage: string; output: string }[];
}
type Completed = {
  type?:
    | { $case: "templateImport"; value: { startResources: Resource[]; stopResources: Resource[] } }
    | { $case: "templateDryRun"; value: { resources: Resource[] } }
    | { $case: "workspaceBuild"; value: { state: Uint8Array; resources: Resource[] } };
};
interface TfState {
  lineage: string;
  serial: number;
  resources: { mode: string; type: string; name: string }[];
}

/** The job's log stages in order, each once per run of lines. */
export function stages(job: FakeJob): string[] {
  const out: string[] = [];
  for (const update of job.updates as JobUpdate[]) {
    for (const log of update.logs) if (out.at(-1) !== log.stage) out.push(log.stage);
  }
  return out;
}

type Result = NonNullable<Completed["type"]>;
type ResultOf<C extends Result["$case"]> = Extract<Result, { $case: C }>["value"];

function result<C extends Result["$case"]>(job: FakeJob, kind: C): ResultOf<C> {
  expect(job.failure, `${kind} job ${job.id}`).toBeUndefined();
  expect(job.state).toBe("completed");
  const type = (job.terminal as Completed).type;
  expect(type?.$case).toBe(kind);
  return type?.value as ResultOf<C>;
}

const stateOf = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString("utf8")) as TfState;
/** The managed resources the state records (data sources are read again on every run). */
const addresses = (state: TfState) =>
  state.resources
    .filter((r) => r.mode === "managed")
    .map((r) => `${r.type}.${r.name}`)
    .sort();
const shape = (resources: Resource[]) =>
  resources.map((r) => [r.type, r.name, r.agents.map((a) => a.name)]);

/**
 * The `minimal` template through a whole workspace life with real terraform: import, dry run,
 * start, stop and delete, each build from the state the previous one handed back (as coderd
 * does). Checks what coderd received at each step; resolves with the jobs for more checks.
 */
export async function lifecycle(
  fake: FakeCoderdDrpc,
  options: { build?: (job: Record<string, unknown>) => Record<string, unknown> } = {},
): Promise<Record<"imported" | "dryRun" | "start" | "stop" | "destroy", FakeJob>> {
  const archive = templateTar("minimal");
  const queue = (job: Record<string, unknown>) => ended(fake.enqueue(job));
  const build = options.build ?? ((job) => job);

  const imported = await queue(importJob(archive));
  const template = result(imported, "templateImport");
  expect(shape(template.startResources)).toEqual([["terraform_data", "dev", ["main"]]]);
  expect(template.stopResources.flatMap((r) => r.agents)).toEqual([]);
  expect(stages(imported)).toEqual([
    STAGE.settingUp,
    STAGE.addingReadme,
    STAGE.parsingParameters,
    STAGE.persistentResources,
    STAGE.ephemeralResources,
    STAGE.cleaningUp,
  ]);

  const dryRun = await queue(dryRunJob(archive));
  expect(shape(result(dryRun, "templateDryRun").resources)).toEqual([
    ["terraform_data", "dev", ["main"]],
  ]);
  expect(stages(dryRun)).toEqual([STAGE.settingUp, STAGE.persistentResources, STAGE.cleaningUp]);

  const start = await queue(build(buildJob(archive)));
  const started = result(start, "workspaceBuild");
  expect(shape(started.resources)).toEqual([["terraform_data", "dev", ["main"]]]);
  const startState = stateOf(started.state);
  expect(addresses(startState)).toEqual(["coder_agent.main", "terraform_data.dev"]);
  expect(stages(start)).toEqual([
    STAGE.settingUp,
    STAGE.planning,
    STAGE.starting,
    STAGE.cleaningUp,
  ]);

  // Each transition gets the state the previous build handed back, and continues it: the same
  // lineage, a later serial (terraform read it, rather than starting from nothing).
  const stop = await queue(build(buildJob(archive, {}, WorkspaceTransition.STOP, started.state)));
  const stopped = result(stop, "workspaceBuild");
  expect(stopped.resources.find((r) => r.name === "dev")).toBeUndefined();
  const stopState = stateOf(stopped.state);
  expect(stopState.lineage).toBe(startState.lineage);
  expect(stopState.serial).toBeGreaterThan(startState.serial);
  expect(addresses(stopState)).toEqual(["coder_agent.main"]);
  expect(stages(stop)).toEqual([STAGE.settingUp, STAGE.planning, STAGE.stopping, STAGE.cleaningUp]);

  const destroy = await queue(
    build(buildJob(archive, {}, WorkspaceTransition.DESTROY, stopped.state)),
  );
  const destroyed = result(destroy, "workspaceBuild");
  expect(destroyed.resources).toEqual([]);
  const finalState = stateOf(destroyed.state);
  expect(finalState.lineage).toBe(startState.lineage);
  expect(finalState.serial).toBeGreaterThan(stopState.serial);
  expect(addresses(finalState)).toEqual([]);
  expect(stages(destroy)).toEqual([
    STAGE.settingUp,
    STAGE.planning,
    STAGE.destroying,
    STAGE.cleaningUp,
  ]);

  expect(fake.violations).toEqual([]);
  return { imported, dryRun, start, stop, destroy };
}
