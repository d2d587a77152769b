// The two jobs of a local build, shaped as coderd would hand them to a daemon.
import { randomUUID } from "node:crypto";
import {
  AcquiredJob,
  Metadata,
  type ParameterValue,
  type RichParameterValue,
  type VariableValue,
  WorkspaceTransition,
} from "../provisioner/model.js";
import type { TransitionName } from "./build-config.js";

const TRANSITION: Record<TransitionName, WorkspaceTransition> = {
  start: WorkspaceTransition.START,
  stop: WorkspaceTransition.STOP,
  delete: WorkspaceTransition.DESTROY,
};

/** Local builds have no template versions: every build is of "local". */
export const LOCAL_TEMPLATE_VERSION = "local";

export interface TemplateJobInput {
  archive: Buffer;
  templateName: string;
  owner: string;
  coderUrl: string;
}

export function templateImportJob(
  input: TemplateJobInput,
  userVariables: Record<string, string>,
): AcquiredJob {
  return localJob(input, {
    $case: "templateImport",
    value: {
      metadata: Metadata.create({
        coderUrl: input.coderUrl,
        templateName: input.templateName,
        templateVersion: LOCAL_TEMPLATE_VERSION,
      }),
      // As coderd does at import: nobody knows yet which values are sensitive.
      userVariableValues: Object.entries(userVariables).map(([name, value]) => ({
        name,
        value,
        sensitive: true,
      })),
    },
  });
}

export interface WorkspaceBuildInput extends TemplateJobInput {
  transition: TransitionName;
  workspaceName: string;
  workspaceId: string;
  ownerId: string;
  state: Buffer;
  parameterValues: ParameterValue[];
  variableValues: VariableValue[];
  richParameterValues: RichParameterValue[];
  previousRichParameterValues: RichParameterValue[];
  gitAuthProviders: string[];
}

export function workspaceBuildJob(input: WorkspaceBuildInput): AcquiredJob {
  const metadata: Metadata = {
    coderUrl: input.coderUrl,
    workspaceTransition: TRANSITION[input.transition],
    workspaceName: input.workspaceName,
    workspaceOwner: input.owner,
    workspaceId: input.workspaceId,
    workspaceOwnerId: input.ownerId,
    workspaceOwnerEmail: `${input.owner}@localhost`,
    templateName: input.templateName,
    templateVersion: LOCAL_TEMPLATE_VERSION,
  };
  return localJob(input, {
    $case: "workspaceBuild",
    value: {
      workspaceBuildId: randomUUID(),
      workspaceName: input.workspaceName,
      parameterValues: input.parameterValues,
      richParameterValues: input.richParameterValues,
      variableValues: input.variableValues,
      metadata,
      state: input.state,
      // No git auth provider exists locally: the template gets empty tokens.
      gitAuthProviders: input.gitAuthProviders.map((id) => ({ id, accessToken: "" })),
      previousRichParameterValues: input.previousRichParameterValues,
    },
  });
}

/** A template dry run: the start plan a build would make, with the same metadata. */
export function templateDryRunJob(input: WorkspaceBuildInput): AcquiredJob {
  const build = workspaceBuildJob(input).type;
  const value = build?.$case === "workspaceBuild" ? build.value : undefined;
  return localJob(input, {
    $case: "templateDryRun",
    value: {
      parameterValues: input.parameterValues,
      richParameterValues: input.richParameterValues,
      variableValues: input.variableValues,
      ...(value?.metadata ? { metadata: value.metadata } : {}),
    },
  });
}

function localJob(input: TemplateJobInput, type: AcquiredJob["type"]): AcquiredJob {
  return AcquiredJob.create({
    jobId: randomUUID(),
    createdAt: Date.now(),
    provisioner: "terraform",
    userName: input.owner,
    templateSourceArchive: input.archive,
    type,
  });
}
