// Templates, versions and workspaces on top of the fake coderd, so tests can run the real flow:
// import a version, dry-run it, then start, stop and delete a workspace, with state carried from
// build to build and values resolved as coderd resolves them (src/parameters).
import { randomUUID } from "node:crypto";
import * as toDomain from "../../src/coderd/adapters/to-domain.js";
import {
  buildVariableValues,
  computeParameterValues,
  type ParameterValueRow,
  type ResolvedTemplateVariable,
  resolveRichParameterValues,
  resolveTemplateVariables,
  toParameterValues,
} from "../../src/parameters/index.js";
import {
  type GitAuthProvider,
  type ParameterSchema,
  type Resource,
  type RichParameter,
  type RichParameterValue,
  type VariableValue,
  WorkspaceTransition,
} from "../../src/provisioner/model.js";
import type { FakeCoderd, FakeJob } from "./fake-coderd.js";
import { buildPayload, dryRunPayload, importPayload } from "./payloads.js";

export interface TemplateVersion {
  id: string;
  importJobId: string;
  archive: Uint8Array;
  tags: Record<string, string>;
  importValues: ParameterValueRow[];
  schemas: ParameterSchema[];
  variables: ResolvedTemplateVariable[];
  richParameters: RichParameter[];
  startResources: Resource[];
  stopResources: Resource[];
  gitAuthProviders: string[];
}

export interface Workspace {
  id: string;
  name: string;
  versionId: string;
  state: Buffer;
  richValues: RichParameterValue[] | undefined;
  workspaceValues: ParameterValueRow[];
  deleted: boolean;
  builds: { jobId: string; transition: WorkspaceTransition }[];
}

export class CoderModel {
  readonly versions = new Map<string, TemplateVersion>();
  readonly workspaces = new Map<string, Workspace>();
  gitAuthTokens: GitAuthProvider[] = [];

  constructor(readonly fake: FakeCoderd) {
    fake.onTerminal = (job) => this.onTerminal(job);
    fake.onImportUpdate = (job, request) => {
      const version = this.versionOfImport(job.id);
      if (version === undefined) return undefined;
      if (request.templateVariables.length > 0) {
        version.variables = resolveTemplateVariables(
          request.templateVariables,
          request.userVariableValues,
        );
      }
      if (request.parameterSchemas.length > 0)
        version.schemas = request.parameterSchemas.map((s, i) =>
          toDomain.parameterSchema(s, `parameterSchemas[${i}]`),
        );
      return undefined;
    };
  }

  importVersion(options: {
    archive: Uint8Array;
    tags?: Record<string, string>;
    userVariableValues?: VariableValue[];
    parameterValues?: ParameterValueRow[];
  }): TemplateVersion {
    const id = randomUUID();
    const importValues = options.parameterValues ?? [];
    const importJobId = this.fake.enqueueJob({
      kind: "template_import",
      payload: importPayload(
        (options.userVariableValues ?? []).map((v) => ({ ...v, sensitive: true })),
      ),
      archive: options.archive,
      tags: options.tags ?? {},
      importValues,
      versionId: id,
    });
    const version: TemplateVersion = {
      id,
      importJobId,
      archive: options.archive,
      tags: options.tags ?? {},
      importValues,
      schemas: [],
      variables: [],
      richParameters: [],
      startResources: [],
      stopResources: [],
      gitAuthProviders: [],
    };
    this.versions.set(id, version);
    return version;
  }

  dryRun(
    versionId: string,
    values: {
      richParameterValues?: RichParameterValue[];
      parameterValues?: ParameterValueRow[];
    } = {},
  ): string {
    const version = this.version(versionId);
    const parameterValues = toParameterValues(
      computeParameterValues({
        schemas: version.schemas,
        importJobValues: version.importValues,
        additionalValues: values.parameterValues ?? [],
      }),
    );
    return this.fake.enqueueJob({
      kind: "template_dry_run",
      payload: dryRunPayload({
        parameterValues,
        richParameterValues: values.richParameterValues ?? [],
        variableValues: buildVariableValues(version.variables),
      }),
      archive: version.archive,
      tags: version.tags,
      versionId,
    });
  }

