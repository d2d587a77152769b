// Every coderd v2 (API 1.18) job message sample goes through our own messages and back: the
// fields that do not survive are exactly the ones our domain has no place for, listed here.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as map from "../../src/coderd/adapters/v2-mapping.js";
import * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import * as v017sdk from "../../src/coderd/v017/gen/provisioner.js";
import { App, Resource } from "../../src/provisioner/model.js";
import { convertResources } from "../../src/terraform/convert/resources.js";
import { sharedData } from "../helpers/shared-data.js";

/** Decodes a sample and sends it through ours and back: both as JSON. */
type RoundTrip = (bytes: Uint8Array) => [unknown, unknown];
function roundTrip<T>(
  codec: { decode(bytes: Uint8Array): T; toJSON(message: T): unknown },
  trip: (message: T) => T,
): RoundTrip {
  return (bytes) => {
    const message = codec.decode(bytes);
    return [codec.toJSON(message), codec.toJSON(trip(message))];
  };
}
const trips: Record<string, RoundTrip> = {
  AcquiredJob: roundTrip(v2.AcquiredJob, (m) => map.acquiredJobToV2(map.acquiredJobFromV2(m))),
  UpdateJobRequest: roundTrip(v2.UpdateJobRequest, (m) =>
    map.updateJobRequestToV2(map.updateJobRequestFromV2(m)),
  ),
  UpdateJobResponse: roundTrip(v2.UpdateJobResponse, (m) =>
    map.updateJobResponseToV2(map.updateJobResponseFromV2(m)),
  ),
  CommitQuotaRequest: roundTrip(v2.CommitQuotaRequest, (m) =>
    map.commitQuotaRequestToV2(map.commitQuotaRequestFromV2(m)),
  ),
  CommitQuotaResponse: roundTrip(v2.CommitQuotaResponse, (m) =>
    map.commitQuotaResponseToV2(map.commitQuotaResponseFromV2(m)),
  ),
  FailedJob: roundTrip(v2.FailedJob, (m) => map.failedJobToV2(map.failedJobFromV2(m))),
  CompletedJob: roundTrip(v2.CompletedJob, (m) => map.completedJobToV2(map.completedJobFromV2(m))),
};

