// The plan session shared by template import and dry run: the plan's error text is the job's
// failure, and rich parameters together with legacy parameter values are refused.
import type {
  GitAuthProvider,
  Metadata,
  ParameterValue,
  RichParameterValue,
  VariableValue,
} from "../../provisioner/model.js";
import type { PlanResult } from "../../provisioner/provisioner.js";
import { JobFailure } from "../errors.js";
import { FAILURE } from "../job-texts.js";
import { asJobFailure, type JobContext } from "./job-context.js";

export interface PlanInput {
  stage: string;
  metadata: Metadata;
  state?: Uint8Array;
  parameterValues: ParameterValue[];
  richParameterValues: RichParameterValue[];
  variableValues: VariableValue[];
  gitAuthProviders?: GitAuthProvider[];
  /** Also collect the modules, their files and the plan JSON (a template import's START plan). */
  importResults?: boolean;
}

/** A plan; any failure, the cancel included, reads `prefix` + its text (as the reference's). */
export async function planTemplate(
  ctx: JobContext,
  prefix: string,
  input: PlanInput,
): Promise<PlanResult> {
  try {
    ctx.checkCanceled();
  } catch (error) {
    throw asJobFailure(error, prefix);
  }
  const result = await ctx.step("plan", prefix, "TERRAFORM", () =>
    ctx.session.plan({
      ...ctx.control(input.stage),
      config: { metadata: input.metadata, state: input.state ?? new Uint8Array() },
      parameterValues: input.parameterValues,
      richParameterValues: input.richParameterValues,
      variableValues: input.variableValues,
      gitAuthProviders: input.gitAuthProviders ?? [],
      ...(input.importResults ? { importResults: true } : {}),
    }),
  );
  if (result.parameters.length > 0 && input.parameterValues.length > 0) {
    ctx.logger.warn(
      "template uses rich parameters which can't be used together with legacy parameters",
    );
    throw asJobFailure(new JobFailure(FAILURE.richWithLegacy, { code: "PARAMETERS" }), prefix);
  }
  return result;
}