  /** Queues a build; a new workspace when `workspaceId` is not given. */
  build(options: {
    versionId: string;
    transition: WorkspaceTransition;
    workspaceId?: string;
    name?: string;
    richParameterValues?: RichParameterValue[];
    parameterValues?: ParameterValueRow[];
  }): { workspace: Workspace; jobId: string } {
    const version = this.version(options.versionId);
    let workspace =
      options.workspaceId === undefined ? undefined : this.workspaces.get(options.workspaceId);
    if (workspace === undefined) {
      workspace = {
        id: randomUUID(),
        name: options.name ?? "dev",
        versionId: version.id,
        state: Buffer.alloc(0),
        richValues: undefined,
        workspaceValues: [],
        deleted: false,
        builds: [],
      };
      this.workspaces.set(workspace.id, workspace);
    }
    if (options.parameterValues) workspace.workspaceValues = options.parameterValues;
    const richValues = resolveRichParameterValues({
      parameters: version.richParameters,
      values: options.richParameterValues ?? [],
      ...(workspace.richValues ? { previousValues: workspace.richValues } : {}),
    });
    const parameterValues = toParameterValues(
      computeParameterValues({
        schemas: version.schemas,
        importJobValues: version.importValues,
        workspaceValues: workspace.workspaceValues,
      }),
    );
    const payload = buildPayload({
      transition: options.transition,
      state: workspace.state,
      workspaceName: workspace.name,
      workspaceId: workspace.id,
      parameterValues,
      richParameterValues: richValues,
      variableValues: buildVariableValues(version.variables),
    });
    if (payload.$case === "workspaceBuild") {
      payload.value.gitAuthProviders = this.gitAuthTokens.filter((t) =>
        version.gitAuthProviders.includes(t.id),
      );
      if (workspace.richValues) payload.value.previousRichParameterValues = workspace.richValues;
    }
    workspace.richValues = richValues;
    const jobId = this.fake.enqueueJob({
      kind: "workspace_build",
      payload,
      archive: version.archive,
      tags: version.tags,
      workspaceId: workspace.id,
      versionId: version.id,
    });
    workspace.builds.push({ jobId, transition: options.transition });
    return { workspace, jobId };
  }

  version(id: string): TemplateVersion {
    const version = this.versions.get(id);
    if (version === undefined) throw new Error(`model: no version ${id}`);
    return version;
  }

  private versionOfImport(jobId: string): TemplateVersion | undefined {
    return [...this.versions.values()].find((v) => v.importJobId === jobId);
  }

  private onTerminal(job: FakeJob): void {
    const terminal = job.terminal;
    if (terminal === undefined) return;
    if (terminal.kind === "complete" && terminal.message.type?.$case === "templateImport") {
      const version = this.versionOfImport(job.id);
      if (version) {
        version.richParameters = terminal.message.type.value.richParameters.map(
          toDomain.richParameter,
        );
        version.startResources = terminal.message.type.value.startResources.map((r, i) =>
          toDomain.resource(r, `startResources[${i}]`),
        );
        version.stopResources = terminal.message.type.value.stopResources.map((r, i) =>
          toDomain.resource(r, `stopResources[${i}]`),
        );
        version.gitAuthProviders = terminal.message.type.value.gitAuthProviders;
      }
      return;
    }
    const workspace =
      job.workspaceId === undefined ? undefined : this.workspaces.get(job.workspaceId);
    if (workspace === undefined) return;
    if (terminal.kind === "complete" && terminal.message.type?.$case === "workspaceBuild") {
      workspace.state = Buffer.from(terminal.message.type.value.state);
      const transition =
        job.payload.type?.$case === "workspaceBuild"
          ? job.payload.type.value.metadata?.workspaceTransition
          : undefined;
      if (transition === WorkspaceTransition.DESTROY) workspace.deleted = true;
    } else if (terminal.kind === "fail" && terminal.message.type?.$case === "workspaceBuild") {
      workspace.state = Buffer.from(terminal.message.type.value.state);
    }
  }
}
