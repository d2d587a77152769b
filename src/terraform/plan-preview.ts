// What a plan would do, for previews: each managed resource's planned action and the root
// module's outputs, from `terraform show -json` of the plan. Sensitive output values are dropped
// here, so they never leave the provisioner.
import type { PlannedAction, PlannedChange, PlannedOutput } from "../provisioner/provisioner.js";
import type { PlanJson } from "./terraform-json.js";

/** Terraform's action lists (`["delete", "create"]` is a replacement) as one action. */
function plannedAction(actions: readonly string[]): PlannedAction | undefined {
  const key = [...actions].sort().join(",");
  switch (key) {
    case "create":
    case "update":
    case "delete":
    case "no-op":
    case "read":
      return key;
    case "create,delete":
      return "replace";
    default:
      return undefined;
  }
}

export function planPreview(plan: PlanJson): {
  changes: PlannedChange[];
  outputs: PlannedOutput[];
} {
  const changes: PlannedChange[] = [];
  for (const change of plan.resource_changes ?? []) {
    const action = plannedAction(change.change.actions);
    if (change.mode !== "managed" || action === undefined) continue;
    changes.push({ address: change.address, type: change.type, name: change.name, action });
  }
  const outputs = Object.entries(plan.planned_values?.outputs ?? {})
    .map(([name, output]): PlannedOutput => {
      const sensitive = output.sensitive === true;
      const known = "value" in output;
      return { name, sensitive, known, ...(known && !sensitive ? { value: output.value } : {}) };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { changes, outputs };
}
