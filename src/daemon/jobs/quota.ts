// Quota commit after a build's plan, with the reference's exact log lines.
import { LogLevel, type Resource } from "../../provisioner/model.js";
import { errorMessage, JobFailure } from "../errors.js";
import { FAILURE, QUOTA_TEXT, STAGE } from "../job-texts.js";
import type { JobContext } from "./job-context.js";

export function dailyCost(resources: Resource[]): number {
  return resources.reduce((sum, resource) => sum + resource.dailyCost, 0);
}

export async function commitQuota(ctx: JobContext, resources: Resource[]): Promise<void> {
  const cost = dailyCost(resources);
  if (cost === 0) return;
  const response = await ctx.step("commit_quota", "", "QUOTA", () =>
    ctx.commitQuota(cost).catch((error: unknown) => {
      ctx.line(STAGE.commitQuota, LogLevel.ERROR, QUOTA_TEXT.failed(errorMessage(error)));
      throw new JobFailure(`${FAILURE.commitQuota}${errorMessage(error)}`, {
        code: "QUOTA",
        cause: error,
      });
    }),
  );
  ctx.line(STAGE.commitQuota, LogLevel.INFO, QUOTA_TEXT.cost(cost));
  ctx.line(STAGE.commitQuota, LogLevel.INFO, QUOTA_TEXT.budget(response.budget));
  ctx.line(STAGE.commitQuota, LogLevel.INFO, QUOTA_TEXT.consumed(response.creditsConsumed));
  if (!response.ok) {
    ctx.line(STAGE.commitQuota, LogLevel.WARN, QUOTA_TEXT.exceeded);
    throw new JobFailure(FAILURE.insufficientQuota, { code: "QUOTA" });
  }
}
