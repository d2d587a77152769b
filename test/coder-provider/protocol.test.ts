// The built provider spoken to directly, as Terraform's go-plugin client does.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type LaunchedProvider,
  type LaunchOptions,
  launchProvider,
  MAGIC_COOKIE,
} from "../fixtures/coder-provider/client.js";
import { createSelfSignedCertificate } from "../fixtures/coder-provider/src/cert.js";
import { GetProviderSchema_Response } from "../fixtures/coder-provider/src/gen/tfplugin5.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";

let executable: string;
const launched: LaunchedProvider[] = [];

beforeAll(async () => {
  executable = (await getOfflineTerraform()).providerExecutable;
});

afterEach(() => {
  for (const provider of launched.splice(0)) provider.kill();
});

async function launch(options?: LaunchOptions) {
  const provider = await launchProvider(executable, options);
  launched.push(provider);
  return provider;
}

async function runToExit(env: Record<string, string>) {
  const child = spawn(executable, [], { env: { PATH: process.env.PATH ?? "", ...env } });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

describe("go-plugin handshake", () => {
  it("refuses to run without Terraform's magic cookie", async () => {
    const result = await runToExit({});
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("This binary is a plugin");
  });

  it("refuses when protocol 5 is not offered", async () => {
    const result = await runToExit({ ...MAGIC_COOKIE, PLUGIN_PROTOCOL_VERSIONS: "6" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("only plugin protocol 5");
  });

  it("announces a TLS endpoint on 127.0.0.1 with a localhost CA certificate", async () => {
    const provider = await launch();
    const { handshake } = provider;
    expect(handshake).toMatchObject({
      coreVersion: 1,
      protocolVersion: 5,
      network: "tcp",
      protocol: "grpc",
    });
    expect(handshake.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(handshake.certificate.ca).toBe(true);
    expect(handshake.certificate.checkHost("localhost")).toBe("localhost");
    expect(handshake.certificate.keyUsage).toContain("1.3.6.1.5.5.7.3.1"); // serverAuth
    expect(handshake.certificate.verify(handshake.certificate.publicKey)).toBe(true);
  });

  it("serves the schema and exits when told to shut down", async () => {
    const provider = await launch();
    const reply = await provider.call("/tfplugin5.Provider/GetSchema", new Uint8Array(0));
    expect(reply.status).toBe(0);
    const schema = GetProviderSchema_Response.decode(reply.body);
    expect(Object.keys(schema.resourceSchemas).sort()).toEqual([
      "coder_agent",
      "coder_agent_instance",
      "coder_app",
      "coder_metadata",
    ]);
    expect(Object.keys(schema.dataSourceSchemas).sort()).toEqual([
      "coder_git_auth",
      "coder_parameter",
      "coder_provisioner",
      "coder_workspace",
    ]);
    const providerAttributes = schema.provider?.block?.attributes.map((a) => a.name);
    expect(providerAttributes).toEqual(["feature_use_managed_variables", "url"]);
    const token = schema.resourceSchemas.coder_agent?.block?.attributes.find(
      (a) => a.name === "token",
    );
    expect(token).toMatchObject({ computed: true, sensitive: true });
    expect(JSON.parse(Buffer.from(token?.type ?? []).toString())).toBe("string");

    expect(await provider.shutdown()).toEqual({ code: 0, signal: null });
  });

  it("answers unknown methods (go-plugin's stdio and broker streams) with UNIMPLEMENTED", async () => {
    const provider = await launch();
    const reply = await provider.call("/plugin.GRPCStdio/StreamStdio", new Uint8Array(0));
    expect(reply.status).toBe(12);
    expect(reply.message).toContain("/plugin.GRPCStdio/StreamStdio");
  });

  it("rejects a client certificate other than the announced one", async () => {
    const provider = await launch({ presentCert: createSelfSignedCertificate() });
    // With TLS 1.3 the refusal can surface as a failed stream or as a reset connection.
    const outcome = await provider.call("/tfplugin5.Provider/GetSchema", new Uint8Array(0)).then(
      (reply) => reply.status,
      () => "connection refused",
    );
    expect(outcome).not.toBe(0);
  });
});

describe("the 2.15.0 package of the mirror", () => {
  it("serves the 2.x schema: its types, schema versions and `url` as the only provider argument", async () => {
    const provider = await launchProvider((await getOfflineTerraform()).v2ProviderExecutable);
    launched.push(provider);
    const reply = await provider.call("/tfplugin5.Provider/GetSchema", new Uint8Array(0));
    expect(reply.status).toBe(0);
    const schema = GetProviderSchema_Response.decode(reply.body);
    const versions = (schemas: typeof schema.resourceSchemas) =>
      Object.fromEntries(
        Object.entries(schemas)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, s]) => [name, s.version]),
      );
    expect(versions(schema.resourceSchemas)).toEqual({
      coder_agent: 1,
      coder_agent_instance: 0,
      coder_ai_task: 1,
      coder_app: 1,
      coder_devcontainer: 1,
      coder_env: 1,
      coder_external_agent: 1,
      coder_metadata: 1,
      coder_script: 1,
    });
    expect(versions(schema.dataSourceSchemas)).toEqual({
      coder_external_auth: 1,
      coder_parameter: 1,
      coder_provisioner: 1,
      coder_task: 0,
      coder_workspace: 1,
      coder_workspace_owner: 0,
      coder_workspace_preset: 1,
      coder_workspace_tags: 1,
    });
    expect(schema.provider?.block?.attributes.map((a) => a.name)).toEqual(["url"]);
    const blocks = schema.resourceSchemas.coder_agent?.block?.blockTypes.map((b) => b.typeName);
    expect(blocks).toEqual(["display_apps", "metadata", "resources_monitoring"]);
  });
});
