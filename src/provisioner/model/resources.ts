// Resources a provisioner reports: what terraform planned or created, with the Coder agents
// and apps attached to them.
import { nameOf, withDefaults } from "./construct.js";

/** Sharing level of a workspace app. */
export const AppSharingLevel = {
  OWNER: 0,
  AUTHENTICATED: 1,
  PUBLIC: 2,
} as const;
export type AppSharingLevel = (typeof AppSharingLevel)[keyof typeof AppSharingLevel];

/** The name of each AppSharingLevel value, for people and for JSON output. */
export function appSharingLevelToJSON(value: AppSharingLevel): string {
  return nameOf(AppSharingLevel, value);
}

/** Where an app opens. WINDOW is deprecated; the converter gives SLIM_WINDOW unless `tab`. */
export const AppOpenIn = {
  WINDOW: 0,
  SLIM_WINDOW: 1,
  TAB: 2,
} as const;
export type AppOpenIn = (typeof AppOpenIn)[keyof typeof AppOpenIn];

/** Health check of an app. */
export interface Healthcheck {
  /** URL to probe. */
  url: string;
  /** Seconds between probes. */
  interval: number;
  /** Failed probes before the app counts as unhealthy. */
  threshold: number;
}

export const Healthcheck = {
  create(fields: Partial<Healthcheck> = {}): Healthcheck {
    return withDefaults({ url: "", interval: 0, threshold: 0 }, fields);
  },
};

/** A `coder_app` attached to an agent. */
export interface App {
  /** Unique, hostname-safe id (`^[a-z0-9](-?[a-z0-9])*$`). */
  slug: string;
  /** Name shown in the UI. */
  displayName: string;
  /** Command to run in a terminal. */
  command: string;
  /** URL the app proxies to. */
  url: string;
  /** Icon URL. */
  icon: string;
  /** Serve on a subdomain. */
  subdomain: boolean;
  /** Unset when the app has no healthcheck block. */
  healthcheck?: Healthcheck | undefined;
  /** From `share`. */
  sharingLevel: AppSharingLevel;
  /** An external URL, not proxied. */
  external: boolean;
  /** Position among the agent's apps (lower first). */
  order: number;
  /** Not shown in the UI. */
  hidden: boolean;
  /** Where the app opens. */
  openIn: AppOpenIn;
  /** Group shown in the UI. */
  group: string;
  /** The app's id (a UUID made by the provider); "" while unknown. */
  id: string;
  /** Markdown shown on hover. */
  tooltip: string;
}

export const App = {
  create(fields: Partial<App> = {}): App {
    return withDefaults(
      {
        slug: "",
        displayName: "",
        command: "",
        url: "",
        icon: "",
        subdomain: false,
        healthcheck: undefined,
        sharingLevel: 0,
        external: false,
        order: 0,
        hidden: false,
        openIn: 0,
        group: "",
        id: "",
        tooltip: "",
      },
      fields,
    );
  },
};

/** A script an agent runs (`coder_script`, or a legacy startup/shutdown script attribute). */
export interface Script {
  displayName: string;
  icon: string;
  script: string;
  /** Cron expression for scheduled runs. */
  cron: string;
  /** Login waits until the script finished. */
  startBlocksLogin: boolean;
  runOnStart: boolean;
  runOnStop: boolean;
  /** 0: no limit. */
  timeoutSeconds: number;
  /** Where the agent writes the script's output. */
  logPath: string;
}

export const Script = {
  create(fields: Partial<Script> = {}): Script {
    return withDefaults(
      {
        displayName: "",
        icon: "",
        script: "",
        cron: "",
        startBlocksLogin: false,
        runOnStart: false,
        runOnStop: false,
        timeoutSeconds: 0,
        logPath: "",
      },
      fields,
    );
  },
};

/** An environment variable an agent sets (`coder_env`). */
export interface Env {
  name: string;
  value: string;
  /** How values of one name combine ("" = replace). */
  mergeStrategy: string;
}

