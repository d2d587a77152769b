// The domain model's job messages ⇄ coderd v2's (provisioner daemon API 1.18). The layouts share
// most field names, so leaf messages map by name (to-domain on the way in, `fromPartial` on the
// way out keep the fields the target knows); what differs is spelled out here:
// - v2 has no legacy parameters, no log sequence numbers and no job tags;
// - our git auth providers are v2's external auth providers (same id and token);
// - v2's Metadata has many more fields than ours: only the shared ones reach the daemon;
// - our agents carry the v0.17 layout's startup script fields beside the scripts v2 sends (the
//   converter puts the legacy startup script in both);
// - v2 rich parameters leave unset bounds absent, ours flag them as set;
// - a template import's module files go inline, or by UploadFile with only their hash inline
//   when they would make CompleteJob too large (the adapter decides: moduleFilesToUpload).

import { randomUUID } from "node:crypto";
import type * as ours from "../../provisioner/model.js";
import type * as oursSdk from "../../provisioner/model.js";
import { MAX_PACKET_DATA } from "../transport/drpc-wire.js";
import * as sdk from "../v2/gen/provisioner.js";
import * as v2 from "../v2/gen/provisionerd.js";
import * as toDomain from "./to-domain.js";

/** Copies the fields `codec` knows from a message of the other layout, by name. */
function byName<T>(codec: { fromPartial(object: never): T }, message: unknown): T {
  return codec.fromPartial(message as never);
}

// ---- coderd → daemon ----

export function acquiredJobFromV2(job: v2.AcquiredJob): ours.AcquiredJob {
  const base = {
    jobId: job.jobId,
    createdAt: job.createdAt,
    provisioner: job.provisioner,
    userName: job.userName,
    templateSourceArchive: job.templateSourceArchive,
    tags: {},
  };
  const type = job.type;
  if (type === undefined) return toDomain.acquiredJob(base);
  switch (type.$case) {
    case "workspaceBuild": {
      const build = type.value;
      return toDomain.acquiredJob({
        ...base,
        type: {
          $case: "workspaceBuild",
          value: {
            workspaceBuildId: build.workspaceBuildId,
            workspaceName: build.workspaceName,
            richParameterValues: build.richParameterValues,
            variableValues: build.variableValues,
            metadata: metadataFromV2(build.metadata),
            state: build.state,
            gitAuthProviders: build.externalAuthProviders,
            previousRichParameterValues: build.previousParameterValues,
          },
        },
      });
    }
    case "templateImport":
      return toDomain.acquiredJob({
        ...base,
        type: {
          $case: "templateImport",
          value: {
            metadata: metadataFromV2(type.value.metadata),
            userVariableValues: type.value.userVariableValues,
          },
        },
      });
    case "templateDryRun":
      return toDomain.acquiredJob({
        ...base,
        type: {
          $case: "templateDryRun",
          value: {
            richParameterValues: type.value.richParameterValues,
            variableValues: type.value.variableValues,
            metadata: metadataFromV2(type.value.metadata),
          },
        },
      });
  }
}

function metadataFromV2(metadata: sdk.Metadata | undefined): oursSdk.Metadata | undefined {
  return toDomain.metadata(metadata, "job.metadata");
}

export function updateJobResponseFromV2(response: v2.UpdateJobResponse): ours.UpdateJobResponse {
  return toDomain.updateJobResponse({
    canceled: response.canceled,
    variableValues: response.variableValues,
  });
}

export function commitQuotaResponseFromV2(
  response: v2.CommitQuotaResponse,
): ours.CommitQuotaResponse {
  return toDomain.commitQuotaResponse(response);
}

// ---- daemon → coderd ----

export function updateJobRequestToV2(request: ours.UpdateJobRequest): v2.UpdateJobRequest {
  return v2.UpdateJobRequest.fromPartial({
    jobId: request.jobId,
    logs: request.logs.map((log) => byName(v2.Log, log)),
    templateVariables: request.templateVariables,
    userVariableValues: request.userVariableValues,
    readme: request.readme,
    workspaceTags: request.workspaceTags,
  });
}

export function commitQuotaRequestToV2(request: ours.CommitQuotaRequest): v2.CommitQuotaRequest {
  return byName(v2.CommitQuotaRequest, request);
}

