// `--name` reads Coder's variable name, CODER_PROVISIONER_DAEMON_NAME, and still the older
// CODER_PROVISIONERD_NAME when only that one is set.
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { addOptions, collectRawOptions } from "../../src/cli/option-spec.js";
import { parseStartConfig, startOptionSpecs } from "../../src/cli/start-config.js";

const names = ["CODER_PROVISIONER_DAEMON_NAME", "CODER_PROVISIONERD_NAME"] as const;
const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of names) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** The daemon name `start` ends up with, given these variables and arguments. */
function daemonName(vars: Partial<Record<(typeof names)[number], string>>, args: string[] = []) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...vars,
  };
  // Commander reads option env vars from process.env.
  for (const name of names) {
    if (vars[name] === undefined) delete process.env[name];
    else process.env[name] = vars[name];
  }
  const specs = startOptionSpecs(env);
  const command = new Command("start").exitOverride();
  addOptions(command, specs);
  command.parse(["--coder-url", "grpc://127.0.0.1:1", "--psk", "s3cret-psk", ...args], {
    from: "user",
  });
  return parseStartConfig(collectRawOptions(command, specs), specs, env).name;
}

describe("daemon name", () => {
  it("comes from CODER_PROVISIONER_DAEMON_NAME, as for `coder provisioner start`", () => {
    expect(daemonName({ CODER_PROVISIONER_DAEMON_NAME: "pool-a-1" })).toBe("pool-a-1");
  });

  it("still comes from CODER_PROVISIONERD_NAME when that is the only one set", () => {
    expect(daemonName({ CODER_PROVISIONERD_NAME: "old-name" })).toBe("old-name");
  });

  it("Coder's name wins over the older one, and --name over both", () => {
    const both = { CODER_PROVISIONER_DAEMON_NAME: "new-name", CODER_PROVISIONERD_NAME: "old-name" };
    expect(daemonName(both)).toBe("new-name");
    expect(daemonName(both, ["--name", "flag-name"])).toBe("flag-name");
  });
});
