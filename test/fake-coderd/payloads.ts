// Job payload builders for tests: the `type` part of an AcquiredJob, filled like coderd does.
import { randomUUID } from "node:crypto";
import type { AcquiredJob } from "../../src/provisioner/model.js";
import {
  type Metadata,
  type ParameterValue,
  type RichParameterValue,
  type VariableValue,
  WorkspaceTransition,
} from "../../src/provisioner/model.js";

export function metadata(fields: Partial<Metadata> = {}): Metadata {
  return {
    coderUrl: "http://coder.test",
    workspaceTransition: WorkspaceTransition.START,
    workspaceName: "",
    workspaceOwner: "",
    workspaceId: "",
    workspaceOwnerId: "",
    workspaceOwnerEmail: "",
    templateName: "",
    templateVersion: "",
    ...fields,
  };
}

export function importPayload(
  userVariableValues: VariableValue[] = [],
): NonNullable<AcquiredJob["type"]> {
  return { $case: "templateImport", value: { metadata: metadata(), userVariableValues } };
}

export function dryRunPayload(
  values: {
    parameterValues?: ParameterValue[];
    richParameterValues?: RichParameterValue[];
    variableValues?: VariableValue[];
  } = {},
): NonNullable<AcquiredJob["type"]> {
  return {
    $case: "templateDryRun",
    value: {
      parameterValues: values.parameterValues ?? [],
      richParameterValues: values.richParameterValues ?? [],
      variableValues: values.variableValues ?? [],
      metadata: metadata({ workspaceName: "" }),
    },
  };
}

export interface BuildFields {
  transition: WorkspaceTransition;
  state?: Uint8Array;
  workspaceName?: string;
  workspaceId?: string;
  parameterValues?: ParameterValue[];
  richParameterValues?: RichParameterValue[];
  variableValues?: VariableValue[];
}

export function buildPayload(fields: BuildFields): NonNullable<AcquiredJob["type"]> {
  return {
    $case: "workspaceBuild",
    value: {
      workspaceBuildId: randomUUID(),
      workspaceName: fields.workspaceName ?? "ws",
      parameterValues: fields.parameterValues ?? [],
      richParameterValues: fields.richParameterValues ?? [],
      variableValues: fields.variableValues ?? [],
      metadata: metadata({
        workspaceTransition: fields.transition,
        workspaceName: fields.workspaceName ?? "ws",
        workspaceOwner: "tester",
        workspaceId: fields.workspaceId ?? randomUUID(),
        workspaceOwnerId: "9d1ba4e4-5a0c-4d5c-9d6a-6f0a7e1c2b3d",
        workspaceOwnerEmail: "tester@coder.test",
        templateName: "tpl",
        templateVersion: "v1",
      }),
      state: Buffer.from(fields.state ?? new Uint8Array()),
      gitAuthProviders: [],
      previousRichParameterValues: [],
    },
  };
}