export const Env = {
  create(fields: Partial<Env> = {}): Env {
    return withDefaults({ name: "", value: "", mergeStrategy: "" }, fields);
  },
};

/** Which built-in apps an agent shows. */
export interface DisplayApps {
  vscode: boolean;
  vscodeInsiders: boolean;
  webTerminal: boolean;
  sshHelper: boolean;
  portForwardingHelper: boolean;
}

export const DisplayApps = {
  create(fields: Partial<DisplayApps> = {}): DisplayApps {
    return withDefaults(
      {
        vscode: false,
        vscodeInsiders: false,
        webTerminal: false,
        sshHelper: false,
        portForwardingHelper: false,
      },
      fields,
    );
  },
};

/** Memory monitoring of an agent. */
export interface MemoryResourceMonitor {
  enabled: boolean;
  /** Percent used that raises an alert. */
  threshold: number;
}

export const MemoryResourceMonitor = {
  create(fields: Partial<MemoryResourceMonitor> = {}): MemoryResourceMonitor {
    return withDefaults({ enabled: false, threshold: 0 }, fields);
  },
};

/** Monitoring of one volume of an agent. */
export interface VolumeResourceMonitor {
  path: string;
  enabled: boolean;
  threshold: number;
}

export const VolumeResourceMonitor = {
  create(fields: Partial<VolumeResourceMonitor> = {}): VolumeResourceMonitor {
    return withDefaults({ path: "", enabled: false, threshold: 0 }, fields);
  },
};

/** The `resources_monitoring` block of an agent. */
export interface ResourcesMonitoring {
  /** Unset without a `memory` block. */
  memory?: MemoryResourceMonitor | undefined;
  volumes: VolumeResourceMonitor[];
}

export const ResourcesMonitoring = {
  create(fields: Partial<ResourcesMonitoring> = {}): ResourcesMonitoring {
    return withDefaults({ memory: undefined, volumes: [] }, fields);
  },
};

/** A `coder_devcontainer` attached to an agent, with what attaches to it. */
export interface Devcontainer {
  workspaceFolder: string;
  configPath: string;
  /** Resource name of the `coder_devcontainer` block. */
  name: string;
  id: string;
  /** Id of the sub-agent that runs inside it; "" while unknown. */
  subagentId: string;
  apps: App[];
  scripts: Script[];
  envs: Env[];
}

export const Devcontainer = {
  create(fields: Partial<Devcontainer> = {}): Devcontainer {
    return withDefaults(
      {
        workspaceFolder: "",
        configPath: "",
        name: "",
        id: "",
        subagentId: "",
        apps: [],
        scripts: [],
        envs: [],
      },
      fields,
    );
  },
};

/** One `metadata` block of an agent: a command whose output the UI shows. */
export interface Agent_Metadata {
  key: string;
  displayName: string;
  script: string;
  /** Seconds between runs. */
  interval: number;
  /** Seconds before a run is stopped. */
  timeout: number;
  order: number;
}

export const Agent_Metadata = {
  create(fields: Partial<Agent_Metadata> = {}): Agent_Metadata {
    return withDefaults(
      { key: "", displayName: "", script: "", interval: 0, timeout: 0, order: 0 },
      fields,
    );
  },
};

/** Instance-identity authentication of an agent (cloud instance id instead of a token). */
export interface InstanceIdentityAuth {
  /** The cloud instance id. */
  instanceId: string;
}

export const InstanceIdentityAuth = {
  create(fields: Partial<InstanceIdentityAuth> = {}): InstanceIdentityAuth {
    return withDefaults({ instanceId: "" }, fields);
  },
};

