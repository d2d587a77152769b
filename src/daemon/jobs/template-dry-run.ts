// Template dry run: one START plan with defaults for missing metadata.
import { randomUUID } from "node:crypto";
import type { AcquiredJob_TemplateDryRun, CompletedJob } from "../../provisioner/model.js";
import { Metadata, WorkspaceTransition } from "../../provisioner/model.js";
import { FAILURE_PREFIX, STAGE } from "../job-texts.js";
import type { JobContext } from "./job-context.js";
import { planTemplate } from "./plan.js";

/** Every field a dry run does not get is filled as the reference does. */
export function dryRunMetadata(payload: AcquiredJob_TemplateDryRun, userName: string): Metadata {
  const given = payload.metadata;
  return {
    // coderd v2 fills more of the metadata (template and owner fields): kept as given.
    ...Metadata.create(given),
    coderUrl: given?.coderUrl || "http://localhost:3000",
    workspaceTransition: WorkspaceTransition.START,
    workspaceName: given?.workspaceName || "dryrun",
    workspaceOwner: given?.workspaceOwner || userName || "dryrunner",
    workspaceId: given?.workspaceId || randomUUID(),
    workspaceOwnerId: given?.workspaceOwnerId || randomUUID(),
    workspaceOwnerEmail: given?.workspaceOwnerEmail ?? "",
    templateName: given?.templateName ?? "",
    templateVersion: given?.templateVersion ?? "",
  };
}

export async function runTemplateDryRun(
  ctx: JobContext,
  payload: AcquiredJob_TemplateDryRun,
): Promise<CompletedJob> {
  // No daemon marker here, as in the reference: only the provisioner's lines carry the stage.
  const plan = await planTemplate(ctx, FAILURE_PREFIX.dryRun, {
    stage: STAGE.persistentResources,
    metadata: dryRunMetadata(payload, ctx.job.userName),
    parameterValues: payload.parameterValues,
    richParameterValues: payload.richParameterValues,
    variableValues: payload.variableValues,
  });
  return {
    jobId: ctx.job.jobId,
    type: { $case: "templateDryRun", value: { resources: plan.resources } },
    timings: ctx.timings(),
  };
}
