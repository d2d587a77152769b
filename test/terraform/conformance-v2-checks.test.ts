// The checks Coder's converter tests make beside its table, on the v2 recorded cases changed in
// memory (slug and agent-name validation, duplicates, parameter uniqueness texts) or on small
// synthetic inputs (invalid addresses, instance types and ids of cloud VMs).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { convertResources } from "../../src/terraform/convert/resources.js";
import {
  type PlanJson,
  parsePlanJson,
  type StateModule,
  type StateResource,
} from "../../src/terraform/terraform-json.js";
import { sharedData } from "../helpers/shared-data.js";

const shared = sharedData("conformance-v2/terraform");

const read = (name: string, file: string) => readFileSync(join(shared.path, name, file), "utf8");
const plan = (name: string): PlanJson => parsePlanJson(read(name, "plan.json"));

function plannedRoot(p: PlanJson): StateModule {
  const root = p.planned_values?.root_module;
  if (root === undefined) throw new Error("plan without planned values");
  return root;
}

function resourcesOf(module: StateModule, type: string): StateResource[] {
  const found: StateResource[] = [];
  const walk = (m: StateModule) => {
    for (const child of m.child_modules ?? []) walk(child);
    for (const r of m.resources ?? []) if (r.type === type) found.push(r);
  };
  walk(module);
  return found;
}

function setValue(resource: StateResource | undefined, key: string, value: unknown): void {
  if (resource === undefined) throw new Error("the case lacks the resource to change");
  resource.values = { ...resource.values, [key]: value };
}

describe.skipIf(!shared.ok)("conformance v2: Coder's other fixture checks", () => {
  describe("app slugs (multiple-apps, planned values only)", () => {
    const convertWithFirstSlug = (slug: string) => {
      const p = plan("multiple-apps");
      const root = plannedRoot(p);
      setValue(resourcesOf(root, "coder_app")[0], "slug", slug);
      return convertResources([root], read("multiple-apps", "plan.dot"));
    };

    it.each(["$$$ invalid slug $$$", "invalid--slug", "invalid_slug", "Invalid-slug"])(
      "refuses %j",
      (slug) => {
        expect(() => convertWithFirstSlug(slug)).toThrow("does not match regex");
      },
    );

    it("accepts a valid slug", () => {
      const apps = convertWithFirstSlug("valid").resources.flatMap((r) =>
        r.agents.flatMap((a) => a.apps.map((app) => app.slug)),
      );
      expect(apps).toContain("valid");
    });

    it("refuses duplicate slugs", () => {
      const root = plannedRoot(plan("multiple-apps"));
      for (const app of resourcesOf(root, "coder_app")) setValue(app, "slug", "dev");
      expect(() => convertResources([root], read("multiple-apps", "plan.dot"))).toThrow(
        "duplicate app slug",
      );
    });
  });

  describe("agent names (multiple-agents)", () => {
    const convertWithNames = (...names: string[]) => {
      const root = plannedRoot(plan("multiple-agents"));
      resourcesOf(root, "coder_agent").forEach((agent, i) => {
        const name = names[i];
        if (name !== undefined) agent.name = name;
      });
      return convertResources([root], read("multiple-agents", "plan.dot"));
    };

    it("refuses a double hyphen", () => {
      expect(() => convertWithNames("bad--name")).toThrow("does not match regex");
    });

    it("refuses underscores with its own text", () => {
      expect(() => convertWithNames("bad_name")).toThrow("contains underscores");
    });

    it.each(["valid-name-123", "valid", "UppercaseValid"])("accepts %j", (name) => {
      const agents = convertWithNames(name).resources.flatMap((r) => r.agents.map((a) => a.name));
      expect(agents).toContain(name);
    });

    it("refuses names equal but for case", () => {
      expect(() => convertWithNames("dev", "Dev")).toThrow("duplicate agent name");
    });
  });

  describe("parameter names (rich-parameters, prior state only)", () => {
    const convertNamed = (name: (i: number) => string) => {
      const prior = plan("rich-parameters").prior_state?.values?.root_module;
      if (prior === undefined) throw new Error("rich-parameters has no prior state");
      for (const [i, p] of resourcesOf(prior, "coder_parameter").entries()) {
        setValue(p, "name", name(i));
      }
      return () => convertResources([prior], read("rich-parameters", "plan.dot"));
    };

    it("one repeated name", () => {
      expect(convertNamed(() => "identical")).toThrow(
        'coder_parameter names must be unique but "identical" appears multiple times',
      );
    });

    it("two repeated names", () => {
      expect(convertNamed((i) => `identical-${i % 2}`)).toThrow(
        'coder_parameter names must be unique but "identical-0" and "identical-1" appear multiple times',
      );
    });

    it("three repeated names", () => {
      expect(convertNamed((i) => `identical-${i % 3}`)).toThrow(
        'coder_parameter names must be unique but "identical-0", "identical-1" and "identical-2" appear multiple times',
      );
    });
  });

  it("AI tasks: app id or legacy sidebar app; a task with count 0 is none", () => {
    for (const name of ["ai-tasks-sidebar", "ai-tasks-app"]) {
      const p = plan(name);
      const root = plannedRoot(p);
      const result = convertResources(
        [root, p.prior_state?.values?.root_module ?? root],
        read(name, "plan.dot"),
      );
      expect(result.aiTasks).toHaveLength(1);
      expect(result.aiTasks[0]?.appId).toBe("5ece4674-dd35-4f16-88c8-82e40e72e2fd");
      expect(result.aiTasks[0]?.sidebarApp?.id).toBe("5ece4674-dd35-4f16-88c8-82e40e72e2fd");
      expect(result.hasAiTasks).toBe(true);
    }
    const p = plan("ai-tasks-disabled");
    const root = plannedRoot(p);
    const disabled = convertResources(
      [root, p.prior_state?.values?.root_module ?? root],
      read("ai-tasks-disabled", "plan.dot"),
    );
    expect(disabled.aiTasks).toEqual([]);
    expect(disabled.hasAiTasks).toBe(false);
  });

  it("external agents: the agent attaches to coder_external_agent", () => {
    const p = plan("external-agents");
    const root = plannedRoot(p);
    const result = convertResources(
      [root, p.prior_state?.values?.root_module ?? root],
      read("external-agents", "plan.dot"),
    );
    expect(result.hasExternalAgents).toBe(true);
    const withAgents = result.resources.filter((r) => r.agents.length > 0);
    expect(withAgents).toHaveLength(1);
    expect(withAgents[0]?.agents.map((a) => a.name)).toEqual(["dev1"]);
  });

  it("two default presets fail", () => {
    const p = plan("presets-multiple-defaults");
    const root = plannedRoot(p);
    expect(() =>
      convertResources(
        [root, p.prior_state?.values?.root_module ?? root],
        read("presets-multiple-defaults", "plan.dot"),
      ),
    ).toThrow("a maximum of 1 coder_workspace_preset can be marked as default, but 2 are set");
  });
});

