// The provisioner end to end with real terraform and the test coder provider (installed offline
// from its filesystem mirror through our own CLI config): transitions with state, values into
// terraform, and conversion of what terraform 1.11 really prints.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppSharingLevel,
  ParameterDestination_Scheme,
  WorkspaceTransition,
} from "../../src/provisioner/model.js";
import { ProvisionError, type ProvisionSession } from "../../src/provisioner/provisioner.js";
import { convertResources, parsePlanJson, planModules } from "../../src/terraform/index.js";
import { getOfflineTerraform, templatePath } from "../helpers/offline-terraform.js";
import {
  applyRequest,
  LogCollector,
  planRequest,
  type Scratch,
  scratchProvisioner,
  templateArchive,
} from "./helpers/provisioner.js";

const { START, STOP, DESTROY } = WorkspaceTransition;
const noState = new Uint8Array();
const never = new AbortController().signal;

let scratch: Scratch;
let providerVersion: string;
beforeAll(async () => {
  const tf = await getOfflineTerraform();
  providerVersion = tf.version;
  scratch = scratchProvisioner({ providerMirror: tf.mirrorDir });
});
afterAll(() => scratch.cleanup());

const header = () => `terraform {
  required_providers {
    coder = {
      source  = "coder/coder"
      version = "${providerVersion}"
    }
  }
}
`;

async function open(files: Record<string, string>, slot = 0): Promise<ProvisionSession> {
  return scratch.provisioner.open({
    archive: templateArchive(files),
    jobId: "e2e",
    slot,
    signal: never,
  });
}

function fixture(name: string): Record<string, string> {
  const dir = templatePath(name);
  const files: Record<string, string> = {};
  for (const file of readdirSync(dir)) files[file] = readFileSync(join(dir, file), "utf8");
  return files;
}

