// The baseline of the job overhead figure: the workspace build's terraform commands run from a
// plain shell script, with the environment the provisioner gives terraform (same CLI config,
// plugin cache, build metadata and agent scripts), output thrown away.
import { execa } from "execa";
import type { Metadata } from "../../src/provisioner/model.js";
import {
  controlledVariables,
  provisionEnvironment,
  sanitizedEnvironment,
} from "../../src/terraform/environment.js";
import { graphArgs } from "../../src/terraform/index.js";

export interface ShellBuildOptions {
  /** A fresh copy of the template (the script runs in it). */
  directory: string;
  terraformVersion: string;
  cliConfigFile: string;
  pluginCacheDir: string;
  metadata: Metadata;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** init, plan -out, show -json, graph, apply, show -json, graph: a start build's commands. */
export function buildScript(terraformVersion: string): string {
  const graph = ["terraform", ...graphArgs(terraformVersion)].map(quote).join(" ");
  return [
    "set -e",
    "terraform init -no-color -input=false >/dev/null",
    "terraform plan -no-color -input=false -json -refresh=true -out=terraform.tfplan >/dev/null",
    "terraform show -json -no-color terraform.tfplan >/dev/null",
    `${graph} >/dev/null`,
    "terraform apply -no-color -auto-approve -input=false -json terraform.tfplan >/dev/null",
    "terraform show -json -no-color >/dev/null",
    `${graph} >/dev/null`,
  ].join("\n");
}

/**
 * init, then plan -out, show -json and graph for START and again for STOP: a template import's
 * commands. The STOP plan writes its own plan file, as a second Provision call would.
 */
export function importScript(terraformVersion: string): string {
  const graph = ["terraform", ...graphArgs(terraformVersion)].map(quote).join(" ");
  const plan = (transition: string, file: string) => [
    `CODER_WORKSPACE_TRANSITION=${transition} terraform plan -no-color -input=false -json -refresh=true -out=${file} >/dev/null`,
    `terraform show -json -no-color ${file} >/dev/null`,
    `${graph} >/dev/null`,
  ];
  return [
    "set -e",
    "terraform init -no-color -input=false >/dev/null",
    ...plan("start", "start.tfplan"),
    ...plan("stop", "stop.tfplan"),
  ].join("\n");
}

/** The environment the provisioner gives terraform's plan and apply for this build. */
export function terraformEnvironment(
  options: Omit<ShellBuildOptions, "directory" | "terraformVersion">,
): Record<string, string> {
  const controlled = controlledVariables({
    cliConfigFile: options.cliConfigFile,
    pluginCacheDir: options.pluginCacheDir,
  });
  return provisionEnvironment(sanitizedEnvironment(process.env), controlled, {
    metadata: options.metadata,
    parameterEnv: {},
    gitAuthProviders: [],
  });
}

/** Runs the build script; resolves with its wall time in milliseconds. */
export function runShellBuild(options: ShellBuildOptions): Promise<number> {
  return runShellScript(options, buildScript(options.terraformVersion));
}

/** Runs the import script; resolves with its wall time in milliseconds. */
export function runShellImport(options: ShellBuildOptions): Promise<number> {
  return runShellScript(options, importScript(options.terraformVersion));
}

async function runShellScript(options: ShellBuildOptions, script: string): Promise<number> {
  const env = terraformEnvironment(options);
  const start = performance.now();
  await execa("sh", ["-c", script], {
    cwd: options.directory,
    env,
    extendEnv: false,
    stdin: "ignore",
  });
  return performance.now() - start;
}
