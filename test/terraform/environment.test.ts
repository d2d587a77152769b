import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { LogLevel, Metadata, WorkspaceTransition } from "../../src/provisioner/model.js";
import {
  checkTerraform,
  findTerraform,
  graphArgs,
  TerraformBinaryError,
} from "../../src/terraform/binary.js";
import {
  agentBootstrapScript,
  agentScriptEnvironment,
} from "../../src/terraform/bootstrap-scripts.js";
import {
  cliConfigText,
  parseProviderMirror,
  unusedCliConfigFiles,
  unusedCliConfigNotice,
} from "../../src/terraform/cli-config.js";
import {
  controlledVariables,
  provisionEnvironment,
  sanitizedEnvironment,
  terraformVariableLogs,
} from "../../src/terraform/environment.js";
import { createTerraformProvisioner } from "../../src/terraform/provisioner.js";
import { templateArchive } from "./helpers/provisioner.js";

const scratch = mkdtempSync(join(tmpdir(), "env-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("environment", () => {
  it("drops every CODER_* variable of the daemon (PSK included)", () => {
    const env = sanitizedEnvironment({
      PATH: "/bin",
      CODER_PROVISIONER_DAEMON_PSK: "psk-secret",
      CODER_URL: "https://coder",
      NOT_CODER_X: "kept",
    });
    expect(env).toEqual({ PATH: "/bin", NOT_CODER_X: "kept" });
  });

  it("builds the plan/apply environment; controlled variables always win", () => {
    const controlled = controlledVariables({
      cliConfigFile: "/c/tf.rc",
      pluginCacheDir: "/c/p/slot-0",
    });
    const env = provisionEnvironment(
      { PATH: "/bin", TF_CLI_CONFIG_FILE: "/home/op/.rc" },
      controlled,
      {
        metadata: Metadata.create({
          coderUrl: "https://coder.example/",
          workspaceTransition: WorkspaceTransition.STOP,
          workspaceName: "ws",
          workspaceOwner: "alice",
          workspaceOwnerEmail: "a@example.com",
          workspaceId: "wid",
          workspaceOwnerId: "oid",
          templateName: "tpl",
          templateVersion: "v1",
        }),
        parameterEnv: { LEGACY: "x", TF_PLUGIN_CACHE_DIR: "/evil" },
        gitAuthProviders: [{ id: "github", accessToken: "gho_token" }],
      },
    );
    expect(env).toMatchObject({
      PATH: "/bin",
      CODER_AGENT_URL: "https://coder.example/",
      CODER_WORKSPACE_TRANSITION: "stop",
      CODER_WORKSPACE_NAME: "ws",
      CODER_WORKSPACE_OWNER: "alice",
      CODER_WORKSPACE_OWNER_EMAIL: "a@example.com",
      CODER_WORKSPACE_ID: "wid",
      CODER_WORKSPACE_OWNER_ID: "oid",
      CODER_WORKSPACE_TEMPLATE_NAME: "tpl",
      CODER_WORKSPACE_TEMPLATE_VERSION: "v1",
      CODER_GIT_AUTH_ACCESS_TOKEN_github: "gho_token",
      LEGACY: "x",
      TF_IN_AUTOMATION: "1",
      CHECKPOINT_DISABLE: "1",
      TF_CLI_CONFIG_FILE: "/c/tf.rc",
      TF_PLUGIN_CACHE_DIR: "/c/p/slot-0",
    });
    for (const platform of [
      "windows_amd64",
      "windows_arm64",
      "linux_amd64",
      "linux_arm64",
      "linux_armv7",
      "darwin_amd64",
      "darwin_arm64",
    ]) {
      expect(env[`CODER_AGENT_SCRIPT_${platform}`]).toBeTruthy();
    }
  });

  it("drops inherited TF_* variables that would move state or inject arguments", () => {
    const controlled = controlledVariables({ cliConfigFile: "/c", pluginCacheDir: "/p" });
    const inherited = {
      PATH: "/bin",
      TF_DATA_DIR: "/shared",
      TF_WORKSPACE: "other",
      TF_CLI_ARGS: "-lock=false",
      TF_CLI_ARGS_plan: "-state=/x",
      TF_LOG: "info",
    };
    const env = provisionEnvironment(inherited, controlled, {
      metadata: Metadata.create(),
      parameterEnv: {},
      gitAuthProviders: [],
    });
    for (const name of ["TF_DATA_DIR", "TF_WORKSPACE", "TF_CLI_ARGS", "TF_CLI_ARGS_plan"]) {
      expect(env[name]).toBeUndefined();
    }
    expect(env.TF_LOG).toBe("info");
    const logs = terraformVariableLogs(inherited, controlled).map((l) => l.output);
    expect(logs).toContain(
      "terraform environment variable: TF_WORKSPACE=other (ignored: it would move state or change arguments of provisioner jobs)",
    );
  });

  it("reports inherited TF_* variables with values redacted unless harmless", () => {
    const logs = terraformVariableLogs(
      {
        TF_LOG: "debug",
        TF_VAR_password: "hunter2",
        TF_TOKEN_app_terraform_io: "t",
        TF_CLI_CONFIG_FILE: "/x",
        PATH: "/bin",
      },
      controlledVariables({ cliConfigFile: "/c", pluginCacheDir: "/p" }),
    );
    expect(logs).toEqual([
      {
        level: LogLevel.WARN,
        output:
          "terraform environment variable: TF_CLI_CONFIG_FILE=/x (ignored: the provisioner sets its own value)",
      },
      { level: LogLevel.WARN, output: "terraform environment variable: TF_LOG=debug" },
      {
        level: LogLevel.WARN,
        output: "terraform environment variable: TF_TOKEN_app_terraform_io=[REDACTED]",
      },
      {
        level: LogLevel.WARN,
        output: "terraform environment variable: TF_VAR_password=[REDACTED]",
      },
    ]);
  });
});

