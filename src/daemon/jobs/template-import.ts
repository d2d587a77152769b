// Template import: README, parse, parameter resolution through coderd, then a
// START and a STOP plan to learn the template's resources and rich parameters.
import type { AcquiredJob_TemplateImport, CompletedJob } from "../../provisioner/model.js";
import { LogLevel, Metadata, WorkspaceTransition } from "../../provisioner/model.js";
import { errorMessage, JobFailure } from "../errors.js";
import { FAILURE_PREFIX, MISSING_PARAMETER, STAGE } from "../job-texts.js";
import { daemonLine, type JobContext } from "./job-context.js";
import { planTemplate } from "./plan.js";
import { sideBySide } from "./side-by-side.js";

function importMetadata(
  payload: AcquiredJob_TemplateImport,
  transition: WorkspaceTransition,
): Metadata {
  return {
    // coderd v2 also sends template and owner fields (template id, owner groups): kept as given.
    ...Metadata.create(payload.metadata),
    coderUrl: payload.metadata?.coderUrl ?? "",
    workspaceTransition: transition,
    workspaceName: "",
    workspaceOwner: "",
    workspaceId: "",
    workspaceOwnerId: "",
    workspaceOwnerEmail: "",
    templateName: payload.metadata?.templateName ?? "",
    templateVersion: payload.metadata?.templateVersion ?? "",
  };
}

export async function runTemplateImport(
  ctx: JobContext,
  payload: AcquiredJob_TemplateImport,
): Promise<CompletedJob> {
  const readme = await ctx.session.readme();
  if (readme !== undefined && readme.length > 0) {
    try {
      await ctx.update({ readme: Buffer.from(readme) }, [daemonLine(STAGE.addingReadme)]);
    } catch (error) {
      throw new JobFailure(`${FAILURE_PREFIX.writeLog}${errorMessage(error)}`, {
        code: "INTERNAL",
        cause: error,
      });
    }
  } else {
    ctx.marker(STAGE.noReadme, LogLevel.DEBUG);
  }

  ctx.marker(STAGE.parsingParameters);
  const parsed = await ctx.step("parse", FAILURE_PREFIX.parse, "PARSE", () =>
    ctx.session.parse(ctx.control(STAGE.parseParameters)),
  );

  ctx.checkCanceled();
  let resolved: Awaited<ReturnType<typeof ctx.update>>;
  try {
    resolved = await ctx.update({
      parameterSchemas: parsed.parameterSchemas,
      templateVariables: parsed.templateVariables,
      userVariableValues: payload.userVariableValues,
      workspaceTags: Object.fromEntries(
        (parsed.workspaceTags ?? []).map((tag) => [tag.key, tag.expression]),
      ),
    });
  } catch (error) {
    throw new JobFailure(`${FAILURE_PREFIX.updateJob}${errorMessage(error)}`, {
      code: "PARAMETERS",
      cause: error,
    });
  }
  for (const schema of parsed.parameterSchemas) {
    if (!resolved.parameterValues.some((value) => value.name === schema.name)) {
      throw new JobFailure(`${MISSING_PARAMETER}: ${schema.name}`, { code: "PARAMETERS" });
    }
  }

  const plan = (
    ctx: JobContext,
    stage: string,
    transition: WorkspaceTransition,
    name: "start" | "stop",
  ) => {
    ctx.marker(stage);
    return planTemplate(ctx, FAILURE_PREFIX.importPlan(name), {
      stage,
      metadata: importMetadata(payload, transition),
      parameterValues: resolved.parameterValues,
      richParameterValues: [],
      variableValues: resolved.variableValues,
      importResults: transition === WorkspaceTransition.START,
    });
  };
  const planStart = (c: JobContext) =>
    plan(c, STAGE.persistentResources, WorkspaceTransition.START, "start");
  const planStop = (c: JobContext) =>
    plan(c, STAGE.ephemeralResources, WorkspaceTransition.STOP, "stop");
  let start: Awaited<ReturnType<typeof planStart>>;
  let stop: Awaited<ReturnType<typeof planStop>>;
  // The STOP plan in a second work dir beside the START plan, when the provisioner offers one.
  // Opening it can fail like any unpack; the plans then simply run one after the other.
  const side = await ctx.session.fork?.().catch((error: unknown) => {
    ctx.logger.warn({ err: error }, "no second work dir for the STOP plan");
    return undefined;
  });
  if (side === undefined) {
    start = await planStart(ctx);
    stop = await planStop(ctx);
  } else {
    try {
      [start, stop] = await sideBySide(ctx, side, planStart, planStop);
    } finally {
      await side.close();
    }
  }

  return {
    jobId: ctx.job.jobId,
    type: {
      $case: "templateImport",
      value: {
        startResources: start.resources,
        stopResources: stop.resources,
        richParameters: start.parameters,
        gitAuthProviders: start.gitAuthProviders,
        startModules: start.modules ?? [],
        plan: asBuffer(start.planJson),
        moduleFiles: asBuffer(start.moduleFiles),
        presets: start.presets ?? [],
        externalAuthProviders:
          start.externalAuthProviders ??
          start.gitAuthProviders.map((id) => ({ id, optional: false })),
        hasExternalAgents: start.hasExternalAgents ?? false,
        hasAiTasks: start.hasAiTasks ?? false,
      },
    },
    timings: ctx.timings(),
  };
}

/** The bytes as a Buffer without copying them (module files may be tens of MiB). */
function asBuffer(bytes: Uint8Array | undefined): Buffer {
  return bytes === undefined
    ? Buffer.alloc(0)
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