describe("conversion of synthetic inputs", () => {
  const resource = (address: string, type: string, values: Record<string, unknown> = {}) => ({
    address,
    mode: "managed",
    type,
    name: address.split(".").at(-1) ?? "",
    values,
  });

  it("a resource whose address does not parse still converts, its module path says so", () => {
    const { resources } = convertResources(
      [{ resources: [resource("invalid", "null_resource")] }],
      "digraph {}",
    );
    expect(resources.map((r) => r.modulePath)).toEqual(["invalid terraform address"]);
  });

  it("module paths keep module instance keys", () => {
    const { resources } = convertResources(
      [
        {
          resources: [
            resource('module.a[0].module.b["k"].null_resource.x[1]', "null_resource"),
            resource("null_resource.root", "null_resource"),
          ],
        },
      ],
      "digraph {}",
    );
    // Sorted by name: "root", then "x".
    expect(resources.map((r) => r.modulePath)).toEqual(["", 'module.a[0].module.b["k"]']);
  });

  it.each([
    ["google_compute_instance", "machine_type", "instance_id"],
    ["aws_instance", "instance_type", "id"],
    ["aws_spot_instance_request", "instance_type", "spot_instance_id"],
    ["azurerm_linux_virtual_machine", "size", "virtual_machine_id"],
    ["azurerm_windows_virtual_machine", "size", "virtual_machine_id"],
  ])("%s: instance type from %s, instance id from %s", (type, typeKey, idKey) => {
    const graph = `digraph {
      "[root] ${type}.dev (expand)" [label = "${type}.dev"]
      "[root] coder_agent.main (expand)" [label = "coder_agent.main"]
      "[root] ${type}.dev (expand)" -> "[root] coder_agent.main (expand)"
    }`;
    const { resources } = convertResources(
      [
        {
          resources: [
            resource(`${type}.dev`, type, { [typeKey]: "size-1", [idKey]: "instance-1" }),
            resource("coder_agent.main", "coder_agent", { auth: "google-instance-identity" }),
          ],
        },
      ],
      graph,
    );
    expect(resources[0]?.instanceType).toBe("size-1");
    expect(resources[0]?.agents[0]?.auth).toEqual({ $case: "instanceId", value: "instance-1" });
  });
});