/** A `coder_agent` attached to a resource. */
export interface Agent {
  /** The agent's id (a UUID made by the provider). */
  id: string;
  /** Resource name of the `coder_agent` block (e.g. `main`). */
  name: string;
  /** Environment variables for the agent. */
  env: { [key: string]: string };
  /** Script run when the agent starts. */
  startupScript: string;
  /** `os`. */
  operatingSystem: string;
  /** `arch`. */
  architecture: string;
  /** Working directory. */
  directory: string;
  /** Apps served by this agent, sorted by slug. */
  apps: App[];
  /** How the agent authenticates. */
  auth?:
    | //
    /** Token auth: the provider's `token` (a secret). */
    { $case: "token"; value: string } //
    /** Instance-identity auth: the instance id (may be empty). */
    | { $case: "instanceId"; value: string }
    | undefined;
  /** `connection_timeout` in seconds. */
  connectionTimeoutSeconds: number;
  /** `troubleshooting_url`. */
  troubleshootingUrl: string;
  /** `motd_file`. */
  motdFile: string;
  /** `login_before_ready`; true when the attribute is absent. */
  loginBeforeReady: boolean;
  /** `startup_script_timeout` in seconds. */
  startupScriptTimeoutSeconds: number;
  /** The agent's `metadata` blocks, in template order. */
  metadata: Agent_Metadata[];
  /** Always set by the converter: the provider's defaults without a `display_apps` block. */
  displayApps?: DisplayApps | undefined;
  /** `coder_script`s attached to the agent, after its legacy startup/shutdown scripts. */
  scripts: Script[];
  /** `coder_env`s attached to the agent, by address. */
  extraEnvs: Env[];
  /** Position among the resource's agents (lower first). */
  order: number;
  /** Always set by the converter (empty without a `resources_monitoring` block). */
  resourcesMonitoring?: ResourcesMonitoring | undefined;
  /** `coder_devcontainer`s attached to the agent. */
  devcontainers: Devcontainer[];
  /** Scope of the agent's API key ("all" or "no_user_data"). */
  apiKeyScope: string;
}

export const Agent = {
  create(fields: Partial<Agent> = {}): Agent {
    return withDefaults(
      {
        id: "",
        name: "",
        env: {},
        startupScript: "",
        operatingSystem: "",
        architecture: "",
        directory: "",
        apps: [],
        auth: undefined,
        connectionTimeoutSeconds: 0,
        troubleshootingUrl: "",
        motdFile: "",
        loginBeforeReady: false,
        startupScriptTimeoutSeconds: 0,
        metadata: [],
        displayApps: undefined,
        scripts: [],
        extraEnvs: [],
        order: 0,
        resourcesMonitoring: undefined,
        devcontainers: [],
        apiKeyScope: "",
      },
      fields,
    );
  },
};

/** A Terraform resource as the workspace shows it. */
export interface Resource {
  /** Terraform resource name (no module prefix, no index). */
  name: string;
  /** Terraform resource type. */
  type: string;
  /** Agents attached to this resource, sorted by name. */
  agents: Agent[];
  /** Items of the attached `coder_metadata`. */
  metadata: Resource_Metadata[];
  /** `coder_metadata.hide`. */
  hide: boolean;
  /** `coder_metadata.icon`. */
  icon: string;
  /** Machine size for well-known VM resource types. */
  instanceType: string;
  /** `coder_metadata.daily_cost`: quota credits per day. */
  dailyCost: number;
  /** `module.a.module.b` path of the resource's module; "" for the root module. */
  modulePath: string;
}

export const Resource = {
  create(fields: Partial<Resource> = {}): Resource {
    return withDefaults(
      {
        name: "",
        type: "",
        agents: [],
        metadata: [],
        hide: false,
        icon: "",
        instanceType: "",
        dailyCost: 0,
        modulePath: "",
      },
      fields,
    );
  },
};

/** One item of a `coder_metadata` attached to the resource. */
export interface Resource_Metadata {
  /** Item key. */
  key: string;
  /** Item value. */
  value: string;
  /** Hide the value in the UI. */
  sensitive: boolean;
  /** The value was null (coderd skips such items). */
  isNull: boolean;
}

export const Resource_Metadata = {
  create(fields: Partial<Resource_Metadata> = {}): Resource_Metadata {
    return withDefaults({ key: "", value: "", sensitive: false, isNull: false }, fields);
  },
};
