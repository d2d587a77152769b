// `npm run demo` (after `npm run build`): a local build of the bundled example template,
// offline. The test coder provider is laid out as a Terraform filesystem mirror in a temporary
// directory, exactly as an air-gapped host would use a real mirror.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const template = process.argv[2] ?? "test/fixtures/templates/minimal";
const work = mkdtempSync(path.join(os.tmpdir(), "provisionerd-demo-"));
const mirror = path.join(work, "provider-mirror");
const stateFile = path.join(work, "workspace.tfstate");

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

console.log(`Laying out the test coder provider as a filesystem mirror in ${mirror}`);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
if (
  run(npm, ["run", "--silent", "provider-mirror", "--", mirror], {
    stdio: ["ignore", "ignore", "inherit"],
  }) !== 0
) {
  process.exit(1);
}

const cli = path.join(root, "dist/src/cli/main.js");
const args = ["build", template, "--provider-mirror", mirror, "--state-file", stateFile];
console.log(`\n$ provisionerd ${args.join(" ")}\n`);
const status = run(process.execPath, [cli, ...args]);
if (status === 0) {
  console.log(`\nNext: stop and delete the same workspace from its state file:
  npx provisionerd build ${template} --provider-mirror ${mirror} --state-file ${stateFile} --transition stop
  npx provisionerd build ${template} --provider-mirror ${mirror} --state-file ${stateFile} --transition delete`);
}
process.exit(status);
