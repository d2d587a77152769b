// The parts of a plan preview that need no terraform: actions from `resource_changes`, outputs
// without sensitive values, and the matching of changes to the converted resources.
import { describe, expect, it } from "vitest";
import { resourceActions } from "../../src/cli/plan-preview.js";
import { planPreview } from "../../src/terraform/plan-preview.js";
import { parsePlanJson } from "../../src/terraform/terraform-json.js";

const change = (address: string, actions: string[], mode = "managed") => {
  const [type, name] = address.replace(/\[\d+\]$/, "").split(".");
  return { address, mode, type, name, change: { actions } };
};

describe("planPreview", () => {
  const plan = parsePlanJson(
    JSON.stringify({
      planned_values: {
        outputs: {
          url: { sensitive: false, value: "https://x" },
          token: { sensitive: true, value: "s3cret-token" },
          id: { sensitive: false },
        },
      },
      resource_changes: [
        change("terraform_data.a", ["create"]),
        change("terraform_data.b", ["update"]),
        change("terraform_data.c", ["delete", "create"]),
        change("terraform_data.d", ["create", "delete"]),
        change("terraform_data.e", ["delete"]),
        change("terraform_data.f", ["no-op"]),
        change("data.coder_workspace.me", ["read"], "data"),
      ],
    }),
  );

  it("turns terraform's action lists into one action per managed resource", () => {
    expect(planPreview(plan).changes.map((c) => [c.name, c.action])).toEqual([
      ["a", "create"],
      ["b", "update"],
      ["c", "replace"],
      ["d", "replace"],
      ["e", "delete"],
      ["f", "no-op"],
    ]);
  });

  it("keeps no sensitive output value", () => {
    const { outputs } = planPreview(plan);
    expect(outputs).toEqual([
      { name: "id", sensitive: false, known: false },
      { name: "token", sensitive: true, known: true },
      { name: "url", sensitive: false, known: true, value: "https://x" },
    ]);
    expect(JSON.stringify(outputs)).not.toContain("s3cret-token");
  });
});

describe("resourceActions", () => {
  it("matches counted instances in address order and lists deletions apart", () => {
    const changes = [
      { address: "aws_instance.vm[1]", type: "aws_instance", name: "vm", action: "update" },
      { address: "aws_instance.vm[0]", type: "aws_instance", name: "vm", action: "no-op" },
      { address: "aws_instance.old", type: "aws_instance", name: "old", action: "delete" },
    ] as const;
    const resources = [
      { type: "aws_instance", name: "vm" },
      { type: "aws_instance", name: "vm" },
    ];
    const matched = resourceActions(resources, [...changes]);
    expect(matched.actions).toEqual(["no-op", "update"]);
    expect(matched.removed.map((c) => c.address)).toEqual(["aws_instance.old"]);
  });
});
