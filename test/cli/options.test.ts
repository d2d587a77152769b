// Settings checked once, in the daemon's schema, and worded by one formatter; one default cache
// dir; the names and texts a local build's --json and quota lines show.
import { describe, expect, it } from "vitest";
import { buildOptionSpecs } from "../../src/cli/build-config.js";
import { buildResultJson, logJson } from "../../src/cli/build-output.js";
import { startOptionSpecs } from "../../src/cli/start-config.js";
import { DaemonOptionsError, defaultCacheDir, parseDaemonOptions } from "../../src/daemon/index.js";
import { QUOTA_TEXT } from "../../src/daemon/job-texts.js";
import {
  Agent,
  App,
  AppSharingLevel,
  LogLevel,
  LogSource,
  ParameterDestination_Scheme,
  Resource,
} from "../../src/provisioner/model.js";

const provisioner = { type: "terraform", open: async () => ({}) as never };

describe("daemon options", () => {
  it("reports every bad field on one line, with the value given", () => {
    let error: unknown;
    try {
      parseDaemonOptions({
        coderUrl: "http://coder.test",
        psk: "",
        provisioners: [provisioner],
        concurrency: 100,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DaemonOptionsError);
    expect((error as Error).message).toBe(
      "invalid daemon options: psk: must not be empty; concurrency: expected at most 64 job slots, got 100",
    );
  });
});

describe("the default cache dir", () => {
  const env = { XDG_CACHE_HOME: "/var/cache/me" };

  it("is the same for the daemon and both commands", () => {
    const cacheDefault = (specs: Array<{ key: string; default?: string }>) =>
      specs.find((spec) => spec.key === "cacheDir")?.default;
    expect(defaultCacheDir(env)).toBe("/var/cache/me/coder");
    expect(cacheDefault(startOptionSpecs(env))).toBe(defaultCacheDir(env));
    expect(cacheDefault(buildOptionSpecs(env))).toBe(defaultCacheDir(env));
  });

  it("follows systemd's CACHE_DIRECTORY first", () => {
    expect(defaultCacheDir({ ...env, CACHE_DIRECTORY: "/var/cache/provisionerd" })).toBe(
      "/var/cache/provisionerd/coder",
    );
  });
});

describe("texts of a local build", () => {
  it("reads a negative quota budget as unlimited", () => {
    expect(QUOTA_TEXT.budget(-1)).toBe("Budget           —   unlimited");
    expect(QUOTA_TEXT.budget(40)).toBe("Budget           —   40");
  });

  it("names enum values in --json", () => {
    const app = App.create({ slug: "web", sharingLevel: AppSharingLevel.AUTHENTICATED });
    const resource = Resource.create({
      name: "vm",
      type: "terraform_data",
      agents: [Agent.create({ name: "main", apps: [app] })],
    });
    const json = buildResultJson({
      template: { path: "/t", name: "t" },
      workspace: { name: "w", owner: "o", id: "i", ownerId: "oi", transition: "start" },
      importJob: { status: "completed", durationMs: 1 },
      buildJob: { status: "completed", durationMs: 1, resources: [resource] },
      stateWritten: false,
      values: {
        variables: [],
        parameters: [
          {
            name: "region",
            value: "eu",
            destinationScheme: ParameterDestination_Scheme.PROVISIONER_VARIABLE,
            sensitive: false,
          },
        ],
        richParameters: [],
      },
      logs: [
        logJson("build", {
          source: LogSource.PROVISIONER,
          level: LogLevel.WARN,
          createdAt: 0,
          stage: "s",
          output: "o",
          sequence: 1,
        }),
      ],
    });
    expect(json.build.resources?.[0]?.agents[0]?.apps[0]?.sharingLevel).toBe("authenticated");
    expect(json.values.parameters[0]?.destinationScheme).toBe("provisioner_variable");
    expect(json.logs[0]).toMatchObject({ source: "provisioner", level: "warn" });
  });
});
