// Dependency edges -> the graph conversion searches. Terraform reduces its graph transitively
// before printing it (an edge A -> C is dropped when A -> B -> C exists), and the nearest-resource
// search counts hops, so a graph derived without terraform must be reduced the same way to pick
// the same resources.
import { DotGraph } from "../dot.js";
import { compare } from "./indexed.js";

/** A node of a derived graph: its id, and the resource address it stands for (resources only). */
export interface DerivedNode {
  id: string;
  label?: string | undefined;
}

/** Collects `dependant -> dependency` edges between nodes, then builds the reduced graph. */
export class DependencyEdges {
  private readonly nodes = new Map<string, DerivedNode>();
  private readonly edges = new Map<string, Set<string>>();

  addNode(node: DerivedNode): void {
    const known = this.nodes.get(node.id);
    if (known === undefined || (known.label === undefined && node.label !== undefined)) {
      this.nodes.set(node.id, node);
    }
  }

  addEdge(from: string, to: string): void {
    if (from === to) return;
    this.addNode({ id: from });
    this.addNode({ id: to });
    let targets = this.edges.get(from);
    if (targets === undefined) {
      targets = new Set();
      this.edges.set(from, targets);
    }
    targets.add(to);
  }

  /** The transitively reduced graph, labelled nodes carrying a `label` attribute. */
  toGraph(): DotGraph {
    const graph = new DotGraph();
    for (const node of [...this.nodes.values()].sort((a, b) => compare(a.id, b.id))) {
      const dot = graph.node(node.id);
      if (node.label !== undefined) dot.attributes.set("label", node.label);
    }
    for (const from of [...this.edges.keys()].sort(compare)) {
      for (const to of this.reducedTargets(from)) graph.addEdge(from, to);
    }
    return graph;
  }

  /** Direct dependencies of `from` that are not also reachable through another dependency. */
  private reducedTargets(from: string): string[] {
    const direct = this.edges.get(from) ?? new Set<string>();
    const indirect = new Set<string>();
    const stack: string[] = [];
    for (const child of direct) for (const next of this.edges.get(child) ?? []) stack.push(next);
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (indirect.has(id)) continue;
      indirect.add(id);
      for (const next of this.edges.get(id) ?? []) if (!indirect.has(next)) stack.push(next);
    }
    return [...direct].filter((to) => !indirect.has(to)).sort(compare);
  }
}
