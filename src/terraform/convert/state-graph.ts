// The dependency graph of a state, from the dependencies terraform records for each resource
// instance (`depends_on` in `terraform show -json`, `dependencies` in the state file). They are
// resource addresses only, already followed through variables, locals and modules, so the graph
// has resources alone — the shape of the resource-only graph terraform >= 1.7 prints by default.
// Hops through locals and module variables are gone, so the nearest-resource search can tie
// where the detailed graph does not, so an apply converts with the plan's graph (or terraform's).
import type { DotGraph } from "../dot.js";
import type { StateModule } from "../terraform-json.js";
import { addressLabel } from "./address.js";
import { resourceNode } from "./config-graph.js";
import { DependencyEdges } from "./reduce.js";

export function stateDependencyGraph(modules: StateModule[]): DotGraph {
  const edges = new DependencyEdges();
  const walk = (module: StateModule) => {
    for (const child of module.child_modules ?? []) walk(child);
    for (const resource of module.resources ?? []) {
      const label = addressLabel(resource.address);
      const node = resourceNode(label);
      edges.addNode({ id: node, label });
      for (const dependency of resource.depends_on ?? []) {
        edges.addEdge(node, resourceNode(addressLabel(dependency)));
      }
    }
  };
  for (const module of modules) walk(module);
  return edges.toGraph();
}