const state = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe("the minimal template through start, stop and delete", () => {
  it("passes state between transitions and converts each result", async () => {
    const session = await open(fixture("minimal"));
    try {
      // start
      const startLogs = new LogCollector();
      const startPlan = await session.plan(planRequest(START, noState, startLogs));
      expect(startPlan.resources).toHaveLength(1);
      const [dev] = startPlan.resources;
      expect(dev).toMatchObject({ type: "terraform_data", name: "dev" });
      expect(dev?.agents).toHaveLength(1);
      expect(dev?.agents[0]).toMatchObject({
        name: "main",
        operatingSystem: "linux",
        directory: "/home/coder",
        env: { WORKSPACE_OWNER: "alice" },
        startupScript: "echo started",
        loginBeforeReady: true,
        connectionTimeoutSeconds: 120,
        // Unknown until apply.
        id: "",
        auth: { $case: "token", value: "" },
      });
      const started = await session.apply(
        applyRequest(START, noState, startPlan.plan, new LogCollector()),
      );
      const agent = started.resources[0]?.agents[0];
      expect(agent?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(agent?.auth?.$case).toBe("token");
      expect(agent?.auth?.value).toMatch(/^[0-9a-f-]{36}$/);
      // The provider built the init script from our bootstrap script.
      const agentState = state(started.state).resources.find(
        (r: { type: string }) => r.type === "coder_agent",
      );
      const initScript: string = agentState.instances[0].attributes.init_script;
      expect(initScript).toContain("https://coder.example.com/bin/coder-linux-amd64");
      expect(initScript).toContain('export CODER_AGENT_AUTH="token"');

      // stop: the stand-in machine goes away (count = 0); the plan does not list it (prior-state fix).
      const stopPlan = await session.plan(planRequest(STOP, started.state, new LogCollector()));
      expect(stopPlan.resources).toEqual([]);
      const stopped = await session.apply(
        applyRequest(STOP, started.state, stopPlan.plan, new LogCollector()),
      );
      expect(stopped.resources).toEqual([]);
      const stoppedTypes = state(stopped.state).resources.map((r: { type: string }) => r.type);
      expect(stoppedTypes).toContain("coder_agent");
      expect(stoppedTypes).not.toContain("terraform_data");

      // delete
      const deleteLogs = new LogCollector();
      const deletePlan = await session.plan(planRequest(DESTROY, stopped.state, deleteLogs));
      expect(deleteLogs.text()).toContain("coder_agent.main: Plan to delete");
      const deleted = await session.apply(
        applyRequest(DESTROY, stopped.state, deletePlan.plan, new LogCollector()),
      );
      expect(deleted.resources).toEqual([]);
      expect(
        state(deleted.state).resources.filter((r: { mode: string }) => r.mode === "managed"),
      ).toEqual([]);
    } finally {
      await session.close();
    }
  });
});

describe("values reach terraform and come back converted", () => {
  it("apps, metadata, rich parameters, legacy parameters, managed variables and git auth", async () => {
    const session = await open({
      "main.tf": `${header()}
variable "size" {
  type = string
}
variable "region" {
  type    = string
  default = "unset"
}
variable "api_key" {
  type    = string
  default = ""
}
data "coder_workspace" "me" {}
data "coder_git_auth" "github" {
  id = "github"
}
data "coder_parameter" "color" {
  name    = "Color"
  type    = "string"
  default = "blue"
  mutable = true
  option {
    name  = "Blue"
    value = "blue"
  }
  option {
    name  = "Red"
    value = "red"
  }
}
data "coder_parameter" "cpus" {
  name    = "cpus"
  type    = "number"
  default = "2"
  validation {
    min = 1
    max = 8
  }
}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "arm64"
  auth = "token"
  env = {
    COLOR     = data.coder_parameter.color.value
    GIT_TOKEN = data.coder_git_auth.github.access_token
  }
}
resource "coder_app" "code" {
  agent_id     = coder_agent.main.id
  slug         = "code"
  display_name = "VS Code"
  url          = "http://localhost:13337"
  share        = "authenticated"
  subdomain    = true
  healthcheck {
    url       = "http://localhost:13337/healthz"
    interval  = 5
    threshold = 6
  }
}
resource "coder_app" "term" {
  agent_id = coder_agent.main.id
  slug     = "term"
  command  = "bash"
}
resource "terraform_data" "vm" {
  input = {
    token  = coder_agent.main.token
    size   = var.size
    region = var.region
  }
}
resource "coder_metadata" "vm" {
  resource_id = terraform_data.vm.id
  daily_cost  = 12
  icon        = "/icon/vm.svg"
  item {
    key   = "size"
    value = var.size
  }
  item {
    key   = "region"
    value = var.region
  }
  item {
    key       = "key"
    value     = var.api_key
    sensitive = true
  }
}
`,
    });
    try {
      const logs = new LogCollector();
      const plan = await session.plan(
        planRequest(START, noState, logs, {
          parameterValues: [
            {
              destinationScheme: ParameterDestination_Scheme.ENVIRONMENT_VARIABLE,
              name: "TF_VAR_region",
              value: "eu-west",
              sensitive: false,
            },
          ],
          variableValues: [
            { name: "size", value: "large", sensitive: false },
            { name: "api_key", value: "sk-live-0123456789", sensitive: true },
          ],
          richParameterValues: [{ name: "Color", value: "red" }],
          gitAuthProviders: [{ id: "github", accessToken: "gho_secret_token_1234" }],
        }),
      );
      expect(plan.gitAuthProviders).toEqual(["github"]);
      expect(plan.parameters.map((p) => p.name)).toEqual(["Color", "cpus"]);
      expect(plan.parameters[0]).toMatchObject({
        type: "string",
        defaultValue: "blue",
        mutable: true,
      });
      expect(plan.parameters[0]?.options.map((o) => o.value)).toEqual(["blue", "red"]);
      expect(plan.parameters[1]).toMatchObject({
        validationMin: 1,
        validationMax: 8,
        validationMinSet: true,
        validationMaxSet: true,
      });
      const [vm] = plan.resources;
      expect(vm).toMatchObject({
        type: "terraform_data",
        name: "vm",
        dailyCost: 12,
        icon: "/icon/vm.svg",
      });
      expect(vm?.metadata).toEqual([
        { key: "size", value: "large", sensitive: false, isNull: false },
        { key: "region", value: "eu-west", sensitive: false, isNull: false },
        { key: "key", value: "sk-live-0123456789", sensitive: true, isNull: false },
      ]);
      const agent = vm?.agents[0];
      expect(agent?.env).toEqual({ COLOR: "red", GIT_TOKEN: "gho_secret_token_1234" });
      expect(agent?.apps.map((a) => [a.slug, a.displayName, a.sharingLevel, a.subdomain])).toEqual([
        ["code", "VS Code", AppSharingLevel.AUTHENTICATED, true],
        ["term", "term", AppSharingLevel.OWNER, false],
      ]);
      expect(agent?.apps[0]?.healthcheck).toEqual({
        url: "http://localhost:13337/healthz",
        interval: 5,
        threshold: 6,
      });
      // Secrets never reach the logs.
      expect(logs.text()).not.toContain("gho_secret_token_1234");
      expect(logs.text()).not.toContain("sk-live-0123456789");

      const applied = await session.apply(
        applyRequest(START, noState, plan.plan, new LogCollector()),
      );
      const [appliedVm] = applied.resources;
      expect(appliedVm?.agents[0]?.apps.map((a) => a.slug)).toEqual(["code", "term"]);
      expect(appliedVm?.metadata.map((m) => m.value)).toEqual([
        "large",
        "eu-west",
        "sk-live-0123456789",
      ]);
    } finally {
      await session.close();
    }
  });

  it("instance identity: coder_agent_instance sets the agent's instance id after apply", async () => {
    const session = await open({
      "main.tf": `${header()}
resource "coder_agent" "main" {
  os   = "linux"
  arch = "amd64"
  auth = "google-instance-identity"
}
resource "terraform_data" "vm" {
  input = coder_agent.main.init_script
}
resource "coder_agent_instance" "main" {
  agent_id    = coder_agent.main.id
  instance_id = "gce-instance-42"
}
`,
    });
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      expect(plan.resources[0]?.agents[0]?.auth).toEqual({ $case: "instanceId", value: "" });
      const applied = await session.apply(
        applyRequest(START, noState, plan.plan, new LogCollector()),
      );
      expect(applied.resources.map((r) => r.name)).toEqual(["vm"]);
      expect(applied.resources[0]?.agents[0]?.auth).toEqual({
        $case: "instanceId",
        value: "gce-instance-42",
      });
    } finally {
      await session.close();
    }
  });

  it("conversion errors keep the reference's texts (duplicate agent names across modules)", async () => {
    const agentBlock = `resource "coder_agent" "dev" {
  os   = "linux"
  arch = "amd64"
}
resource "terraform_data" "vm" {
  input = coder_agent.dev.token
}
`;
    const session = await open({
      "main.tf": `${header()}${agentBlock}module "other" {
  source = "./other"
}
`,
      "other/main.tf": `${header()}${agentBlock}`,
    });
    try {
      const error = await session.plan(planRequest(START, noState, new LogCollector())).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProvisionError);
      expect((error as ProvisionError).code).toBe("CONVERSION");
      expect((error as ProvisionError).message).toBe("plan terraform: duplicate agent name: dev");
    } finally {
      await session.close();
    }
  });

  it("parse reads the template's variables (managed variables)", async () => {
    const session = await open({
      "main.tf": `${header()}
provider "coder" {
  feature_use_managed_variables = true
}
variable "size" {
  description = "Machine size"
  type        = string
  default     = "small"
}
variable "token" {
  type      = string
  sensitive = true
}
`,
    });
    try {
      const result = await session.parse({ signal: never, onLog: () => {} });
      expect(result.parameterSchemas).toEqual([]);
      expect(result.templateVariables).toEqual([
        {
          name: "size",
          description: "Machine size",
          type: "string",
          defaultValue: "small",
          required: false,
          sensitive: false,
        },
        {
          name: "token",
          description: "",
          type: "string",
          defaultValue: "",
          required: true,
          sensitive: true,
        },
      ]);
    } finally {
      await session.close();
    }
  });

  it("a syntax error in the template is a PARSE error", async () => {
    const session = await open({ "main.tf": "a;sd;ajsd;lajsd;lasjdf;a\n" });
    try {
      const error = await session.parse({ signal: never, onLog: () => {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ProvisionError);
      expect((error as ProvisionError).code).toBe("PARSE");
      expect((error as ProvisionError).message).toMatch(/^parse: .*main\.tf/);
    } finally {
      await session.close();
    }
  });
});

describe("conversion of graphs terraform 1.11 prints", () => {
  const multiAgent = () => `${header()}
resource "coder_agent" "one" {
  os   = "linux"
  arch = "amd64"
}
resource "coder_agent" "two" {
  os   = "darwin"
  arch = "arm64"
}
resource "coder_agent" "three" {
  os   = "windows"
  arch = "amd64"
}
resource "coder_app" "code" {
  agent_id = coder_agent.one.id
  slug     = "code"
}
resource "coder_app" "term" {
  agent_id = coder_agent.two.id
  slug     = "term"
}
resource "terraform_data" "big" {
  input = [coder_agent.one.token, coder_agent.two.token]
}
module "small" {
  source = "./small"
  count  = 1
  script = coder_agent.three.init_script
}
`;
  const small = `variable "script" {
  type = string
}
resource "terraform_data" "box" {
  input = var.script
}
`;

  it("agents through a counted module, apps on the right agent in a first plan, both graph forms agree", async () => {
    const session = await open({ "main.tf": multiAgent(), "small/main.tf": small });
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      const summary = (resources: typeof plan.resources) =>
        resources.map((r) => ({
          resource: `${r.type}.${r.name}`,
          agents: r.agents.map(
            (a) => `${a.name}:${a.operatingSystem}:${a.apps.map((app) => app.slug).join(",")}`,
          ),
        }));
      expect(summary(plan.resources)).toEqual([
        { resource: "terraform_data.big", agents: ["one:linux:code", "two:darwin:term"] },
        { resource: "terraform_data.box", agents: ["three:windows:"] },
      ]);

      // Run terraform ourselves in the work dir: the plan JSON with both graph forms.
      const env = {
        PATH: process.env.PATH ?? "",
        TF_CLI_CONFIG_FILE: join(scratch.cacheDir, "terraform-cli-config.tfrc"),
        CHECKPOINT_DISABLE: "1",
        TF_IN_AUTOMATION: "1",
      };
      const run = (args: string[]) =>
        execa("terraform", args, { cwd: session.directory, env, extendEnv: false }).then(
          (r) => r.stdout,
        );
      const planJson = parsePlanJson(await run(["show", "-json", "terraform.tfplan"]));
      const detailed = await run(["graph", "-type=plan"]);
      const simplified = await run(["graph"]);
      expect(detailed).toContain('"[root] module.small.terraform_data.box (expand)"');
      expect(simplified).not.toContain("[root]");
      const fromDetailed = convertResources(planModules(planJson), detailed);
      const fromSimplified = convertResources(planModules(planJson), simplified);
      expect(fromDetailed.resources).toEqual(plan.resources);
      expect(summary(fromSimplified.resources)).toEqual(summary(plan.resources));

      const applied = await session.apply(
        applyRequest(START, noState, plan.plan, new LogCollector()),
      );
      expect(summary(applied.resources)).toEqual(summary(plan.resources));
      const ids = applied.resources.flatMap((r) => r.agents.map((a) => a.id));
      expect(new Set(ids).size).toBe(3);
    } finally {
      await session.close();
    }
  });

  it("sessions in different slots use different plugin caches", async () => {
    const a = await open(
      {
        "main.tf": `${header()}resource "coder_agent" "x" {\n  os = "linux"\n  arch = "amd64"\n}\n`,
      },
      1,
    );
    try {
      await a.plan(planRequest(START, noState, new LogCollector()));
      expect(readdirSync(join(scratch.cacheDir, "plugins"))).toContain("slot-1");
      expect(readdirSync(join(scratch.cacheDir, "plugins", "slot-1")).length).toBeGreaterThan(0);
    } finally {
      await a.close();
    }
  });
});
