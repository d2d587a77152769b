// Benchmark: parsing a template with 500 variables (target: well under 100 ms after warm-up).
// Exports one async function returning the measured figures; the benchmark runner calls it.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseTemplate } from "../src/parameters/index.js";
import { median, round } from "./lib/stats.js";

const VARIABLES = 500;
const WARMUP_RUNS = 3;
const MEASURED_RUNS = 15;

/** A realistic mix: types, defaults, descriptions, sensitive values and validations. */
function generateTemplate(count: number): string {
  const blocks: string[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0:
        blocks.push(`variable "region_${i}" {
  description = "Region for component ${i}"
  type        = string
  default     = "us-east1-a"
  validation {
    condition     = contains(["us-east1-a", "us-central1-a", "europe-west4-b"], var.region_${i})
    error_message = "Unsupported region."
  }
}`);
        break;
      case 1:
        blocks.push(`variable "size_${i}" {
  type    = number
  default = ${i}
}`);
        break;
      case 2:
        blocks.push(`variable "token_${i}" {
  description = "A secret"
  type        = string
  sensitive   = true
}`);
        break;
      case 3:
        blocks.push(`variable "tags_${i}" {
  type    = map(string)
  default = { owner = "team-${i}", env = "dev" }
}`);
        break;
      default:
        blocks.push(`variable "list_${i}" {
  type    = list(object({ name = string, port = number }))
  default = [{ name = "web", port = 80 }, { name = "api", port = 8080 }]
}`);
    }
  }
  return `${blocks.join("\n\n")}\n`;
}

export async function benchParameters(): Promise<{ parse_500_vars_ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-parameters-"));
  try {
    await writeFile(join(dir, "main.tf"), generateTemplate(VARIABLES));
    for (let i = 0; i < WARMUP_RUNS; i++) {
      const result = await parseTemplate(dir);
      if (result.parameterSchemas.length !== VARIABLES) {
        throw new Error(`expected ${VARIABLES} schemas, got ${result.parameterSchemas.length}`);
      }
    }
    const runs: number[] = [];
    for (let i = 0; i < MEASURED_RUNS; i++) {
      const start = performance.now();
      await parseTemplate(dir);
      runs.push(performance.now() - start);
    }
    return { parse_500_vars_ms: round(median(runs)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default benchParameters;
