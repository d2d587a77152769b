// `provisionerd build` on a real pseudo-terminal (util-linux `script`): colours, the question
// for a missing parameter answered interactively, and the answer reaching the workspace.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { createProviderMirror } from "../fixtures/coder-provider/mirror.js";
import { BINARY, cleanEnv, ensureBuilt, onceStdoutShows, ROOT } from "./cli-binary.js";

const TIMEOUT = 180_000;
const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const tmp = mkdtempSync(path.join(os.tmpdir(), "provisionerd-tty-"));
const mirrorDir = path.join(tmp, "mirror");

beforeAll(async () => {
  await Promise.all([ensureBuilt(), createProviderMirror(mirrorDir)]);
}, TIMEOUT);

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;
const ESC = "\u001b";

describe.skipIf(!hasScript)("provisionerd build on a terminal", () => {
  it(
    "shows coloured progress, asks for the missing parameter and uses the answer",
    async () => {
      const stateFile = path.join(tmp, "tty.tfstate");
      const command = [
        process.execPath,
        BINARY,
        "build",
        path.join(ROOT, "test/fixtures/templates/rich-parameters"),
        "--provider-mirror",
        mirrorDir,
        "--work-dir",
        path.join(tmp, "work"),
        "--cache-dir",
        path.join(tmp, "cache"),
        "--state-file",
        stateFile,
      ]
        .map(quote)
        .join(" ");
      const env = cleanEnv({ TERM: "xterm-256color" });
      delete env.NO_COLOR;
      const child = execa("script", ["-qfec", command, "/dev/null"], {
        cwd: ROOT,
        env,
        extendEnv: false,
        reject: false,
        stdin: "pipe",
        timeout: TIMEOUT,
      });
      const screen = onceStdoutShows(child, "--rich-param Project: ", () =>
        child.stdin?.write("demo\r"),
      );
      const result = await child;
      const { output, acted: answered } = screen;
      expect(answered, output).toBe(true);
      expect(result.exitCode, output).toBe(0);

      // Stage headers in cyan, elapsed time dimmed, the title in bold, ticks in green.
      expect(output).toContain(`${ESC}[1mImporting template rich-parameters${ESC}[22m`);
      const header = new RegExp(
        `${ESC}\\[2m\\[ +\\d+\\.\\ds\\]${ESC}\\[22m ${ESC}\\[36mPlanning infrastructure${ESC}\\[39m`,
      );
      expect(output).toMatch(header);
      expect(output).toContain(`${ESC}[32m✔${ESC}[39m Workspace started`);
      // The question: description (type first), then the prompt, on the terminal.
      expect(output).toContain("The template needs values that were not given:");
      expect(output).toContain("(string) No default: empty unless a value is given.");
      expect(output).toMatch(/^Daily cost: 0\r?$/m);

      const state = JSON.parse(readFileSync(stateFile, "utf8"));
      const agent = state.resources.find((r: { type: string }) => r.type === "coder_agent");
      expect(agent.instances[0].attributes.env.PROJECT).toBe("demo");
    },
    TIMEOUT,
  );
});
