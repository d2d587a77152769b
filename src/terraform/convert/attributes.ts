// Attribute shapes of the coder provider's resources, as they appear in plan/state JSON.
// Reference rule (mapstructure): a missing or null attribute is the zero value; a value of the
// wrong type is an error. Unknown attributes (newer provider versions) are ignored.
import { z } from "zod";
import { describeIssues } from "../terraform-json.js";

const str = z.string().nullish();
const bool = z.boolean().nullish();
/** Whole numbers within int32 (proto fields are int32). */
const int = z.number().int().min(-2_147_483_648).max(2_147_483_647).nullish();
/** Whole numbers the proto carries as int64 (`order`, metadata intervals). */
const long = z.number().int().nullish();
/** Counts the reference clamps to int32's maximum rather than refusing. */
const count = z.number().int().nullish();
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item).nullish();

export const agentAttributesSchema = z.object({
  id: str,
  env: z.record(z.string(), z.string()).nullish(),
  startup_script: str,
  os: str,
  arch: str,
  dir: str,
  connection_timeout: int,
  troubleshooting_url: str,
  motd_file: str,
  login_before_ready: bool,
  startup_script_timeout: int,
  startup_script_behavior: str,
  shutdown_script: str,
  auth: str,
  token: str,
  api_key_scope: str,
  order: long,
  metadata: list(
    z.object({
      key: str,
      display_name: str,
      script: str,
      interval: long,
      timeout: long,
      order: long,
    }),
  ),
  display_apps: list(
    z.object({
      vscode: bool,
      vscode_insiders: bool,
      web_terminal: bool,
      ssh_helper: bool,
      port_forwarding_helper: bool,
    }),
  ),
  resources_monitoring: list(
    z.object({
      memory: list(z.object({ enabled: bool, threshold: int })),
      volume: list(z.object({ path: str, enabled: bool, threshold: int })),
    }),
  ),
});

export const devcontainerAttributesSchema = z.object({
  id: str,
  agent_id: str,
  workspace_folder: str,
  config_path: str,
  subagent_id: str,
});

export const envAttributesSchema = z.object({
  agent_id: str,
  name: str,
  value: str,
  merge_strategy: str,
});

export const scriptAttributesSchema = z.object({
  agent_id: str,
  display_name: str,
  icon: str,
  script: str,
  cron: str,
  log_path: str,
  start_blocks_login: bool,
  run_on_start: bool,
  run_on_stop: bool,
  timeout: int,
});

export const agentInstanceAttributesSchema = z.object({
  // Reference rule: both must be strings to count; anything else is skipped, not an error.
  agent_id: z.unknown().optional(),
  instance_id: z.unknown().optional(),
});

export const appAttributesSchema = z.object({
  id: str,
  agent_id: str,
  slug: str,
  display_name: str,
  /** Deprecated predecessor of display_name. */
  name: str,
  command: str,
  url: str,
  icon: str,
  external: bool,
  subdomain: bool,
  share: str,
  healthcheck: z.array(z.object({ url: str, interval: int, threshold: int })).nullish(),
  order: long,
  group: str,
  hidden: bool,
  open_in: str,
  tooltip: str,
});

export const metadataAttributesSchema = z.object({
  resource_id: str,
  hide: bool,
  icon: str,
  daily_cost: int,
  item: z.array(z.object({ key: str, value: str, sensitive: bool, is_null: bool })).nullish(),
});

export const parameterAttributesSchema = z.object({
  name: str,
  description: str,
  type: str,
  mutable: bool,
  default: str,
  icon: str,
  display_name: str,
  optional: bool,
  order: int,
  ephemeral: bool,
  form_type: str,
  option: z.array(z.object({ name: str, description: str, value: str, icon: str })).nullish(),
  validation: z
    .array(
      z.object({
        regex: str,
        error: str,
        min: int,
        max: int,
        monotonic: str,
        // Newer providers say explicitly that a bound is unset.
        min_disabled: bool,
        max_disabled: bool,
      }),
    )
    .nullish(),
});

export const presetAttributesSchema = z.object({
  name: str,
  parameters: z.record(z.string(), z.string()).nullish(),
  default: bool,
  description: str,
  icon: str,
  prebuilds: list(
    z.object({
      instances: count,
      expiration_policy: list(z.object({ ttl: count })),
      scheduling: list(
        z.object({ timezone: str, schedule: list(z.object({ cron: str, instances: count })) }),
      ),
    }),
  ),
});

export const aiTaskAttributesSchema = z.object({
  id: str,
  app_id: str,
  sidebar_app: list(z.object({ id: str })),
});

export const externalAuthAttributesSchema = z.object({
  // Reference rule: a non-string id is an error with its own text; a non-bool `optional` is false.
  id: z.unknown().optional(),
  optional: z.unknown().optional(),
});

export type AgentAttributes = z.infer<typeof agentAttributesSchema>;
export type AppAttributes = z.infer<typeof appAttributesSchema>;
export type MetadataAttributes = z.infer<typeof metadataAttributesSchema>;
export type ParameterAttributes = z.infer<typeof parameterAttributesSchema>;

/** Decodes attributes with `schema`; on failure throws `<prefix>: <field>: <problem>`. */
export function decodeAttributes<T>(
  schema: z.ZodType<T>,
  values: Record<string, unknown> | null | undefined,
  prefix: string,
): T {
  const result = schema.safeParse(values ?? {});
  if (!result.success) throw new ConversionError(`${prefix}: ${describeIssues(result.error)}`);
  return result.data;
}

/** Conversion failed; the message follows the reference's texts where it had one. */
export class ConversionError extends Error {
  override readonly name = "ConversionError";
}
