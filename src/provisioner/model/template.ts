// What a template declares besides resources and parameters (presets with prebuild settings,
// external auth providers, AI tasks), and everything one conversion of a plan or state finds.
import { withDefaults } from "./construct.js";
import type { RichParameter } from "./parameters.js";
import type { Resource } from "./resources.js";

/** One parameter value of a preset. */
export interface PresetParameter {
  name: string;
  value: string;
}

export const PresetParameter = {
  create(fields: Partial<PresetParameter> = {}): PresetParameter {
    return withDefaults({ name: "", value: "" }, fields);
  },
};

/** How long an unclaimed prebuilt workspace lives. */
export interface ExpirationPolicy {
  /** Seconds. */
  ttl: number;
}

export const ExpirationPolicy = {
  create(fields: Partial<ExpirationPolicy> = {}): ExpirationPolicy {
    return withDefaults({ ttl: 0 }, fields);
  },
};

/** One cron entry of a prebuild schedule. */
export interface Schedule {
  cron: string;
  instances: number;
}

export const Schedule = {
  create(fields: Partial<Schedule> = {}): Schedule {
    return withDefaults({ cron: "", instances: 0 }, fields);
  },
};

/** Time-based prebuild scaling. */
export interface Scheduling {
  /** IANA time zone of the cron entries. */
  timezone: string;
  schedule: Schedule[];
}

export const Scheduling = {
  create(fields: Partial<Scheduling> = {}): Scheduling {
    return withDefaults({ timezone: "", schedule: [] }, fields);
  },
};

/** The `prebuilds` block of a preset. */
export interface Prebuild {
  /** 0 without a `prebuilds` block. */
  instances: number;
  expirationPolicy?: ExpirationPolicy | undefined;
  scheduling?: Scheduling | undefined;
}

export const Prebuild = {
  create(fields: Partial<Prebuild> = {}): Prebuild {
    return withDefaults(
      { instances: 0, expirationPolicy: undefined, scheduling: undefined },
      fields,
    );
  },
};

/** A `coder_workspace_preset`: named parameter values a workspace can start from. */
export interface Preset {
  name: string;
  parameters: PresetParameter[];
  /** Always set by the converter. */
  prebuild?: Prebuild | undefined;
  /** At most one preset per template. */
  default: boolean;
  description: string;
  icon: string;
}

export const Preset = {
  create(fields: Partial<Preset> = {}): Preset {
    return withDefaults(
      {
        name: "",
        parameters: [],
        prebuild: undefined,
        default: false,
        description: "",
        icon: "",
      },
      fields,
    );
  },
};

/** A Terraform module the template calls, as `terraform init` recorded it (root left out). */
export interface Module {
  /** A registry address, a URL, or a local path such as `./modules/x`. */
  source: string;
  /** The registry version it was installed at; "" for other sources. */
  version: string;
  /** Its call names joined by dots (`a.b` for module "b" inside "a"). */
  key: string;
}

export const Module = {
  create(fields: Partial<Module> = {}): Module {
    return withDefaults({ source: "", version: "", key: "" }, fields);
  },
};

/** An external auth provider a template uses (`coder_external_auth` or `coder_git_auth`). */
export interface ExternalAuthProviderResource {
  id: string;
  /** The workspace may start without the user having authenticated. */
  optional: boolean;
}

export const ExternalAuthProviderResource = {
  create(fields: Partial<ExternalAuthProviderResource> = {}): ExternalAuthProviderResource {
    return withDefaults({ id: "", optional: false }, fields);
  },
};

/** The app an AI task shows beside its chat. */
export interface AITaskSidebarApp {
  id: string;
}

export const AITaskSidebarApp = {
  create(fields: Partial<AITaskSidebarApp> = {}): AITaskSidebarApp {
    return withDefaults({ id: "" }, fields);
  },
};

/** A `coder_ai_task` resource. */
export interface AITask {
  /** Unknown ("") in a plan. */
  id: string;
  /** Always set by the converter, with the app id. */
  sidebarApp?: AITaskSidebarApp | undefined;
  appId: string;
}

export const AITask = {
  create(fields: Partial<AITask> = {}): AITask {
    return withDefaults({ id: "", sidebarApp: undefined, appId: "" }, fields);
  },
};

/** Everything a conversion of a plan or state finds. */
export interface ConvertedState {
  resources: Resource[];
  /** In the converter's order (child modules first, then each module's own). */
  parameters: RichParameter[];
  presets: Preset[];
  /** One per id, sorted by id. */
  externalAuthProviders: ExternalAuthProviderResource[];
  aiTasks: AITask[];
  hasAiTasks: boolean;
  hasExternalAgents: boolean;
}
