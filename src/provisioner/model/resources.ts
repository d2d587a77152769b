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
      },
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
