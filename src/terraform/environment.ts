// The environment terraform runs with. Terraform and its providers inherit
// everything we hand them, so the daemon's own CODER_* variables (PSK, URLs) never go in, and
// the few variables that decide where providers come from are always ours.
import {
  type GitAuthProvider,
  LogLevel,
  type Metadata,
  WorkspaceTransition,
} from "../provisioner/model.js";
import type { ProvisionerLog } from "../provisioner/provisioner.js";
import { agentScriptEnvironment } from "./bootstrap-scripts.js";
import { REDACTED } from "./redact.js";

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
  const { metadata } = input;
  const env: Environment = {
    ...withoutIgnored(inherited),
    CODER_AGENT_URL: metadata.coderUrl,
    CODER_WORKSPACE_TRANSITION: transitionName(metadata.workspaceTransition),
    CODER_WORKSPACE_NAME: metadata.workspaceName,
    CODER_WORKSPACE_OWNER: metadata.workspaceOwner,
    CODER_WORKSPACE_OWNER_EMAIL: metadata.workspaceOwnerEmail,
    CODER_WORKSPACE_ID: metadata.workspaceId,
    CODER_WORKSPACE_OWNER_ID: metadata.workspaceOwnerId,
    CODER_WORKSPACE_TEMPLATE_NAME: metadata.templateName,
    CODER_WORKSPACE_TEMPLATE_VERSION: metadata.templateVersion,
    ...agentScriptEnvironment(),
    ...input.parameterEnv,
  };
  // The name later coder providers read for `data "coder_git_auth"` access tokens.
  for (const provider of input.gitAuthProviders) {
    env[`CODER_GIT_AUTH_ACCESS_TOKEN_${provider.id}`] = provider.accessToken;
  }
  // Last, so a legacy env-var parameter cannot redirect provider installation.
  return { ...env, ...controlled };
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
