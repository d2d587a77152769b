// The build metadata becomes the CODER_* environment the coder terraform provider reads (names
// and formats as the provider decodes them), and the credentials in it never reach a log line.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toTerraformInputs } from "../../src/parameters/terraform-inputs.js";
import { PrebuiltWorkspaceBuildStage, WorkspaceTransition } from "../../src/provisioner/model.js";
import { metadataEnvironment, provisionEnvironment } from "../../src/terraform/environment.js";
import { REDACTED } from "../../src/terraform/redact.js";
import {
  applyRequest,
  LogCollector,
  metadata,
  openTemplate,
  planRequest,
  type Scratch,
  scratchProvisioner,
} from "./helpers/provisioner.js";

const { START } = WorkspaceTransition;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

const privateKey = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACBvJ6dXgnlPrT1Fv0WjVn3yM7sZC9kXlqg8PfXqF0bUlwAAAJgAAAAA",
  "-----END OPENSSH PRIVATE KEY-----",
].join("\n");

const full = metadata(START, {
  workspaceOwnerName: "Alice Liddell",
  workspaceOwnerOidcAccessToken: "oidc-access-token-0123456789",
  workspaceOwnerSessionToken: "session-token-abcdefghij",
  workspaceOwnerSshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8n alice",
  workspaceOwnerSshPrivateKey: privateKey,
  workspaceOwnerGroups: ["Everyone", "devs"],
  workspaceOwnerRbacRoles: [
    { name: "owner", orgId: "" },
    { name: "organization-member", orgId: "0f0e0d0c-0000-4000-8000-000000000003" },
  ],
  workspaceOwnerLoginType: "oidc",
  templateId: "7e1c0000-0000-4000-8000-000000000004",
  templateName: "docker",
  templateVersion: "brave_pike",
  templateVersionId: "7e1c0000-0000-4000-8000-000000000005",
  workspaceBuildId: "b0b00000-0000-4000-8000-000000000006",
  taskId: "7a5c0000-0000-4000-8000-000000000007",
  taskPrompt: "fix the flaky test",
  prebuiltWorkspaceBuildStage: PrebuiltWorkspaceBuildStage.CLAIM,
  runningAgentAuthTokens: [{ agentId: "agent-1", token: "agent-token-1234567890" }],
});

describe("metadata environment", () => {
  it("sets every variable the coder provider reads, in its format", () => {
    const env = metadataEnvironment(full);
    expect(env).toEqual({
      CODER_AGENT_URL: "https://coder.example.com/",
      CODER_WORKSPACE_TRANSITION: "start",
      CODER_WORKSPACE_NAME: "dev",
      CODER_WORKSPACE_OWNER: "alice",
      CODER_WORKSPACE_OWNER_EMAIL: "alice@example.com",
      CODER_WORKSPACE_OWNER_NAME: "Alice Liddell",
      CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN: "oidc-access-token-0123456789",
      CODER_WORKSPACE_OWNER_GROUPS: '["Everyone","devs"]',
      CODER_WORKSPACE_OWNER_SSH_PUBLIC_KEY: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8n alice",
      CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY: privateKey,
      CODER_WORKSPACE_OWNER_LOGIN_TYPE: "oidc",
      CODER_WORKSPACE_OWNER_RBAC_ROLES:
        '[{"name":"owner"},{"name":"organization-member","org_id":"0f0e0d0c-0000-4000-8000-000000000003"}]',
      CODER_WORKSPACE_ID: "3b1a7c8e-0000-4000-8000-000000000001",
      CODER_WORKSPACE_OWNER_ID: "3b1a7c8e-0000-4000-8000-000000000002",
      CODER_WORKSPACE_OWNER_SESSION_TOKEN: "session-token-abcdefghij",
      CODER_WORKSPACE_TEMPLATE_ID: "7e1c0000-0000-4000-8000-000000000004",
      CODER_WORKSPACE_TEMPLATE_NAME: "docker",
      CODER_WORKSPACE_TEMPLATE_VERSION: "brave_pike",
      CODER_WORKSPACE_BUILD_ID: "b0b00000-0000-4000-8000-000000000006",
      CODER_TASK_ID: "7a5c0000-0000-4000-8000-000000000007",
      CODER_TASK_PROMPT: "fix the flaky test",
      CODER_WORKSPACE_IS_PREBUILD_CLAIM: "true",
      // One token: filed under the hash of the empty agent id, the one the provider looks up.
      [`CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${sha256("")}`]: "agent-token-1234567890",
    });
  });

  it("empty lists are JSON null; a prebuild sets its own flag; several tokens go by agent id", () => {
    const env = metadataEnvironment(
      metadata(START, {
        prebuiltWorkspaceBuildStage: PrebuiltWorkspaceBuildStage.CREATE,
        runningAgentAuthTokens: [
          { agentId: "a", token: "token-of-agent-a" },
          { agentId: "b", token: "token-of-agent-b" },
        ],
      }),
    );
    expect(env.CODER_WORKSPACE_OWNER_GROUPS).toBe("null");
    expect(env.CODER_WORKSPACE_OWNER_RBAC_ROLES).toBe("null");
    expect(env.CODER_WORKSPACE_IS_PREBUILD).toBe("true");
    expect(env.CODER_WORKSPACE_IS_PREBUILD_CLAIM).toBeUndefined();
    expect(env[`CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${sha256("a")}`]).toBe("token-of-agent-a");
    expect(env[`CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${sha256("b")}`]).toBe("token-of-agent-b");
    const plain = metadataEnvironment(metadata(START));
    expect(plain.CODER_WORKSPACE_IS_PREBUILD).toBeUndefined();
    expect(Object.keys(plain).some((k) => k.startsWith("CODER_RUNNING_"))).toBe(false);
  });

  it("hands the previous build's parameter values under the provider's PREVIOUS names", () => {
    const inputs = toTerraformInputs({
      richParameterValues: [{ name: "Disk size", value: "20" }],
      previousRichParameterValues: [{ name: "Disk size", value: "10" }],
    });
    expect(inputs.env).toEqual({
      [`CODER_PARAMETER_${sha256("Disk size")}`]: "20",
      [`CODER_PARAMETER_PREVIOUS_${sha256("Disk size")}`]: "10",
    });
  });

  it("hands external auth tokens under both names providers read", () => {
    const env = provisionEnvironment(
      {},
      {},
      {
        metadata: metadata(START),
        parameterEnv: {},
        gitAuthProviders: [{ id: "github", accessToken: "gho_token" }],
      },
    );
    expect(env.CODER_GIT_AUTH_ACCESS_TOKEN_github).toBe("gho_token");
    expect(env.CODER_EXTERNAL_AUTH_ACCESS_TOKEN_github).toBe("gho_token");
  });
});