describe("agent bootstrap scripts", () => {
  it("fills in the architecture and leaves the provider's placeholders", () => {
    const linux = agentBootstrapScript("linux", "arm64");
    expect(linux).toContain("bin/coder-linux-arm64");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the provider's placeholders
    expect(linux).toContain("${ACCESS_URL}");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the provider's placeholders
    expect(linux).toContain('CODER_AGENT_AUTH="${AUTH_TYPE}"');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder we fill
    expect(linux).not.toContain("${ARCH}");
    expect(linux).toMatch(/curl[\s\S]*wget[\s\S]*busybox/);
    expect(agentBootstrapScript("darwin", "amd64")).toContain("bin/coder-darwin-amd64");
    expect(agentBootstrapScript("windows", "amd64")).toContain("coder-windows-amd64.exe");
    expect(Object.keys(agentScriptEnvironment())).toHaveLength(7);
  });

  it("the POSIX script is valid sh", async () => {
    const file = join(scratch, "bootstrap.sh");
    writeFileSync(file, agentBootstrapScript("linux", "amd64"));
    const { execa } = await import("execa");
    const result = await execa("sh", ["-n", file], { reject: false });
    expect(result.exitCode).toBe(0);
  });
});

describe("CLI config", () => {
  it("writes a filesystem or network mirror as the only installation method", () => {
    expect(cliConfigText(undefined)).not.toContain("provider_installation");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template sequence to escape
    const fs = cliConfigText(parseProviderMirror('/srv/mirror/${odd}"dir'));
    expect(fs).toContain("filesystem_mirror {");
    expect(fs).toContain('path = "/srv/mirror/$${odd}\\"dir"');
    expect(fs).not.toContain("direct");
    const net = cliConfigText(parseProviderMirror("https://mirror.example/providers/"));
    expect(net).toContain('network_mirror {\n    url = "https://mirror.example/providers/"');
  });

  it("finds the operator's own CLI config files that jobs do not use", async () => {
    const home = join(scratch, "home");
    mkdirSync(join(home, ".terraform.d", "plugins"), { recursive: true });
    writeFileSync(join(home, ".terraformrc"), 'plugin_cache_dir = "/x"\n');
    writeFileSync(join(home, ".terraform.d", "credentials.tfrc.json"), "{}");
    writeFileSync(join(home, ".terraform.d", "mirror.tfrc"), "");
    writeFileSync(join(home, ".terraform.d", "notes.txt"), "");
    expect(await unusedCliConfigFiles({ HOME: home })).toEqual([
      join(home, ".terraformrc"),
      join(home, ".terraform.d", "credentials.tfrc.json"),
      join(home, ".terraform.d", "mirror.tfrc"),
    ]);
    // An inherited TF_CLI_CONFIG_FILE is the only file terraform would read.
    const explicit = join(scratch, "operator.tfrc");
    writeFileSync(explicit, "");
    expect(await unusedCliConfigFiles({ HOME: home, TF_CLI_CONFIG_FILE: explicit })).toEqual([
      explicit,
    ]);
    expect(await unusedCliConfigFiles({ HOME: join(scratch, "nobody") })).toEqual([]);
    expect(await unusedCliConfigFiles({})).toEqual([]);
  });

  it("the provisioner says once that the operator's CLI config is not used, and how to pass what it held", async () => {
    const home = join(scratch, "home-with-rc");
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, ".terraformrc"),
      'credentials "app.terraform.io" {\n  token = "x"\n}\n',
    );
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const root = join(scratch, "provisioner");
    const provisioner = createTerraformProvisioner({
      workDirRoot: join(root, "work"),
      cacheDir: join(root, "cache"),
      environment: { PATH: process.env.PATH ?? "", HOME: home },
      logger,
    });
    for (const jobId of ["job-a", "job-b"]) {
      const session = await provisioner.open({
        archive: templateArchive({ "main.tf": "" }),
        jobId,
        slot: 0,
        signal: new AbortController().signal,
      });
      await session.close();
    }
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40);
    expect(warnings.map((w) => w.msg)).toEqual([
      unusedCliConfigNotice([join(home, ".terraformrc")]),
    ]);
    expect(warnings[0].msg).toContain("TF_TOKEN_<host>");
  });
});

