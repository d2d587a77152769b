// The environment terraform runs with. Terraform and its providers inherit
// everything we hand them, so the daemon's own CODER_* variables (PSK, URLs) never go in, and
// the few variables that decide where providers come from are always ours.
import { createHash } from "node:crypto";
import {
  type GitAuthProvider,
  LogLevel,
  type Metadata,
  PrebuiltWorkspaceBuildStage,
  type Role,
  type RunningAgentAuthToken,
  WorkspaceTransition,
} from "../provisioner/model.js";
import type { ProvisionerLog } from "../provisioner/provisioner.js";
import { agentScriptEnvironment } from "./bootstrap-scripts.js";
import { REDACTED, type SensitiveValue } from "./redact.js";

export type Environment = Record<string, string>;

/**
 * The inherited environment minus every `CODER_*` variable (the daemon's PSK and settings).
 * Reference quirk 1 (a canary check that could never fire) has no equivalent here: the filter is
 * the whole mechanism.
 */
export function sanitizedEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const out: Environment = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || name.startsWith("CODER_")) continue;
    out[name] = value;
  }
  return out;
}

export interface ControlledVariables {
  cliConfigFile: string;
  pluginCacheDir: string;
}

/** Variables the provisioner always sets itself, overriding anything inherited. */
export function controlledVariables(vars: ControlledVariables): Environment {
  return {
    TF_IN_AUTOMATION: "1",
    CHECKPOINT_DISABLE: "1",
    TF_CLI_CONFIG_FILE: vars.cliConfigFile,
    // Reference: only for init/show/graph. Harmless for plan/apply (they install nothing), and
    // one environment for every command is simpler to reason about.
    TF_PLUGIN_CACHE_DIR: vars.pluginCacheDir,
  };
}

/**
 * Inherited TF_* variables that would break the provisioner's contract: another data dir or
 * workspace moves `.terraform/` or the state away from the work dir (and would be shared by
 * concurrent jobs), and TF_CLI_ARGS* inject arguments into every command. They are dropped (and
 * reported).
 */
export function isIgnoredTerraformVariable(name: string): boolean {
  return (
    name === "TF_DATA_DIR" ||
    name === "TF_WORKSPACE" ||
    name === "TF_CLI_ARGS" ||
    name.startsWith("TF_CLI_ARGS_")
  );
}

function withoutIgnored(env: Environment): Environment {
  const out: Environment = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isIgnoredTerraformVariable(name)) out[name] = value;
  }
  return out;
}

/** Environment for init, show and graph: no build metadata, no parameter values. */
export function basicEnvironment(inherited: Environment, controlled: Environment): Environment {
  return { ...withoutIgnored(inherited), ...controlled };
}

export interface ProvisionEnvironmentInput {
  metadata: Metadata;
  /** Legacy env-var parameters and CODER_PARAMETER_* (from toTerraformInputs). */
  parameterEnv: Environment;
  gitAuthProviders: GitAuthProvider[];
  /** Terraform logs its internals (as JSON lines on stderr, which the executor reads). */
  terraformLog?: boolean;
}

/** `start` / `stop` / `destroy`: the enum name in lower case, as the coder provider expects. */
export function transitionName(transition: WorkspaceTransition): string {
  switch (transition) {
    case WorkspaceTransition.START:
      return "start";
    case WorkspaceTransition.STOP:
      return "stop";
    case WorkspaceTransition.DESTROY:
      return "destroy";
    default:
      throw new Error(`unknown workspace transition ${String(transition)}`);
  }
}

/** Environment for plan and apply: the base environment plus the workspace's CODER_* values. */
export function provisionEnvironment(
  inherited: Environment,
  controlled: Environment,
  input: ProvisionEnvironmentInput,
): Environment {
  const env: Environment = {
    ...withoutIgnored(inherited),
    ...metadataEnvironment(input.metadata),
    ...agentScriptEnvironment(),
    ...input.parameterEnv,
  };
  for (const provider of input.gitAuthProviders) {
    // Providers before 1.0 read `data "coder_git_auth"` tokens under the first name, later ones
    // `data "coder_external_auth"` tokens under the second: templates of both kinds are in use.
    env[`CODER_GIT_AUTH_ACCESS_TOKEN_${provider.id}`] = provider.accessToken;
    env[`CODER_EXTERNAL_AUTH_ACCESS_TOKEN_${provider.id}`] = provider.accessToken;
  }
  // JSON, whatever the operator's TF_LOG says: each line then carries its own level, and lines
  // of every level (trace to error) are written.
  if (input.terraformLog === true) env.TF_LOG = "JSON";
  // Last, so a legacy env-var parameter cannot redirect provider installation.
  return { ...env, ...controlled };
}

/**
 * The build metadata as the coder terraform provider reads it: each variable name and value
 * format is the provider's (lists as JSON, an empty list as `null`, as Go encodes a nil slice).
 */