describe("metadata with real terraform", () => {
  let scratch: Scratch;
  beforeAll(() => {
    scratch = scratchProvisioner();
  });
  afterAll(() => scratch.cleanup());

  // Prints what terraform's child processes see, the credentials included, as a template
  // author's `local-exec` might.
  const template = {
    "main.tf": `
resource "terraform_data" "show" {
  provisioner "local-exec" {
    command = <<-EOT
      echo "groups=$CODER_WORKSPACE_OWNER_GROUPS"
      echo "build=$CODER_WORKSPACE_BUILD_ID claim=$CODER_WORKSPACE_IS_PREBUILD_CLAIM"
      echo "oidc=$CODER_WORKSPACE_OWNER_OIDC_ACCESS_TOKEN"
      echo "session=$CODER_WORKSPACE_OWNER_SESSION_TOKEN"
      echo "agent=$CODER_RUNNING_WORKSPACE_AGENT_TOKEN_${sha256("")}"
      printf '%s\\n' "$CODER_WORKSPACE_OWNER_SSH_PRIVATE_KEY"
    EOT
  }
}
`,
  };

  it("terraform gets the values; the credentials among them are masked in every log line", async () => {
    const session = await openTemplate(scratch, template, "job-meta");
    try {
      const planLogs = new LogCollector();
      const plan = await session.plan(
        planRequest(START, new Uint8Array(), planLogs, {
          config: { metadata: full, state: new Uint8Array() },
        }),
      );
      const applyLogs = new LogCollector();
      await session.apply(
        applyRequest(START, new Uint8Array(), plan.plan, applyLogs, {
          config: { metadata: full, state: new Uint8Array() },
        }),
      );
      const text = `${planLogs.text()}${applyLogs.text()}`;
      expect(text).toContain('groups=["Everyone","devs"]');
      expect(text).toContain("build=b0b00000-0000-4000-8000-000000000006 claim=true");
      expect(text).toContain(`oidc=${REDACTED}`);
      expect(text).toContain(`session=${REDACTED}`);
      expect(text).toContain(`agent=${REDACTED}`);
      for (const secret of [
        "oidc-access-token-0123456789",
        "session-token-abcdefghij",
        "agent-token-1234567890",
        ...privateKey.split("\n").slice(1, 3),
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await session.close();
    }
  });
});
