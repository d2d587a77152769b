// The graph side of conversion: labels of graph nodes, and the "nearest resource" search that
// decides which resource an agent or a coder_metadata belongs to: the managed, non-coder_
// resource nearest in the graph, ties broken by the smallest label.
import { type DotGraph, type DotNode, parseDot } from "../dot.js";
import { ConversionError } from "./attributes.js";

export class ResourceGraph {
  readonly graph: DotGraph;
  private readonly byLabel = new Map<string, string[]>();
  private readonly labels = new Map<string, string>();

  constructor(graph: DotGraph) {
    this.graph = graph;
    for (const node of graph.nodes.values()) {
      const label = nodeLabel(node);
      if (label === undefined) continue;
      this.labels.set(node.id, label);
      const list = this.byLabel.get(label);
      if (list === undefined) this.byLabel.set(label, [node.id]);
      else list.push(node.id);
    }
  }

  static parse(dot: string): ResourceGraph {
    try {
      return new ResourceGraph(parseDot(dot));
    } catch (error) {
      throw new ConversionError(`parse graph: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Graph nodes carrying `label` (normally one). */
  nodesWithLabel(label: string): readonly string[] {
    return this.byLabel.get(label) ?? [];
  }

  /** Whether any node's label satisfies `test`. */
  someLabel(test: (label: string) => boolean): boolean {
    for (const label of this.byLabel.keys()) if (test(label)) return true;
    return false;
  }

  labelOf(nodeId: string): string | undefined {
    return this.labels.get(nodeId);
  }

  /**
   * From `starts`, walks the graph breadth-first — `up` to dependants (nodes with an edge into the
   * current one), `down` to dependencies — and returns the label that `isCandidate` accepts at the
   * smallest depth (direct neighbours are depth 0), the lexicographically smallest on a tie.
   *
   * Same answer as the reference's recursive search (smallest depth over all paths, then smallest
   * label), but each node is visited once: the reference revisited nodes on every path, which is
   * exponential on wide graphs and loops forever on a cycle.
   */
  nearest(
    starts: readonly string[],
    direction: "up" | "down",
    isCandidate: (label: string) => boolean,
  ): string | undefined {
    const neighbours = (id: string) =>
      direction === "up" ? this.graph.predecessors(id) : this.graph.successors(id);
    const visited = new Set<string>(starts);
    let frontier: string[] = [];
    for (const start of starts) {
      for (const n of neighbours(start)) {
        if (!visited.has(n)) {
          visited.add(n);
          frontier.push(n);
        }
      }
    }
    while (frontier.length > 0) {
      let best: string | undefined;
      for (const id of frontier) {
        const label = this.labels.get(id);
        if (label !== undefined && isCandidate(label) && (best === undefined || label < best)) {
          best = label;
        }
      }
      if (best !== undefined) return best;
      const next: string[] = [];
      for (const id of frontier) {
        for (const n of neighbours(id)) {
          if (!visited.has(n)) {
            visited.add(n);
            next.push(n);
          }
        }
      }
      frontier = next;
    }
    return undefined;
  }
}

/**
 * The resource address a node stands for. In the detailed graph (`[root] x.y (expand)` ids) the
 * `label` attribute is the full address. In terraform >= 1.7's simplified default graph, labels of
 * module resources are relative to their module but the node id is the full address, so the id
 * is used there.
 */
function nodeLabel(node: DotNode): string | undefined {
  const label = node.attributes.get("label");
  if (label === undefined) return undefined;
  if (!node.id.startsWith("[")) return node.id;
  // gographviz kept the quotes and the reference trimmed them; ours are already unquoted.
  return label.replace(/^"+|"+$/g, "");
}