export function metadataEnvironment(metadata: Metadata): Environment {
  const env: Environment = {
    CODER_AGENT_URL: metadata.coderUrl,
    CODER_WORKSPACE_TRANSITION: transitionName(metadata.workspaceTransition),
    CODER_WORKSPACE_NAME: metadata.workspaceName,
    CODER_WORKSPACE_OWNER: metadata.workspaceOwner,
    CODER_WORKSPACE_OWNER_EMAIL: metadata.workspaceOwnerEmail,
    CODER_WORKSPACE_OWNER_NAME: metadata.workspaceOwnerName,
    CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN: metadata.workspaceOwnerOidcAccessToken,
    CODER_WORKSPACE_OWNER_GROUPS: jsonList(metadata.workspaceOwnerGroups),
    CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY: metadata.workspaceOwnerSshPublicKey,
    CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY: metadata.workspaceOwnerSshPrivateKey,
    CODER_WORKSPACE_OWNER_LOGIN_TYPE: metadata.workspaceOwnerLoginType,
    CODER_WORKSPACE_OWNER_RBAC_ROLES: jsonList(metadata.workspaceOwnerRbacRoles.map(roleJson)),
    CODER_WORKSPACE_ID: metadata.workspaceId,
    CODER_WORKSPACE_OWNER_ID: metadata.workspaceOwnerId,
    CODER_WORKSPACE_OWNER_SESSION_TOKEN: metadata.workspaceOwnerSessionToken,
    CODER_WORKSPACE_TEMPLATE_ID: metadata.templateId,
    CODER_WORKSPACE_TEMPLATE_NAME: metadata.templateName,
    CODER_WORKSPACE_TEMPLATE_VERSION: metadata.templateVersion,
    CODER_WORKSPACE_BUILD_ID: metadata.workspaceBuildId,
    CODER_TASK_ID: metadata.taskId,
    CODER_TASK_PROMPT: metadata.taskPrompt,
  };
  // The provider treats anything but "true" as false, so the other stage's variable stays unset.
  const stage = metadata.prebuiltWorkspaceBuildStage;
  if (stage === PrebuiltWorkspaceBuildStage.CREATE) env.CODER_WORKSPACE_IS_PREBUILD = "true";
  if (stage === PrebuiltWorkspaceBuildStage.CLAIM) env.CODER_WORKSPACE_IS_PREBUILD_CLAIM = "true";
  Object.assign(env, runningAgentTokenEnvironment(metadata.runningAgentAuthTokens));
  return env;
}

/**
 * The tokens a prebuilt workspace's agents already have, so that claiming it keeps them. The
 * provider looks a token up under the SHA-256 of its agent's id, and today only ever of the
 * empty id: a single token is filed under that name whatever its agent.
 */
function runningAgentTokenEnvironment(tokens: readonly RunningAgentAuthToken[]): Environment {
  const env: Environment = {};
  for (const token of tokens) {
    const agentId = tokens.length === 1 ? "" : token.agentId;
    const digest = createHash("sha256").update(agentId).digest("hex");
    env[`CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${digest}`] = token.token;
  }
  return env;
}

/** A role as the provider decodes it: `org_id` left out when empty, as Go's `omitempty`. */
function roleJson(role: Role): Record<string, string> {
  const out: Record<string, string> = {};
  if (role.name !== "") out.name = role.name;
  if (role.orgId !== "") out.org_id = role.orgId;
  return out;
}

function jsonList(items: readonly unknown[]): string {
  return items.length === 0 ? "null" : JSON.stringify(items);
}

/** The metadata values that are credentials: masked wherever terraform's output shows them. */
export function metadataSecrets(metadata: Metadata): SensitiveValue[] {
  return [
    { label: "owner OIDC access token", value: metadata.workspaceOwnerOidcAccessToken },
    { label: "owner session token", value: metadata.workspaceOwnerSessionToken },
    { label: "owner SSH private key", value: metadata.workspaceOwnerSshPrivateKey },
    ...metadata.runningAgentAuthTokens.map((token) => ({
      label: `running agent token of agent ${JSON.stringify(token.agentId)}`,
      value: token.token,
    })),
  ];
}

/** TF_* variables whose values are safe to print (the reference's list). */
const printableTerraformVariables = new Set([
  "TF_LOG",
  "TF_LOG_PATH",
  "TF_INPUT",
  "TF_DATA_DIR",
  "TF_WORKSPACE",
  "TF_IN_AUTOMATION",
  "TF_REGISTRY_DISCOVERY_RETRY",
  "TF_REGISTRY_CLIENT_TIMEOUT",
  "TF_CLI_CONFIG_FILE",
  "TF_IGNORE",
]);

/**
 * One WARN line per inherited TF_* variable, values redacted unless known harmless: operators
 * see what changes terraform's behaviour without secrets (TF_VAR_*, TF_TOKEN_*) leaking.
 */
export function terraformVariableLogs(
  inherited: Environment,
  controlled: Environment,
): ProvisionerLog[] {
  const logs: ProvisionerLog[] = [];
  for (const name of Object.keys(inherited).sort()) {
    if (!name.startsWith("TF_")) continue;
    const value = printableTerraformVariables.has(name) ? inherited[name] : REDACTED;
    const note =
      name in controlled
        ? " (ignored: the provisioner sets its own value)"
        : isIgnoredTerraformVariable(name)
          ? " (ignored: it would move state or change arguments of provisioner jobs)"
          : "";
    logs.push({
      level: LogLevel.WARN,
      output: `terraform environment variable: ${name}=${value}${note}`,
    });
  }
  return logs;
}
