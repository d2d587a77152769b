// Workspace build: plan, quota (start and stop only), apply, state out. A failed
// apply's partial state travels with the failure.

import type { AcquiredJob_WorkspaceBuild, CompletedJob } from "../../provisioner/model.js";
import { WorkspaceTransition } from "../../provisioner/model.js";
import { JobFailure } from "../errors.js";
import { STAGE } from "../job-texts.js";
import type { JobContext } from "./job-context.js";
import { commitQuota } from "./quota.js";

function applyStage(transition: WorkspaceTransition): string {
  switch (transition) {
    case WorkspaceTransition.START:
      return STAGE.starting;
    case WorkspaceTransition.STOP:
      return STAGE.stopping;
    case WorkspaceTransition.DESTROY:
      return STAGE.destroying;
    default:
      throw new JobFailure(`unknown workspace transition ${String(transition)}`, {
        code: "UNSUPPORTED",
      });
  }
}

export async function runWorkspaceBuild(
  ctx: JobContext,
  payload: AcquiredJob_WorkspaceBuild,
): Promise<CompletedJob> {
  const metadata = payload.metadata;
  if (metadata === undefined) {
    throw new JobFailure("workspace build job has no metadata", { code: "INTERNAL" });
  }
  const stage = applyStage(metadata.workspaceTransition);
  const config = { metadata, state: payload.state, logLevel: payload.logLevel };

  // Planning has no daemon marker (reference): the provisioner's lines carry the stage.
  const plan = await ctx.step("plan", "", "TERRAFORM", () =>
    ctx.session.plan({
      ...ctx.control(STAGE.planning),
      config,
      parameterValues: payload.parameterValues,
      richParameterValues: payload.richParameterValues,
      variableValues: payload.variableValues,
      gitAuthProviders: payload.gitAuthProviders,
      previousRichParameterValues: payload.previousRichParameterValues,
    }),
  );
  await ctx.flush();

  if (metadata.workspaceTransition !== WorkspaceTransition.DESTROY) {
    await commitQuota(ctx, plan.resources);
    await ctx.flush();
  }

  ctx.checkCanceled();
  ctx.marker(stage);
  const apply = await ctx.step("apply", "", "TERRAFORM", () =>
    ctx.session.apply({ ...ctx.control(stage), config, plan: plan.plan }),
  );
  await ctx.flush();

  return {
    jobId: ctx.job.jobId,
    type: {
      $case: "workspaceBuild",
      value: { state: Buffer.from(apply.state), resources: apply.resources },
    },
    timings: ctx.timings(),
  };
}