describe("terraform binary", () => {
  it("finds terraform on PATH and reads its version", async () => {
    const path = await findTerraform(undefined);
    const binary = await checkTerraform(path);
    expect(binary.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("refuses versions below 1.1.0 with a clear message", async () => {
    const fake = join(scratch, "terraform-old");
    writeFileSync(fake, '#!/bin/sh\necho \'{"terraform_version":"1.0.11"}\'\n');
    chmodSync(fake, 0o755);
    await expect(checkTerraform(fake)).rejects.toThrow(
      'terraform version "1.0.11" is too old. required >= "1.1.0"',
    );
  });

  it("refuses a binary that prints no version", async () => {
    const fake = join(scratch, "terraform-garbage");
    writeFileSync(fake, "#!/bin/sh\necho not json\n");
    chmodSync(fake, 0o755);
    await expect(checkTerraform(fake)).rejects.toBeInstanceOf(TerraformBinaryError);
  });

  it("reports a missing binary and never searches relative PATH entries", async () => {
    await expect(findTerraform(join(scratch, "nope"))).rejects.toThrow("does not exist");
    await expect(findTerraform(undefined, { PATH: `.:${scratch}` })).rejects.toThrow(
      "terraform was not found on PATH",
    );
  });

  it("asks for the detailed graph on terraform >= 1.7", () => {
    expect(graphArgs("1.11.4")).toEqual(["graph", "-type=plan"]);
    expect(graphArgs("1.7.0")).toEqual(["graph", "-type=plan"]);
    expect(graphArgs("1.3.4")).toEqual(["graph"]);
  });
});
