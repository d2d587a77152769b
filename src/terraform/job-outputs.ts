// What conversion needs after a plan or an apply — the dependency graph and the applied state's
// resources — taken from what terraform already wrote where possible, so that a job does not start
// terraform (and every provider of the template) again for `terraform graph` or `show -json`.
import type { Logger } from "pino";
import { configurationGraph, GraphDerivationError } from "./convert/config-graph.js";
import { readLocalReferences } from "./convert/locals.js";
import type { DotGraph } from "./dot.js";
import { type PlanJson, type StateJson, type StateModule, stateModules } from "./terraform-json.js";
import { StateVersionError, stateFileModules } from "./tfstate.js";

/**
 * `derived`: the graph from the plan's configuration, the applied state from the state file.
 * `terraform`: `terraform graph` and `terraform show -json`, as the reference ran them.
 */
export type OutputSource = "derived" | "terraform";

export type DependencyGraph = string | DotGraph;

/**
 * The plan's dependency graph: from its configuration, with local values read from the template
 * source when expressions use them; `terraform graph` only when neither describes it.
 */
export async function planDependencyGraph(
  source: OutputSource,
  plan: PlanJson,
  workDir: string,
  terraformGraph: () => Promise<string>,
  logger?: Logger,
): Promise<DependencyGraph> {
  if (source === "terraform") return terraformGraph();
  try {
    return configurationGraph(plan.configuration);
  } catch (error) {
    if (!(error instanceof GraphDerivationError)) throw error;
  }
  try {
    return configurationGraph(plan.configuration, await readLocalReferences(workDir));
  } catch (error) {
    if (!(error instanceof GraphDerivationError)) throw error;
    logger?.debug({ reason: error.message }, "dependency graph from terraform graph");
    return terraformGraph();
  }
}

/**
 * The applied state's modules and graph. The plan's graph is used when this work dir planned
 * (its configuration is the state's), as it does in every workspace build.
 */
export async function appliedState(
  source: OutputSource,
  stateFile: Uint8Array,
  planGraph: DependencyGraph | undefined,
  terraform: { showState: () => Promise<StateJson>; graph: () => Promise<string> },
  logger?: Logger,
): Promise<{ modules: StateModule[]; graph: DependencyGraph }> {
  if (source === "terraform") {
    const modules = stateModules(await terraform.showState());
    return { modules, graph: await terraform.graph() };
  }
  let modules: StateModule[];
  try {
    modules = stateFileModules(new TextDecoder().decode(stateFile), "terraform.tfstate");
  } catch (error) {
    if (!(error instanceof StateVersionError)) throw error;
    logger?.info({ reason: error.message }, "state read with terraform show -json");
    modules = stateModules(await terraform.showState());
  }
  // Without a plan in this work dir, terraform draws the graph: the dependencies the state
  // records skip the hops through locals and module variables that the search counts.
  return { modules, graph: planGraph ?? (await terraform.graph()) };
}
