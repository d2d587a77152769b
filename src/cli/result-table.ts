// The end of a local build: resources, their agents and what each agent carries (apps, scripts
// with the stages they run on, env names, devcontainers) as one tree-shaped table, with each
// resource's daily cost and the total.
import type { Agent, App, Resource, Script } from "../provisioner/model.js";
import { outputText, type PlanDetails, resourceActions } from "./plan-preview.js";
import type { Style } from "./terminal-style.js";
import { visibleLength } from "./terminal-style.js";

type Row = [name: string, detail: string, cost: string];

function agentDetail(agent: Agent): string {
  const platform = [agent.operatingSystem, agent.architecture]
    .filter((part) => part !== "")
    .join("/");
  const auth = agent.auth?.$case === "instanceId" ? "instance identity" : "token";
  return [platform, `auth: ${auth}`].filter((part) => part !== "").join(", ");
}

function appDetail(app: App): string {
  const target =
    app.url !== ""
      ? app.external
        ? `${app.url} (external)`
        : app.url
      : app.command !== ""
        ? `command: ${app.command}`
        : "";
  const group = app.group !== "" ? `[${app.group}]` : "";
  return [group, target, app.hidden ? "(hidden)" : ""].filter((part) => part !== "").join(" ");
}

/** When a script runs: "on start (blocks login)", "on stop", "cron <spec>", comma-joined. */
export function scriptStages(script: Script): string {
  const stages: string[] = [];
  if (script.runOnStart)
    stages.push(script.startBlocksLogin ? "on start (blocks login)" : "on start");
  if (script.runOnStop) stages.push("on stop");
  if (script.cron !== "") stages.push(`cron ${script.cron}`);
  return stages.join(", ");
}

type Leaf = [name: string, detail: string];

/**
 * What an agent carries, one row each. Env rows name the variables only: values may be
 * credentials and the conversion does not keep Terraform's sensitivity.
 */
function agentLeaves(agent: Agent): Leaf[] {
  const envNames = [...new Set(agent.extraEnvs.map((env) => env.name))].sort();
  return [
    ...agent.apps.map((app): Leaf => [`app ${app.slug}`, appDetail(app)]),
    ...agent.scripts.map((script): Leaf => [`script ${script.displayName}`, scriptStages(script)]),
    ...(envNames.length > 0 ? [["env", envNames.join(", ")] as Leaf] : []),
    ...agent.devcontainers.map((d): Leaf => [`devcontainer ${d.name}`, d.workspaceFolder]),
  ];
}

function treeRows(resource: Resource, style: Style): Row[] {
  const rows: Row[] = [];
  const children: Array<{ row: Leaf; leaves: Leaf[] }> = [];
  for (const agent of resource.agents) {
    children.push({ row: [`agent ${agent.name}`, agentDetail(agent)], leaves: agentLeaves(agent) });
  }
  for (const item of resource.metadata) {
    if (item.isNull) continue;
    const value = item.sensitive ? "(sensitive)" : item.value;
    children.push({ row: [`meta ${item.key}`, style.dim(value)], leaves: [] });
  }
  children.forEach((child, index) => {
    const last = index === children.length - 1;
    rows.push([`${last ? "└─" : "├─"} ${child.row[0]}`, child.row[1], ""]);
    child.leaves.forEach(([name, detail], leafIndex) => {
      const lastLeaf = leafIndex === child.leaves.length - 1;
      rows.push([`${last ? "   " : "│  "}${lastLeaf ? "└─" : "├─"} ${name}`, detail, ""]);
    });
  });
  return rows;
}

export function dailyCost(resources: readonly Resource[]): number {
  return resources.reduce((sum, resource) => sum + resource.dailyCost, 0);
}

/** A plan preview's additions to the table: an ACTION column, deletions and the outputs. */
export interface PlanColumns {
  details: PlanDetails;
  /** How a sensitive output's value is shown. */
  mask: string;
}

/** Lines of the table (no trailing newline on each). */
export function renderResourceTable(
  resources: readonly Resource[],
  style: Style,
  plan?: PlanColumns,
): string[] {
  const matched = plan ? resourceActions(resources, plan.details.changes) : undefined;
  const rows: Array<Row & { action?: string }> = [];
  resources.forEach((resource, index) => {
    const hidden = resource.hide ? style.dim(" (hidden)") : "";
    const type = resource.instanceType
      ? `${resource.type} (${resource.instanceType})`
      : resource.type;
    const row: Row = [style.bold(resource.name) + hidden, type, String(resource.dailyCost)];
    rows.push(Object.assign(row, { action: matched?.actions[index] ?? "" }));
    rows.push(...treeRows(resource, style));
  });
  for (const change of matched?.removed ?? []) {
    const row: Row = [style.bold(change.name), change.type, ""];
    rows.push(Object.assign(row, { action: change.action }));
  }
  const outputs = outputLines(plan);
  if (rows.length === 0) return ["No resources.", ...outputs];
  const header: Row = ["RESOURCE", "TYPE / DETAIL", "COST/DAY"];
  const all = [header, ...rows];
  const width = (column: 0 | 1) => Math.max(...all.map((row) => visibleLength(row[column])));
  const pad = (text: string, size: number) => text + " ".repeat(size - visibleLength(text));
  const [nameWidth, detailWidth] = [width(0), width(1)];
  const costWidth = Math.max(...all.map((row) => row[2].length));
  const actionWidth = Math.max("ACTION".length, ...rows.map((row) => (row.action ?? "").length));
  const line = (row: Row, action: string | undefined) =>
    [
      pad(row[0], nameWidth),
      ...(plan ? [pad(action ?? "", actionWidth)] : []),
      pad(row[1], detailWidth),
      row[2].padStart(costWidth),
    ]
      .join("  ")
      .trimEnd();
  return [
    style.dim(line(header, "ACTION")),
    ...rows.map((row) => line(row, row.action)),
    "",
    `Daily cost: ${dailyCost(resources)}`,
    ...outputs,
  ];
}

function outputLines(plan: PlanColumns | undefined): string[] {
  const outputs = plan?.details.outputs ?? [];
  if (outputs.length === 0) return [];
  return [
    "",
    "Outputs:",
    ...outputs.map((o) => `  ${o.name} = ${outputText(o, plan?.mask ?? "")}`),
  ];
}
