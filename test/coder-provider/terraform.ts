// Runs the real terraform binary offline against a copy of an example template.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { copyTemplate, getOfflineTerraform } from "../helpers/offline-terraform.js";

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * What the daemon puts in the environment of plan and apply, with recognisable
 * values: the access URL has a port and a path the provider must drop for the init script.
 */
// biome-ignore-start lint/suspicious/noTemplateCurlyInString: the bootstrap scripts' placeholders
export const CODER_ENV: Record<string, string> = {
  CODER_AGENT_URL: "https://coder.example.com:8443/ignored/path",
  CODER_AGENT_SCRIPT_linux_amd64:
    "linux amd64 ${ACCESS_URL}bin/coder-linux-amd64 auth=${AUTH_TYPE}",
  CODER_AGENT_SCRIPT_linux_arm64:
    "linux arm64 ${ACCESS_URL}bin/coder-linux-arm64 auth=${AUTH_TYPE}",
  CODER_AGENT_SCRIPT_windows_amd64:
    "windows amd64 ${ACCESS_URL}bin/coder-windows-amd64.exe auth=${AUTH_TYPE}",
  CODER_WORKSPACE_TRANSITION: "start",
  CODER_WORKSPACE_NAME: "dev",
  CODER_WORKSPACE_OWNER: "alice",
  CODER_WORKSPACE_OWNER_EMAIL: "alice@example.com",
  CODER_WORKSPACE_ID: "7c4a8d09-ca37-4c4b-9a3d-0d5b2b9e8b1e",
  CODER_WORKSPACE_OWNER_ID: "0b9e8d1c-3f4a-4c2b-8e5d-6a7b8c9d0e1f",
};
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: -

export interface TerraformResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Workdir {
  dir: string;
  /** Removes the copy. */
  dispose(): void;
  /** Runs `terraform <args>` in the copy; never throws on a non-zero exit. */
  run(args: string[], env?: Record<string, string>): Promise<TerraformResult>;
  /** Runs and fails the test with terraform's output when it exits non-zero. */
  ok(args: string[], env?: Record<string, string>): Promise<string>;
  /** `terraform show -json [file]`, parsed. */
  showJson(planFile?: string): Promise<TerraformShow>;
}

// The subset of `terraform show -json` the tests read.
export interface StateResource {
  address: string;
  mode: "managed" | "data";
  type: string;
  name: string;
  index?: number | string;
  values: Record<string, unknown>;
  sensitive_values?: Record<string, unknown>;
}
export interface StateModule {
  resources?: StateResource[];
  child_modules?: StateModule[];
}
export interface TerraformShow {
  values?: { root_module: StateModule; outputs?: Record<string, { value: unknown }> };
  planned_values?: { root_module: StateModule; outputs?: Record<string, { value: unknown }> };
  prior_state?: { values?: { root_module: StateModule } };
  resource_changes?: {
    address: string;
    type: string;
    change: {
      actions: string[];
      after: Record<string, unknown> | null;
      after_unknown?: Record<string, unknown>;
    };
  }[];
  variables?: Record<string, { value: unknown }>;
}

/** Environment that keeps the developer's own CODER_* and TF_* settings out of the runs. */
function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("CODER_") || key.startsWith("TF_")) continue;
    out[key] = value;
  }
  return out;
}

export function templateWorkdir(
  template: string,
  baseEnv: Record<string, string> = {},
): Promise<Workdir> {
  return workdirAt(copyTemplate(template), baseEnv);
}

/** A copy of an example template on which `terraform init` already ran. */
export async function initializedTemplate(
  template: string,
  baseEnv: Record<string, string> = {},
): Promise<Workdir> {
  const wd = await templateWorkdir(template, baseEnv);
  await wd.ok(["init", "-input=false", "-no-color"]);
  return wd;
}

/** The planned action(s) of every resource instance, keyed by address. */
export function actionsByAddress(show: TerraformShow): Record<string, string[]> {
  return Object.fromEntries(
    (show.resource_changes ?? []).map((c) => [c.address, c.change.actions]),
  );
}

/** A scratch directory holding the given main.tf (for configurations that must fail). */
export function inlineWorkdir(
  mainTf: string,
  baseEnv: Record<string, string> = {},
): Promise<Workdir> {
  const dir = mkdtempSync(join(tmpdir(), "inline-template-"));
  writeFileSync(join(dir, "main.tf"), mainTf);
  return workdirAt(dir, baseEnv);
}

async function workdirAt(dir: string, baseEnv: Record<string, string>): Promise<Workdir> {
  const tf = await getOfflineTerraform();
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const result = await execa("terraform", args, {
      cwd: dir,
      env: { ...cleanEnv(), ...tf.env, ...baseEnv, ...env },
      extendEnv: false,
      reject: false,
      stdin: "ignore",
    });
    return {
      exitCode: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
    };
  };
  const ok = async (args: string[], env?: Record<string, string>) => {
    const result = await run(args, env);
    if (result.exitCode !== 0) {
      throw new Error(
        `terraform ${args.join(" ")} exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`,
      );
    }
    return result.stdout;
  };
  const showJson = async (planFile?: string) =>
    JSON.parse(await ok(["show", "-json", ...(planFile ? [planFile] : [])])) as TerraformShow;
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  return { dir, dispose, run, ok, showJson };
}

/** Edges `from -> to` of `terraform graph` output (from depends on to). */
export function graphEdges(dot: string): [string, string][] {
  return [...dot.matchAll(/"([^"]+)" -> "([^"]+)"/g)].map((m) => [m[1] ?? "", m[2] ?? ""]);
}

export interface JsonDiagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  address?: string;
  range?: { filename: string; start: { line: number } };
}

/** The `diagnostic` messages of terraform's `-json` output. */
export function diagnostics(jsonLines: string): JsonDiagnostic[] {
  return jsonLines
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { type: string; diagnostic?: JsonDiagnostic })
    .filter((m) => m.type === "diagnostic" && m.diagnostic)
    .map((m) => m.diagnostic as JsonDiagnostic);
}

/** Values of every resource instance of a module tree, keyed by address. */
export function valuesByAddress(
  module: StateModule | undefined,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(allResources(module).map((r) => [r.address, r.values]));
}

export function allResources(module: StateModule | undefined): StateResource[] {
  if (!module) return [];
  return [...(module.resources ?? []), ...(module.child_modules ?? []).flatMap(allResources)];
}

export function resourceAt(module: StateModule | undefined, address: string): StateResource {
  const found = allResources(module).find((r) => r.address === address);
  if (!found)
    throw new Error(
      `no ${address} in ${allResources(module)
        .map((r) => r.address)
        .join(", ")}`,
    );
  return found;
}
