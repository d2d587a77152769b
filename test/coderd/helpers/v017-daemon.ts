// A daemon with real terraform wired to the strict dRPC fake coderd (generation v0.17) through
// the coderd v0.17 adapter, for the end-to-end tests of that adapter.
import type { Logger } from "pino";
import { expect, vi } from "vitest";
import { coderdV017 } from "../../../src/coderd/adapters/v017-adapter.js";
import { createDaemon, type Daemon, type DaemonOptions } from "../../../src/daemon/index.js";
import { WorkspaceTransition } from "../../../src/proto/provisioner.js";
import type { TerraformScratch } from "../../daemon/helpers/terraform.js";
import {
  FakeCoderdDrpc,
  type FakeJob,
  type FakeOptions,
  randomUUIDFixed,
} from "../fake-coderd-drpc.js";

export const TOKEN = "abcdefghij-0123456789abcdefghijkl";
export const LONG = 120_000;

export interface V017Setup {
  fake: FakeCoderdDrpc;
  daemon: Daemon;
  close(): Promise<void>;
}

/** Starts the fake, then a daemon polling it every 20 ms with `token`. */
export async function startV017(
  scratch: TerraformScratch,
  options: {
    token?: string;
    tags?: Record<string, string>;
    fake?: Partial<FakeOptions>;
    logger?: Logger;
    daemon?: Partial<DaemonOptions>;
  } = {},
): Promise<V017Setup> {
  const fake = await FakeCoderdDrpc.start({
    generation: "v0.17",
    sessionTokens: { [TOKEN]: { orgAdmin: true } },
    ...options.fake,
  });
  const coderUrl = new URL(fake.url.href.replace(/^ws/, "http"));
  const daemon = createDaemon({
    coderUrl: coderUrl.href,
    connect: coderdV017({
      coderUrl,
      organization: randomUUIDFixed,
      sessionToken: options.token ?? TOKEN,
      tags: options.tags ?? {},
    }),
    daemonId: "5d9f2c1e-6b7a-4c3d-8e9f-0a1b2c3d4e5f",
    provisioners: [scratch.provisioner],
    pollIntervalMs: 20,
    pollJitterMs: 0,
    heartbeatIntervalMs: 250,
    ...(options.logger ? { logger: options.logger } : {}),
    ...options.daemon,
  });
  await daemon.start();
  return {
    fake,
    daemon,
    async close() {
      await daemon.close();
      await fake.close();
    },
  };
}

/** Waits for the job's terminal message (or the fake's own failure of it). */
export async function ended(job: FakeJob, timeout = LONG): Promise<FakeJob> {
  await vi.waitFor(() => expect(job.state).toMatch(/completed|failed/), {
    timeout,
    interval: 50,
  });
  return job;
}

/** A v0.17 template import of `archive`. */
export function importJob(archive: Uint8Array): Record<string, unknown> {
  return {
    provisioner: "terraform",
    userName: "admin",
    templateSourceArchive: archive,
    type: { $case: "templateImport", value: { metadata: { coderUrl: "http://coder" } } },
  };
}

/** A v0.17 build of `archive` (a start by default) with the template's variables set. */
export function buildJob(
  archive: Uint8Array,
  variables: Record<string, string> = {},
  transition: WorkspaceTransition = WorkspaceTransition.START,
): Record<string, unknown> {
  return {
    provisioner: "terraform",
    userName: "admin",
    templateSourceArchive: archive,
    type: {
      $case: "workspaceBuild",
      value: {
        workspaceBuildId: "0b5a5f5e-1111-4222-8333-944445555666",
        workspaceName: "ws",
        variableValues: Object.entries(variables).map(([name, value]) => ({
          name,
          value,
          sensitive: false,
        })),
        metadata: {
          coderUrl: "http://coder",
          workspaceTransition: transition,
          workspaceName: "ws",
          workspaceOwner: "admin",
          workspaceId: "1b5a5f5e-1111-4222-8333-944445555666",
          workspaceOwnerId: "2b5a5f5e-1111-4222-8333-944445555666",
          workspaceOwnerEmail: "admin@example.com",
        },
      },
    },
  };
}
