// `provisionerd build --plan-only`: a dry run of the start with the real binary and terraform.
// Each resource's planned action and the outputs are shown (a sensitive output masked), and
// neither the state file nor the build record is written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { ensureBuilt, provisionerd } from "./cli-binary.js";

const TIMEOUT = 240_000;
const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-plan-"));
const mirrorDir = path.join(tmp, "mirror");
const common = [
  "--provider-mirror",
  mirrorDir,
  "--work-dir",
  path.join(tmp, "work"),
  "--cache-dir",
  path.join(tmp, "cache"),
];
const SECRET = "hunter2-plan-secret";

beforeAll(async () => {
  await Promise.all([ensureBuilt(), createProviderMirror(mirrorDir)]);
}, TIMEOUT);

/** No provider at all: terraform_data is built into terraform. */
function template(): string {
  const dir = path.join(tmp, "template");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, "main.tf"),
    `variable "greeting" {
  default = "hi"
}
variable "revision" {
  default = "1"
}
variable "secret_word" {
  sensitive = true
}
resource "terraform_data" "note" {
  input = var.greeting
}
resource "terraform_data" "box" {
  triggers_replace = var.revision
}
output "greeting" {
  value = var.greeting
}
output "box_id" {
  value = terraform_data.box.id
}
output "secret" {
  value     = var.secret_word
  sensitive = true
}
`,
  );
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: the --json output is checked field by field
type Json = any;

async function run(args: string[]) {
  const result = await provisionerd(["build", template(), ...common, ...args]);
  return { ...result, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const actions = (json: Json) =>
  Object.fromEntries(json.plan.resources.map((r: Json) => [r.name, r.action]));

describe("provisionerd build --plan-only", () => {
  it(
    "previews a start, then the changes to a started workspace, writing nothing",
    async () => {
      const stateFile = path.join(tmp, "ws.tfstate");
      const params = ["--param", `secret_word=${SECRET}`, "--state-file", stateFile];

      const first = await run([...params, "--plan-only", "--json"]);
      expect(first.exitCode, first.stderr).toBe(0);
      const preview = JSON.parse(first.stdout);
      expect(preview.ok).toBe(true);
      expect(preview.build.status).toBe("skipped");
      expect(actions(preview)).toEqual({ box: "create", note: "create" });
      expect(preview.plan.outputs).toEqual([
        { name: "box_id", sensitive: false, known: false },
        { name: "greeting", sensitive: false, known: true, value: "hi" },
        { name: "secret", sensitive: true, known: true, value: "[REDACTED]" },
      ]);
      expect(first.stdout).not.toContain(SECRET);
      expect(existsSync(stateFile)).toBe(false);
      expect(existsSync(`${stateFile}.build.json`)).toBe(false);

      const start = await run(params);
      expect(start.exitCode, start.stderr).toBe(0);
      const state = readFileSync(stateFile);
      const record = readFileSync(`${stateFile}.build.json`);

      const changed = await run([
        ...params,
        "--param",
        "greeting=hello",
        "--param",
        "revision=2",
        "--plan-only",
      ]);
      expect(changed.exitCode, changed.stderr).toBe(0);
      const out = changed.stdout;
      expect(out).toMatch(/^RESOURCE +ACTION +TYPE \/ DETAIL +COST\/DAY$/m);
      expect(out).toMatch(/^box +replace +terraform_data +0$/m);
      expect(out).toMatch(/^note +update +terraform_data +0$/m);
      expect(out).toMatch(/^ {2}greeting = "hello"$/m);
      expect(out).toMatch(/^ {2}secret = \[REDACTED\]$/m);
      expect(out).toMatch(/^ {2}box_id = \(known after apply\)$/m);
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain("State written");
      expect(readFileSync(stateFile).equals(state)).toBe(true);
      expect(readFileSync(`${stateFile}.build.json`).equals(record)).toBe(true);

      const same = JSON.parse((await run([...params, "--plan-only", "--json"])).stdout);
      expect(actions(same)).toEqual({ box: "no-op", note: "no-op" });
    },
    TIMEOUT,
  );

  it("previews only a start", async () => {
    const result = await run(["--plan-only", "--transition", "delete", "--state-file", "x"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      "provisionerd build: --plan-only: previews a start (a template dry run), not --transition delete",
    );
  });
});
