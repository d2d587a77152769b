// The end of a local build: resources, their agents and the agents' apps as one tree-shaped
// table, with each resource's daily cost and the total.
import type { Agent, App, Resource } from "../proto/provisioner.js";
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

/** Lines of the table (no trailing newline on each). */
export function renderResourceTable(resources: readonly Resource[], style: Style): string[] {
  if (resources.length === 0) return ["No resources."];
  const rows: Row[] = [];
  for (const resource of resources) {
    const hidden = resource.hide ? style.dim(" (hidden)") : "";
    const type = resource.instanceType
      ? `${resource.type} (${resource.instanceType})`
      : resource.type;
    rows.push([style.bold(resource.name) + hidden, type, String(resource.dailyCost)]);
    rows.push(...treeRows(resource, style));
  }
  const header: Row = ["RESOURCE", "TYPE / DETAIL", "COST/DAY"];
  const all = [header, ...rows];
  const width = (column: 0 | 1) => Math.max(...all.map((row) => visibleLength(row[column])));
  const pad = (text: string, size: number) => text + " ".repeat(size - visibleLength(text));
  const [nameWidth, detailWidth] = [width(0), width(1)];
  const costWidth = Math.max(...all.map((row) => row[2].length));
  const line = (row: Row) =>
    `${pad(row[0], nameWidth)}  ${pad(row[1], detailWidth)}  ${row[2].padStart(costWidth)}`.trimEnd();
  return [style.dim(line(header)), ...rows.map(line), "", `Daily cost: ${dailyCost(resources)}`];
}