export function failedJobToV2(failed: ours.FailedJob): v2.FailedJob {
  const base = { jobId: failed.jobId, error: failed.error, errorCode: failed.errorCode };
  const type = failed.type;
  if (type === undefined) return v2.FailedJob.fromPartial(base);
  switch (type.$case) {
    case "workspaceBuild":
      return v2.FailedJob.fromPartial({
        ...base,
        type: { $case: "workspaceBuild", value: { state: type.value.state } },
      });
    case "templateImport":
      return v2.FailedJob.fromPartial({ ...base, type: { $case: "templateImport", value: {} } });
    case "templateDryRun":
      return v2.FailedJob.fromPartial({ ...base, type: { $case: "templateDryRun", value: {} } });
  }
}

export function completedJobToV2(completed: ours.CompletedJob): v2.CompletedJob {
  const jobId = completed.jobId;
  const type = completed.type;
  if (type === undefined) return v2.CompletedJob.fromPartial({ jobId });
  switch (type.$case) {
    case "workspaceBuild":
      return v2.CompletedJob.fromPartial({
        jobId,
        type: {
          $case: "workspaceBuild",
          value: { state: type.value.state, resources: type.value.resources.map(resourceToV2) },
        },
      });
    case "templateImport": {
      const imported = type.value;
      return v2.CompletedJob.fromPartial({
        jobId,
        type: {
          $case: "templateImport",
          value: {
            startResources: imported.startResources.map(resourceToV2),
            stopResources: imported.stopResources.map(resourceToV2),
            richParameters: imported.richParameters.map(richParameterToV2),
            externalAuthProvidersNames: imported.gitAuthProviders,
            // coderd reads the names only when this list is empty.
            externalAuthProviders:
              imported.externalAuthProviders.length > 0
                ? imported.externalAuthProviders.map((p) =>
                    byName(sdk.ExternalAuthProviderResource, p),
                  )
                : imported.gitAuthProviders.map((id) => ({ id, optional: false })),
            startModules: imported.startModules.map((m) => byName(sdk.Module, m)),
            plan: imported.plan,
            // Sent inline; the adapter uploads them instead when they make the message too large.
            moduleFiles: imported.moduleFiles,
            presets: imported.presets.map((p) => byName(sdk.Preset, p)),
            hasExternalAgents: imported.hasExternalAgents,
            hasAiTasks: imported.hasAiTasks,
          },
        },
      });
    }
    case "templateDryRun":
      return v2.CompletedJob.fromPartial({
        jobId,
        type: {
          $case: "templateDryRun",
          value: { resources: type.value.resources.map(resourceToV2) },
        },
      });
  }
}

/**
 * The module files of a template import to send by UploadFile instead of inline: only when they
 * are what makes CompleteJob larger than coderd takes in one message (what Coder's daemon does).
 */
export function moduleFilesToUpload(
  completed: v2.CompletedJob,
  maxMessageBytes = MAX_PACKET_DATA,
): Buffer | undefined {
  const type = completed.type;
  if (type?.$case !== "templateImport" || type.value.moduleFiles.length === 0) return undefined;
  if (v2.CompletedJob.encode(completed).finish().length <= maxMessageBytes) return undefined;
  return type.value.moduleFiles;
}

/** The CompleteJob that names uploaded module files by their sha256 instead of carrying them. */
export function withUploadedModuleFiles(completed: v2.CompletedJob, hash: Buffer): v2.CompletedJob {
  const type = completed.type;
  if (type?.$case !== "templateImport") return completed;
  return {
    ...completed,
    type: {
      $case: "templateImport",
      value: { ...type.value, moduleFiles: Buffer.alloc(0), moduleFilesHash: hash },
    },
  };
}

/**
 * Resources, agents and everything on them share the v2 names; the v0.17-only fields drop. coderd
 * stores each app under its id (a UUID), so an app whose id is not known yet (a plan) gets a fresh
 * one, as Coder's own provisioner gives it.
 */
export function resourceToV2(resource: oursSdk.Resource): sdk.Resource {
  const mapped = byName(sdk.Resource, resource);
  for (const agent of mapped.agents) {
    for (const app of [...agent.apps, ...agent.devcontainers.flatMap((dc) => dc.apps)]) {
      if (app.id === "") app.id = randomUUID();
    }
  }
  return mapped;
}

export function richParameterToV2(parameter: oursSdk.RichParameter): sdk.RichParameter {
  return sdk.RichParameter.fromPartial({
    ...byName(sdk.RichParameter, parameter),
    validationMin: parameter.validationMinSet ? parameter.validationMin : undefined,
    validationMax: parameter.validationMaxSet ? parameter.validationMax : undefined,
  });
}

// ---- coderd's messages read back into ours (the reverse of the above, for the daemon's side of
// a message coderd would send or expect; used to check that no field is dropped by accident) ----

