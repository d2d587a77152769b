// Runs the real terraform binary offline against a copy of an example template.
import { execa } from "execa";
import { copyTemplate, getOfflineTerraform } from "../helpers/offline-terraform.js";

export interface TerraformResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Workdir {
  dir: string;
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

export async function templateWorkdir(
  template: string,
  baseEnv: Record<string, string> = {},
): Promise<Workdir> {
  const tf = await getOfflineTerraform();
  const dir = copyTemplate(template);
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
  return { dir, run, ok, showJson };
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
