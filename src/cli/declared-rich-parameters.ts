// The rich parameters (`data "coder_parameter"`) a template declares, read from its files
// without running Terraform, so that a local build can name every missing or mistyped value
// before any plan runs. Terraform evaluates these blocks only during a plan; what cannot be
// known from the text alone (a name that is an expression, `count`, parameters inside modules,
// a file the fast parser refuses) marks the list incomplete, and the import's own list decides.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type HclBlock, type HclBody, parseHclNative } from "../parameters/hcl-native.js";
import { listConfigFiles } from "../parameters/template-files.js";
import { RichParameter, RichParameterOption } from "../provisioner/model.js";

export interface DeclaredRichParameters {
  /** The parameters whose names are constants, as far as the text tells (no validation). */
  parameters: RichParameter[];
  /** False when the template may declare parameters this list does not show. */
  complete: boolean;
}

const constantText = (body: HclBody, name: string): string | undefined => {
  const evaluation = body.attributes.find((a) => a.name === name)?.expr.evaluate();
  if (evaluation === undefined || !evaluation.ok) return undefined;
  const { value } = evaluation;
  return value === null || typeof value === "object" ? undefined : String(value);
};

const hasAttribute = (body: HclBody, name: string) => body.attributes.some((a) => a.name === name);

function richParameter(block: HclBlock): RichParameter | undefined {
  const { body } = block;
  const name = constantText(body, "name");
  if (name === undefined || hasAttribute(body, "count") || hasAttribute(body, "for_each")) {
    return undefined;
  }
  // A default that is an expression is kept as written: only the plan knows its value.
  const written = body.attributes.find((a) => a.name === "default")?.expr.source;
  const defaultValue = constantText(body, "default") ?? written ?? "";
  return RichParameter.create({
    name,
    description: constantText(body, "description") ?? "",
    type: constantText(body, "type") ?? "string",
    defaultValue,
    options: body.blocks
      .filter((option) => option.type === "option")
      .map((option) =>
        RichParameterOption.create({
          name: constantText(option.body, "name") ?? "",
          value: constantText(option.body, "value") ?? "",
        }),
      ),
  });
}

export async function declaredRichParameters(directory: string): Promise<DeclaredRichParameters> {
  const parameters: RichParameter[] = [];
  let complete = true;
  for (const file of await listConfigFiles(directory)) {
    const source = await readFile(join(directory, file.name), "utf8");
    if (file.syntax === "json" || file.override) {
      // Rare in templates; whether they declare parameters is left to the import.
      if (source.includes("coder_parameter")) complete = false;
      continue;
    }
    let body: HclBody;
    try {
      body = parseHclNative(source);
    } catch {
      complete = false;
      continue;
    }
    for (const block of body.blocks) {
      if (block.type === "module") complete = false;
      if (block.type !== "data" || block.labels[0] !== "coder_parameter") continue;
      const parameter = richParameter(block);
      if (parameter === undefined) complete = false;
      else parameters.push(parameter);
    }
  }
  return { parameters, complete };
}