export function updateJobRequestFromV2(request: v2.UpdateJobRequest): ours.UpdateJobRequest {
  return toDomain.updateJobRequest({
    jobId: request.jobId,
    logs: request.logs,
    templateVariables: request.templateVariables,
    userVariableValues: request.userVariableValues,
    readme: request.readme,
    workspaceTags: request.workspaceTags,
  });
}

export function failedJobFromV2(failed: v2.FailedJob): ours.FailedJob {
  return toDomain.failedJob(failed);
}

export function completedJobFromV2(completed: v2.CompletedJob): ours.CompletedJob {
  const jobId = completed.jobId;
  const type = completed.type;
  if (type === undefined) return toDomain.completedJob({ jobId });
  switch (type.$case) {
    case "workspaceBuild":
      return toDomain.completedJob({
        jobId,
        type: {
          $case: "workspaceBuild",
          value: { state: type.value.state, resources: type.value.resources.map(resourceFromV2) },
        },
      });
    case "templateImport": {
      const imported = type.value;
      return toDomain.completedJob({
        jobId,
        type: {
          $case: "templateImport",
          value: {
            startResources: imported.startResources.map(resourceFromV2),
            stopResources: imported.stopResources.map(resourceFromV2),
            richParameters: imported.richParameters.map(richParameterFromV2),
            gitAuthProviders: imported.externalAuthProvidersNames,
            externalAuthProviders: imported.externalAuthProviders,
            startModules: imported.startModules,
            plan: imported.plan,
            moduleFiles: imported.moduleFiles,
            presets: imported.presets,
            hasExternalAgents: imported.hasExternalAgents,
            hasAiTasks: imported.hasAiTasks,
          },
        },
      });
    }
    case "templateDryRun":
      return toDomain.completedJob({
        jobId,
        type: {
          $case: "templateDryRun",
          value: { resources: type.value.resources.map(resourceFromV2) },
        },
      });
  }
}

function resourceFromV2(resource: sdk.Resource): oursSdk.Resource {
  return toDomain.resource(resource, "resource");
}

function richParameterFromV2(parameter: sdk.RichParameter): oursSdk.RichParameter {
  return {
    ...toDomain.richParameter(parameter),
    validationMin: parameter.validationMin ?? 0,
    validationMinSet: parameter.validationMin !== undefined,
    validationMax: parameter.validationMax ?? 0,
    validationMaxSet: parameter.validationMax !== undefined,
  };
}

/** For checks only: what our AcquiredJob would have been in coderd's layout. */
export function acquiredJobToV2(job: ours.AcquiredJob): v2.AcquiredJob {
  const base = {
    jobId: job.jobId,
    createdAt: job.createdAt,
    provisioner: job.provisioner,
    userName: job.userName,
    templateSourceArchive: job.templateSourceArchive,
  };
  const type = job.type;
  if (type === undefined) return v2.AcquiredJob.fromPartial(base);
  switch (type.$case) {
    case "workspaceBuild": {
      const build = type.value;
      return v2.AcquiredJob.fromPartial({
        ...base,
        type: {
          $case: "workspaceBuild",
          value: {
            workspaceBuildId: build.workspaceBuildId,
            workspaceName: build.workspaceName,
            richParameterValues: build.richParameterValues,
            variableValues: build.variableValues,
            externalAuthProviders: build.gitAuthProviders,
            metadata: build.metadata && byName(sdk.Metadata, build.metadata),
            state: build.state,
            previousParameterValues: build.previousRichParameterValues,
          },
        },
      });
    }
    case "templateImport":
      return v2.AcquiredJob.fromPartial({
        ...base,
        type: {
          $case: "templateImport",
          value: {
            metadata: type.value.metadata && byName(sdk.Metadata, type.value.metadata),
            userVariableValues: type.value.userVariableValues,
          },
        },
      });
    case "templateDryRun":
      return v2.AcquiredJob.fromPartial({
        ...base,
        type: {
          $case: "templateDryRun",
          value: {
            richParameterValues: type.value.richParameterValues,
            variableValues: type.value.variableValues,
            metadata: type.value.metadata && byName(sdk.Metadata, type.value.metadata),
          },
        },
      });
  }
}

export function updateJobResponseToV2(response: ours.UpdateJobResponse): v2.UpdateJobResponse {
  return v2.UpdateJobResponse.fromPartial({
    canceled: response.canceled,
    variableValues: response.variableValues,
  });
}

export function commitQuotaRequestFromV2(request: v2.CommitQuotaRequest): ours.CommitQuotaRequest {
  return toDomain.commitQuotaRequest(request);
}

export function commitQuotaResponseToV2(
  response: ours.CommitQuotaResponse,
): v2.CommitQuotaResponse {
  return byName(v2.CommitQuotaResponse, response);
}
