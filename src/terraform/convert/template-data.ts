// What a template declares besides resources and parameters: presets (with prebuild settings),
// AI tasks and external auth providers.
import {
  AITask,
  AITaskSidebarApp,
  ExpirationPolicy,
  ExternalAuthProviderResource,
  Prebuild,
  Preset,
  PresetParameter,
  Schedule,
  Scheduling,
} from "../../provisioner/model.js";
import {
  aiTaskAttributesSchema,
  ConversionError,
  decodeAttributes,
  externalAuthAttributesSchema,
  presetAttributesSchema,
} from "./attributes.js";
import { compare, type Indexed } from "./indexed.js";

const INT32_MAX = 2_147_483_647;
const clamp = (n: number | null | undefined) => Math.min(INT32_MAX, n ?? 0);

export function convertPresets(found: Indexed[]): Preset[] {
  const presets = found.map((r) => {
    const attrs = decodeAttributes(
      presetAttributesSchema,
      r.resource.values,
      "decode preset attributes",
    );
    const prebuild = attrs.prebuilds?.[0];
    const expiration = prebuild?.expiration_policy?.[0];
    const scheduling = prebuild?.scheduling?.[0];
    return Preset.create({
      name: attrs.name ?? "",
      parameters: Object.entries(attrs.parameters ?? {}).map(([name, value]) =>
        PresetParameter.create({ name, value }),
      ),
      prebuild: Prebuild.create({
        instances: clamp(prebuild?.instances),
        expirationPolicy:
          expiration === undefined
            ? undefined
            : ExpirationPolicy.create({ ttl: clamp(expiration.ttl) }),
        scheduling:
          scheduling === undefined
            ? undefined
            : Scheduling.create({
                timezone: scheduling.timezone ?? "",
                schedule: (scheduling.schedule ?? []).map((s) =>
                  Schedule.create({ cron: s.cron ?? "", instances: clamp(s.instances) }),
                ),
              }),
      }),
      default: attrs.default ?? false,
      description: attrs.description ?? "",
      icon: attrs.icon ?? "",
    });
  });
  const defaults = presets.filter((p) => p.default).length;
  if (defaults > 1) {
    throw new ConversionError(
      `a maximum of 1 coder_workspace_preset can be marked as default, but ${defaults} are set`,
    );
  }
  return presets;
}

/** Only tasks that will exist: a task with count 0 is in the graph but not in the modules. */
export function convertAITasks(found: Indexed[]): AITask[] {
  return found.map((r) => {
    const attrs = decodeAttributes(
      aiTaskAttributesSchema,
      r.resource.values,
      "decode coder_ai_task attributes",
    );
    // `sidebar_app` is the older spelling of `app_id`.
    const appId = attrs.app_id || attrs.sidebar_app?.[0]?.id || "";
    return AITask.create({
      id: attrs.id ?? "",
      appId,
      sidebarApp: AITaskSidebarApp.create({ id: appId }),
    });
  });
}

/**
 * `coder_git_auth` (legacy) and `coder_external_auth`, one per id, sorted by id; for an id both
 * name, `coder_external_auth` wins.
 */
export function convertExternalAuth(
  gitAuth: Indexed[],
  externalAuth: Indexed[],
): ExternalAuthProviderResource[] {
  const byId = new Map<string, ExternalAuthProviderResource>();
  for (const r of [...gitAuth, ...externalAuth]) {
    const attrs = decodeAttributes(
      externalAuthAttributesSchema,
      r.resource.values,
      "decode external auth",
    );
    if (typeof attrs.id !== "string") throw new ConversionError("external auth id is not a string");
    byId.set(
      attrs.id,
      ExternalAuthProviderResource.create({ id: attrs.id, optional: attrs.optional === true }),
    );
  }
  return [...byId.values()].sort((a, b) => compare(a.id, b.id));
}
