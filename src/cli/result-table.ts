// The end of a local build: resources, their agents and the agents' apps as one tree-shaped
// table, with each resource's daily cost and the total.
import type { Agent, App, Resource } from "../provisioner/model.js";
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
  if (app.url !== "") return app.external ? `${app.url} (external)` : app.url;
  if (app.command !== "") return `command: ${app.command}`;
  return "";
}

function treeRows(resource: Resource, style: Style): Row[] {
  const rows: Row[] = [];
  const children: Array<{ row: Row; apps: App[] }> = [];
  for (const agent of resource.agents) {
    children.push({ row: [`agent ${agent.name}`, agentDetail(agent), ""], apps: agent.apps });
  }
  for (const item of resource.metadata) {
    if (item.isNull) continue;
    const value = item.sensitive ? "(sensitive)" : item.value;
    children.push({ row: [`meta ${item.key}`, style.dim(value), ""], apps: [] });
  }
  children.forEach((child, index) => {
    const last = index === children.length - 1;
    rows.push([`${last ? "└─" : "├─"} ${child.row[0]}`, child.row[1], ""]);
    child.apps.forEach((app, appIndex) => {
      const lastApp = appIndex === child.apps.length - 1;
      const name = `${last ? "   " : "│  "}${lastApp ? "└─" : "├─"} app ${app.slug}`;
      rows.push([name, appDetail(app), ""]);
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
