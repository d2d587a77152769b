// The pool manifests and the Dockerfile are checked for the fields that make a pool behave:
// drain time, secret handling, probes on the right port, non-root, and settings the CLI accepts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { addOptions, collectRawOptions } from "../../src/cli/option-spec.js";
import { parseStartConfig, startOptionSpecs } from "../../src/cli/start-config.js";

const root = path.resolve(import.meta.dirname, "../..");
const k8sDir = path.join(root, "deploy/kubernetes");

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is untyped; the assertions check the shape
type Doc = Record<string, any>;

function loadYaml(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  for (const doc of docs) expect(doc.errors, `${file} parses`).toEqual([]);
  return docs.map((doc) => doc.toJS() as Doc);
}

function loadPool(): Doc[] {
  const [kustomization] = loadYaml(path.join(k8sDir, "kustomization.yaml"));
  expect(kustomization?.kind).toBe("Kustomization");
  return ((kustomization?.resources ?? []) as string[]).flatMap((file) =>
    loadYaml(path.join(k8sDir, file)),
  );
}

function only(docs: Doc[], kind: string): Doc {
  const found = docs.filter((doc) => doc.kind === kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return found[0] as Doc;
}

describe("Kubernetes pool manifests", () => {
  const docs = loadPool();
  const deployment = only(docs, "Deployment");
  const pod = deployment.spec.template.spec;
  const container = pod.containers.find((c: Doc) => c.name === "provisionerd");
  const env = new Map<string, Doc>(container.env.map((e: Doc) => [e.name, e]));

  it("gives builds time to finish on SIGTERM before Kubernetes kills the pod", () => {
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(600);
    expect(container.args).toEqual(["start"]);
    // A preStop hook or a custom command would change what SIGTERM means.
    expect(container.lifecycle).toBeUndefined();
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it("takes the PSK from a Secret and never inline", () => {
    const psk = env.get("CODER_PROVISIONER_DAEMON_PSK");
    expect(psk?.value).toBeUndefined();
    expect(psk?.valueFrom?.secretKeyRef).toEqual({ name: "provisionerd-psk", key: "psk" });
    expect(container.args.join(" ")).not.toContain("--psk");
  });

  it("is a tagged pool", () => {
    const tags = String(env.get("CODER_PROVISIONERD_TAGS")?.value ?? "");
    expect(tags.split(",").length).toBeGreaterThan(0);
    for (const tag of tags.split(",")) expect(tag).toMatch(/^[^=]+=.*$/);
  });

  it("probes /readyz and /healthz on the port the metrics server listens on", () => {
    const address = String(env.get("CODER_PROVISIONERD_METRICS_ADDRESS")?.value);
    const port = Number(address.split(":").pop());
    const metricsPort = container.ports.find((p: Doc) => p.name === "metrics");
    expect(metricsPort.containerPort).toBe(port);
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
  });

  it("runs as non-root with a read-only root file system and writable work, cache and tmp", () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.securityContext.allowPrivilegeEscalation).toBe(false);
    const mounts = new Map<string, string>(
      container.volumeMounts.map((m: Doc) => [m.mountPath, m.name]),
    );
    const volumes = new Set(pod.volumes.map((v: Doc) => v.name));
    for (const dir of [
      env.get("CODER_PROVISIONERD_WORK_DIR")?.value,
      env.get("CODER_CACHE_DIRECTORY")?.value,
      "/tmp",
    ]) {
      expect(mounts.has(dir), `${dir} is mounted`).toBe(true);
      expect(volumes.has(mounts.get(dir))).toBe(true);
    }
  });

  it("sets only environment variables the CLI knows, with values it accepts", () => {
    const specs = startOptionSpecs({});
    const known = new Set(specs.map((spec) => spec.env));
    for (const name of env.keys()) expect(known, name).toContain(name);

    // Feed the manifest's literal values (and stand-ins for the referenced ones) to the parser.
    const processEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    for (const [name, entry] of env) {
      if (entry.value !== undefined) processEnv[name] = String(entry.value);
      else if (entry.valueFrom?.secretKeyRef) processEnv[name] = "secret-from-kubernetes";
      else if (entry.valueFrom?.fieldRef) processEnv[name] = "provisionerd-pool-abc12";
    }
    const command = new Command("start").exitOverride();
    const withEnv = startOptionSpecs(processEnv);
    const saved = { ...process.env };
    try {
      // Commander reads option env vars from process.env.
      Object.assign(process.env, processEnv);
      addOptions(command, withEnv);
      command.parse([], { from: "user" });
      const config = parseStartConfig(collectRawOptions(command, withEnv), withEnv, processEnv);
      expect(config.tags).toEqual({ pool: "default", region: "eu" });
      expect(config.metricsAddress).toEqual({ host: "0.0.0.0", port: 2112 });
      expect(config.psk).toBe("secret-from-kubernetes");
    } finally {
      for (const name of Object.keys(processEnv)) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it("selects the same pods everywhere", () => {
    const labels = deployment.spec.template.metadata.labels;
    const matches = (selector: Doc) =>
      Object.entries(selector).every(([key, value]) => labels[key] === value);
    expect(matches(deployment.spec.selector.matchLabels)).toBe(true);
    const service = only(docs, "Service");
    expect(matches(service.spec.selector)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe("metrics");
    expect(matches(only(docs, "PodDisruptionBudget").spec.selector.matchLabels)).toBe(true);
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8");
  const instructions = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: string[][] = [];
  for (const line of instructions) {
    if (/^FROM\s/i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const final = stages.at(-1) ?? [];

  it("takes terraform from a build-time image or context, never downloads it", () => {
    expect(
      instructions.some((line) => /^FROM \$\{TERRAFORM_IMAGE\} AS terraform$/.test(line)),
    ).toBe(true);
    expect(final).toContain("COPY --from=terraform /bin/terraform /usr/local/bin/terraform");
    expect(text).not.toMatch(/curl|wget|releases\.hashicorp\.com/);
  });

  it("runs provisionerd start as a non-root user", () => {
    const user = final.filter((line) => line.startsWith("USER ")).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/);
    expect(final.find((line) => line.startsWith("ENTRYPOINT"))).toContain('"provisionerd"');
    expect(final.find((line) => line.startsWith("CMD"))).toBe('CMD ["start"]');
  });

  it("sets only environment variables the CLI knows", () => {
    const known = new Set(startOptionSpecs({}).map((spec) => spec.env));
    const envLine = final.find((line) => line.startsWith("ENV ")) ?? "";
    const names = [...envLine.matchAll(/(\w+)=/g)].map((m) => m[1] as string);
    const ours = names.filter((name) => name.startsWith("CODER_"));
    expect(ours.length).toBeGreaterThan(0);
    for (const name of ours) expect(known, name).toContain(name);
  });
});