/** Paths (array indices as []) whose JSON value differs between the two messages. */
function lostPaths(before: unknown, after: unknown, path = ""): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return [...new Set(before.flatMap((b, i) => lostPaths(b, after[i], `${path}[]`)))];
  }
  if (isObject(before) && isObject(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...keys].flatMap((k) => lostPaths(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [path];
}
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// What our domain has no place for, per sample.
const METADATA_LOST = [
  "workspaceOwnerOidcAccessToken",
  "workspaceOwnerSessionToken",
  "templateId",
  "workspaceOwnerName",
  "workspaceOwnerGroups",
  "workspaceOwnerSshPublicKey",
  "workspaceOwnerSshPrivateKey",
  "workspaceBuildId",
  "workspaceOwnerLoginType",
  "workspaceOwnerRbacRoles",
  "prebuiltWorkspaceBuildStage",
  "runningAgentAuthTokens",
  "taskId",
  "taskPrompt",
  "templateVersionId",
  "templateVersionModulesFile",
];
const under = (prefix: string, fields: string[]) => fields.map((f) => `${prefix}.${f}`);
const expectedLoss: Record<string, string[]> = {
  "provisionerd.AcquiredJob__template_dry_run.bin": [
    "traceMetadata",
    ...under("templateDryRun.metadata", METADATA_LOST),
  ],
  "provisionerd.AcquiredJob__template_import.bin": [
    "traceMetadata",
    ...under("templateImport.metadata", METADATA_LOST),
  ],
  "provisionerd.AcquiredJob__workspace_build.bin": [
    "traceMetadata",
    ...under("workspaceBuild.metadata", METADATA_LOST),
    "workspaceBuild.logLevel",
  ],
  "provisionerd.CompletedJob__template_dry_run.bin": ["templateDryRun.modules"],
  "provisionerd.CompletedJob__template_import.bin": [
    // a module's directory is the daemon's own business (Coder's daemon does not send it)
    "templateImport.startModules[].dir",
    // ours carries the files; their hash is only sent in their place when they are uploaded
    "templateImport.moduleFilesHash",
  ],
  "provisionerd.CompletedJob__workspace_build.bin": [
    ...under("workspaceBuild", ["timings", "modules", "resourceReplacements", "aiTasks"]),
  ],
  "provisionerd.FailedJob__workspace_build_partial_state.bin": ["workspaceBuild.timings"],
};

const samples = sharedData("coderd-wire/messages/v2-api-1.18");
describe.skipIf(!samples.ok)("v2 API 1.18 samples through our own messages", () => {
  const files = samples.ok
    ? readdirSync(samples.path).filter(
        (f) =>
          f.startsWith("provisionerd.") &&
          f.endsWith(".bin") &&
          !/^provisionerd\.(Empty|CancelAcquire|FileRequest)__/.test(f),
      )
    : [];
  it("covers every job message", () => {
    const names = new Set(files.map((f) => f.slice("provisionerd.".length, f.indexOf("__"))));
    expect([...names].sort()).toEqual(Object.keys(trips).sort());
  });
  for (const file of files) {
    it(file, () => {
      const name = file.slice("provisionerd.".length, file.indexOf("__"));
      const trip = trips[name] as RoundTrip;
      const [before, after] = trip(new Uint8Array(readFileSync(join(samples.path, file))));
      const lost = lostPaths(before, after);
      expect(lost.sort()).toEqual((expectedLoss[file] ?? []).sort());
    });
  }
});

describe("converted resources on each generation's wire", () => {
  const graph = `digraph {
    "[root] null_resource.vm (expand)" [label = "null_resource.vm"]
    "[root] coder_agent.dev (expand)" [label = "coder_agent.dev"]
    "[root] coder_script.hello (expand)" [label = "coder_script.hello"]
    "[root] null_resource.vm (expand)" -> "[root] coder_agent.dev (expand)"
    "[root] coder_script.hello (expand)" -> "[root] coder_agent.dev (expand)"
  }`;
  const [resource] = convertResources(
    [
      {
        resources: [
          {
            address: "null_resource.vm",
            mode: "managed",
            type: "null_resource",
            name: "vm",
            values: {},
          },
          {
            address: "coder_agent.dev",
            mode: "managed",
            type: "coder_agent",
            name: "dev",
            values: {
              auth: "token",
              startup_script: "echo up",
              login_before_ready: false,
              metadata: [{ key: "cpu", display_name: "CPU", script: "top", interval: 5 }],
            },
          },
          {
            address: "coder_script.hello",
            mode: "managed",
            type: "coder_script",
            name: "hello",
            values: { display_name: "Hello", script: "echo hi", run_on_start: true },
          },
        ],
      },
    ],
    graph,
  ).resources;
  if (resource === undefined) throw new Error("no resource converted");

  it("v2 gets the scripts (legacy startup script first), metadata and display apps", () => {
    const [agent] = map.resourceToV2(resource).agents;
    expect(agent?.scripts.map((s) => [s.displayName, s.script, s.startBlocksLogin])).toEqual([
      ["Startup Script", "echo up", true],
      ["Hello", "echo hi", false],
    ]);
    expect(agent?.metadata).toEqual([
      { key: "cpu", displayName: "CPU", script: "top", interval: 5, timeout: 0, order: 0 },
    ]);
    expect(agent?.displayApps?.vscode).toBe(true);
  });

  it("an app whose id is not known yet gets a fresh UUID on the v2 wire", () => {
    const withApp = Resource.create({
      ...resource,
      agents: resource.agents.map((agent) => ({
        ...agent,
        apps: [
          App.create({ slug: "code" }),
          App.create({ slug: "known", id: "5ece4674-dd35-4f16-88c8-82e40e72e2fd" }),
        ],
      })),
    });
    const apps = map.resourceToV2(withApp).agents[0]?.apps ?? [];
    expect(apps[0]?.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(apps[1]?.id).toBe("5ece4674-dd35-4f16-88c8-82e40e72e2fd");
  });

  it("v0.17 gets its startup script fields and none of the v2 ones", () => {
    const agent = v017sdk.Resource.fromPartial(resource as never).agents[0];
    expect(agent).toMatchObject({ startupScript: "echo up", loginBeforeReady: false });
    expect(agent && "scripts" in agent).toBe(false);
  });
});
