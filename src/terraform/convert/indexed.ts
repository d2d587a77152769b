// One resource of the modules being converted, with the graph label of its block.
import type { StateResource } from "../terraform-json.js";

export interface Indexed {
  address: string;
  label: string;
  resource: StateResource;
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
