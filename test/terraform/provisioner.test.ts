// The provisioner with the real terraform binary, on templates that need no provider download
// (terraform_data, local-exec) or a local hanging provider: flows, failures, cancellation.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LogLevel, WorkspaceTransition } from "../../src/provisioner/model.js";
import { REDACTED } from "../../src/terraform/redact.js";
import { getOfflineTerraform } from "../helpers/offline-terraform.js";
import { createHangingProvider } from "./helpers/hanging-provider.js";
import { processesWithArgument, waitFor } from "./helpers/processes.js";
import {
  applyRequest,
  LogCollector,
  openTemplate,
  planRequest,
  provisionFailure,
  type Scratch,
  scratchProvisioner,
} from "./helpers/provisioner.js";
import { makeTar, type TarEntry } from "./helpers/tar.js";

const { START, STOP, DESTROY } = WorkspaceTransition;
const noState = new Uint8Array();
const never = new AbortController().signal;

let scratch: Scratch;
beforeAll(() => {
  scratch = scratchProvisioner();
});
afterAll(() => scratch.cleanup());

const open = (files: Record<string, string>, s: Scratch = scratch) =>
  openTemplate(s, files, "job-1");

const failure = provisionFailure;

const stateText = (state: Uint8Array | undefined) => new TextDecoder().decode(state);

describe("open", () => {
  const refusals: Array<[string, TarEntry[]]> = [
    ["..", [{ name: "../evil.tf", data: "x" }]],
    ["absolute path", [{ name: "/tmp/evil.tf", data: "x" }]],
    ["link pointing out", [{ name: "l", type: "2", linkname: "../../../etc" }]],
    ["device", [{ name: "tty", type: "3" }]],
    ["fifo", [{ name: "pipe", type: "6" }]],
    ["file too big", [{ name: "big", data: Buffer.alloc(2048) }]],
    ["total too big", [0, 1, 2, 3].map((i) => ({ name: `f${i}`, data: Buffer.alloc(1000) }))],
    ["too many files", Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: "x" }))],
  ];

  it.each(refusals)(
    "refuses an archive with %s: ARCHIVE error naming the entry, no work dir left",
    async (_, entries) => {
      const s = scratchProvisioner({ maxFileBytes: 1024, maxTotalBytes: 3000, maxFiles: 5 });
      try {
        const error = await failure(
          s.provisioner.open({ archive: makeTar(entries), jobId: "j", slot: 0, signal: never }),
        );
        expect(error.code).toBe("ARCHIVE");
        expect(error.message).toMatch(/^unpack template archive: entry ".*": /);
        expect(s.workDirs()).toEqual([]);
      } finally {
        s.cleanup();
      }
    },
  );

  it("gives a private work dir with the template and its README; close removes it", async () => {
    const session = await open({ "main.tf": "", "README.md": "# Hello" });
    expect(session.directory.startsWith(scratch.workDirRoot)).toBe(true);
    expect(new TextDecoder().decode(await session.readme())).toBe("# Hello");
    await session.close();
    await session.close();
    expect(existsSync(session.directory)).toBe(false);
    const error = await failure(session.plan(planRequest(START, noState, new LogCollector())));
    expect(error.code).toBe("INTERNAL");
  });

  it("has no README when the template has none", async () => {
    const session = await open({ "main.tf": "" });
    expect(await session.readme()).toBeUndefined();
    await session.close();
  });
});

describe("plan and apply with terraform_data", () => {
  const template = {
    "main.tf": `
variable "name" {
  type = string
}
variable "secret" {
  type    = string
  default = ""
}
resource "terraform_data" "box" {
  input = var.name
  provisioner "local-exec" {
    command = "echo secret is \${var.secret}"
  }
}
`,
  };

  it("plans, applies, re-plans with the state and destroys; state passes between the calls", async () => {
    const session = await open(template);
    try {
      const vars = [
        { name: "name", value: "first", sensitive: false },
        { name: "secret", value: "hunter2-very-secret", sensitive: true },
      ];
      const planLogs = new LogCollector();
      const timings: { step: string; seconds: number }[] = [];
      const onTiming = (step: string, seconds: number) => void timings.push({ step, seconds });
      const plan = await session.plan(
        planRequest(START, noState, planLogs, { variableValues: vars, onTiming }),
      );
      // terraform init ran inside the first plan and was timed on its own.
      expect(timings.map((t) => t.step)).toEqual(["init"]);
      expect(timings[0]?.seconds).toBeGreaterThan(0);
      expect(plan.resources.map((r) => `${r.type}.${r.name}`)).toEqual(["terraform_data.box"]);
      expect(plan.plan.byteLength).toBeGreaterThan(0);
      expect(planLogs.text()).toContain("terraform_data.box: Plan to create");
      expect(
        planLogs.logs.some((l) => l.level === LogLevel.DEBUG && l.output.includes("Initializing")),
      ).toBe(true);

      const applyLogs = new LogCollector();
      const applied = await session.apply(applyRequest(START, noState, plan.plan, applyLogs));
      expect(applied.resources.map((r) => r.name)).toEqual(["box"]);
      const state = JSON.parse(stateText(applied.state));
      expect(state.resources[0].instances[0].attributes.input.value).toBe("first");
      // The secret was only given to plan, yet apply's output is redacted too.
      expect(applyLogs.text()).toContain(`secret is ${REDACTED}`);
      expect(`${planLogs.text()}${applyLogs.text()}`).not.toContain("hunter2-very-secret");

      // With the state: no changes; the work dir is initialised already, so no second init.
      const again = await session.plan(
        planRequest(STOP, applied.state, new LogCollector(), { variableValues: vars, onTiming }),
      );
      expect(timings.map((t) => t.step)).toEqual(["init"]);
      expect(again.resources.map((r) => r.name)).toEqual(["box"]);

      const destroyLogs = new LogCollector();
      const destroyPlan = await session.plan(
        planRequest(DESTROY, applied.state, destroyLogs, { variableValues: vars }),
      );
      expect(destroyPlan.resources).toEqual([]);
      expect(destroyLogs.text()).toContain("terraform_data.box: Plan to delete");
      const destroyed = await session.apply(
        applyRequest(DESTROY, applied.state, destroyPlan.plan, new LogCollector()),
      );
      expect(JSON.parse(stateText(destroyed.state)).resources).toEqual([]);
      expect(destroyed.resources).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it("a sensitive value too short to mask is left in the lines, and its name is told once per job", async () => {
    const session = await open(template);
    try {
      const vars = [
        { name: "name", value: "first", sensitive: false },
        { name: "secret", value: "0", sensitive: true },
      ];
      const logs = new LogCollector();
      const plan = await session.plan(planRequest(START, noState, logs, { variableValues: vars }));
      await session.plan(planRequest(STOP, noState, logs, { variableValues: vars }));
      const applyLogs = new LogCollector();
      await session.apply(applyRequest(START, noState, plan.plan, applyLogs));
      expect(logs.text()).toContain("Plan: 1 to add, 0 to change, 0 to destroy.");
      expect(`${logs.text()}${applyLogs.text()}`).not.toContain(REDACTED);
      expect(applyLogs.text()).toContain("secret is 0");
      const notices = [...logs.logs, ...applyLogs.logs].filter((l) =>
        l.output.includes("too short to mask"),
      );
      expect(notices).toEqual([
        {
          level: LogLevel.WARN,
          output:
            'The value of sensitive template variable "secret" is shorter than 8 characters: too short to mask, it is not hidden in logs.',
        },
      ]);
    } finally {
      await session.close();
    }
  });

  it("a destroy with no state does nothing and says so", async () => {
    const session = await open(template);
    try {
      const logs = new LogCollector();
      const plan = await session.plan(planRequest(DESTROY, noState, logs));
      expect(plan).toEqual({
        resources: [],
        parameters: [],
        gitAuthProviders: [],
        plan: new Uint8Array(),
      });
      const applyLogs = new LogCollector();
      const applied = await session.apply(applyRequest(DESTROY, noState, plan.plan, applyLogs));
      expect(applied).toEqual({ state: new Uint8Array(), resources: [] });
      for (const l of [logs, applyLogs]) {
        expect(l.logs).toContainEqual({
          level: LogLevel.INFO,
          output: "The terraform state does not exist, there is nothing to do",
        });
        expect(l.text()).not.toContain("Initializing");
      }
    } finally {
      await session.close();
    }
  });

  it("a failing plan is a TERRAFORM error, with terraform's diagnostics as ERROR lines", async () => {
    const session = await open({
      "main.tf": 'resource "terraform_data" "x" {\n  input = terraform_data.missing.output\n}\n',
    });
    try {
      const logs = new LogCollector();
      const error = await failure(session.plan(planRequest(START, noState, logs)));
      expect(error.code).toBe("TERRAFORM");
      expect(error.message).toBe(
        'plan terraform: terraform plan: main.tf:2: Reference to undeclared resource: A managed resource "terraform_data" "missing" has not been declared in the root module.',
      );
      expect(error.state).toBeUndefined();
      expect(logs.logs).toContainEqual({
        level: LogLevel.ERROR,
        output: "Error: main.tf:2: Reference to undeclared resource",
      });
      expect(logs.logs).toContainEqual({
        level: LogLevel.ERROR,
        output: "  2:   input = terraform_data.missing.output",
      });
      expect(logs.logs).toContainEqual({
        level: LogLevel.ERROR,
        output:
          'A managed resource "terraform_data" "missing" has not been declared in the root module.',
      });
    } finally {
      await session.close();
    }
  });

  it("a missing required variable fails the plan", async () => {
    const session = await open(template);
    try {
      const logs = new LogCollector();
      const error = await failure(session.plan(planRequest(START, noState, logs)));
      expect(error.code).toBe("TERRAFORM");
      expect(logs.text()).toContain("No value for required variable");
    } finally {
      await session.close();
    }
  });

  it("a value its validation refuses fails the plan with terraform's reason, naming the variable", async () => {
    const session = await open({
      "main.tf": `
variable "region" {
  type = string
  validation {
    condition     = contains(["eu-west", "us-east"], var.region)
    error_message = "Unsupported region."
  }
}
variable "zone" {
  default = "mars-1"
  validation {
    condition     = var.zone != "mars-1"
    error_message = "No zones on Mars."
  }
}
`,
    });
    try {
      const logs = new LogCollector();
      const given = await failure(
        session.plan(
          planRequest(START, noState, logs, {
            variableValues: [
              { name: "region", value: "mars", sensitive: true },
              { name: "zone", value: "eu-1", sensitive: false },
            ],
          }),
        ),
      );
      expect(given.code).toBe("TERRAFORM");
      expect(given.message).toBe(
        'plan terraform: terraform plan: variable "region": Invalid value for variable: Unsupported region.',
      );
      // The var file's line is the value itself: it is not shown.
      expect(logs.text()).not.toContain("mars");

      const byDefault = await failure(
        session.plan(
          planRequest(START, noState, new LogCollector(), {
            variableValues: [{ name: "region", value: "eu-west", sensitive: false }],
          }),
        ),
      );
      expect(byDefault.message).toBe(
        "plan terraform: terraform plan: main.tf:9: Invalid value for variable: No zones on Mars.",
      );
    } finally {
      await session.close();
    }
  });

  it("a failing apply still returns the partial state", async () => {
    const session = await open({
      "main.tf": `
resource "terraform_data" "made" {
  input = "kept"
}
resource "terraform_data" "fails" {
  input = terraform_data.made.output
  provisioner "local-exec" {
    command = "echo about to fail; exit 7"
  }
}
`,
    });
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      const logs = new LogCollector();
      const error = await failure(session.apply(applyRequest(START, noState, plan.plan, logs)));
      expect(error.code).toBe("TERRAFORM");
      expect(error.message).toBe(
        "apply terraform: terraform apply: main.tf:7: local-exec provisioner error: Error running command 'echo about to fail; exit 7': exit status 7. Output: about to fail",
      );
      const state = JSON.parse(stateText(error.state));
      const made = state.resources.find((r: { name: string }) => r.name === "made");
      expect(made.instances[0].attributes.output.value).toBe("kept");
      expect(logs.text()).toContain("(local-exec): about to fail");
      expect(
        logs.logs.some((l) => l.level === LogLevel.ERROR && l.output.includes("exit status 7")),
      ).toBe(true);
    } finally {
      await session.close();
    }
  });

  it("lines of any length reach the log sink intact (a 200 KB diagnostic)", async () => {
    // terraform's own local-exec reader drops long lines, so the long line is a diagnostic:
    // one -json line of ~200 KB whose detail must arrive whole.
    const long = "w".repeat(200_000);
    const session = await open({
      "main.tf": `
variable "x" {
  default = "toolong"
  validation {
    condition     = length(var.x) < 3
    error_message = "${long}."
  }
}
resource "terraform_data" "a" {
  input = var.x
}
`,
    });
    try {
      const logs = new LogCollector();
      const error = await failure(session.plan(planRequest(START, noState, logs)));
      expect(error.code).toBe("TERRAFORM");
      expect(logs.logs).toContainEqual({
        level: LogLevel.ERROR,
        output: "Error: main.tf:2: Invalid value for variable",
      });
      expect(logs.logs.some((l) => l.output.startsWith(`${long}.`))).toBe(true);
      // The error carries the detail's start, not all 200 KB of it.
      expect(error.message).toBe(
        `plan terraform: terraform plan: main.tf:2: Invalid value for variable: ${"w".repeat(300)}…`,
      );
    } finally {
      await session.close();
    }
  });
});

describe("init failures name terraform's reason", () => {
  let mirrored: Scratch;
  beforeAll(async () => {
    // The test mirror holds coder/coder only.
    const { mirrorDir } = await getOfflineTerraform();
    mirrored = scratchProvisioner({ providerMirror: mirrorDir });
  });
  afterAll(() => mirrored.cleanup());

  it("a provider missing from the mirror", async () => {
    const session = await open(
      {
        "main.tf":
          'terraform {\n  required_providers {\n    docker = { source = "kreuzwerker/docker" }\n  }\n}\n',
      },
      mirrored,
    );
    try {
      const error = await failure(session.plan(planRequest(START, noState, new LogCollector())));
      expect(error.code).toBe("TERRAFORM");
      expect(error.message).toBe(
        "plan terraform: terraform init: Failed to query available provider packages: Could not retrieve the list of available versions for provider kreuzwerker/docker: provider registry.terraform.io/kreuzwerker/docker was not found in any of the search locations",
      );
    } finally {
      await session.close();
    }
  });

  it("a module whose source needs the network says the mirror cannot serve it", async () => {
    const session = await open(
      {
        "main.tf": [
          'module "code_server" {\n  source = "git::https://git.invalid/modules.git"\n}\n',
          'module "vpc" {\n  source  = "registry.invalid/acme/vpc/aws"\n  version = "1.0.0"\n}\n',
        ].join(""),
      },
      mirrored,
    );
    try {
      const logs = new LogCollector();
      const error = await failure(session.plan(planRequest(START, noState, logs)));
      expect(error.code).toBe("TERRAFORM");
      const gitHint =
        'Module "code_server" (main.tf:1) is downloaded from "git::https://git.invalid/modules.git" by terraform init, and a provider mirror holds providers only, never modules: on a host without network access, put the module\'s files into the template and use a local path (source = "./modules/code_server").';
      expect(error.message).toMatch(
        /^plan terraform: terraform init: main\.tf:1: Failed to download module: Could not download module "code_server" \(main\.tf:1\) source code from "git::https:\/\/git\.invalid\/modules\.git"/,
      );
      expect(error.message, error.message).toContain(gitHint);
      expect(logs.logs).toContainEqual({ level: LogLevel.ERROR, output: gitHint });
      expect(
        logs.logs.some((l) =>
          l.output.startsWith(
            'Module "vpc" (main.tf:4) is downloaded from the module registry registry.invalid by terraform init',
          ),
        ),
      ).toBe(true);
    } finally {
      await session.close();
    }
  });
});

describe("cancellation", () => {
  it("a cancel during a local-exec sleep ends the job within the grace period, with state and no child left", async () => {
    const marker = `61.${Math.floor(Math.random() * 1e6)}`;
    const session = await open({
      "main.tf": `
resource "terraform_data" "first" {
  input = "done"
}
resource "terraform_data" "slow" {
  input = terraform_data.first.output
  provisioner "local-exec" {
    command = "echo started; sleep ${marker}"
  }
}
`,
    });
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      const logs = new LogCollector();
      const controller = new AbortController();
      const started = logs.waitFor((l) => l.output.endsWith("(local-exec): started"));
      const applying = session.apply(
        applyRequest(START, noState, plan.plan, logs, { signal: controller.signal }),
      );
      await started;
      await waitFor(() => processesWithArgument(marker).length > 0, "the sleep to start");
      const cancelledAt = Date.now();
      controller.abort();
      const error = await failure(applying);
      expect(error.code).toBe("CANCELED");
      // Graceful: terraform stopped on SIGINT; the 30 s grace period never ran out.
      expect(error.message).toContain("interrupted");
      expect(Date.now() - cancelledAt).toBeLessThan(30_000);
      expect(logs.text()).toContain("Interrupt received");
      const state = JSON.parse(stateText(error.state));
      expect(state.resources.map((r: { name: string }) => r.name)).toContain("first");
      await waitFor(() => processesWithArgument(marker).length === 0, "no sleep left behind");
    } finally {
      await session.close();
    }
  });

  it("an apply killed after a resource was created still returns the state terraform wrote", async () => {
    const marker = `62.${Math.floor(Math.random() * 1e6)}`;
    const session = await open({
      "main.tf": `
resource "terraform_data" "first" {
  input = "created"
}
resource "terraform_data" "slow" {
  input = terraform_data.first.output
  provisioner "local-exec" {
    command = "echo started; exec sleep ${marker}"
  }
}
`,
    });
    try {
      const plan = await session.plan(planRequest(START, noState, new LogCollector()));
      const logs = new LogCollector();
      const graceful = new AbortController();
      const kill = new AbortController();
      const started = logs.waitFor((l) => l.output.endsWith("(local-exec): started"));
      const applying = session.apply(
        applyRequest(START, noState, plan.plan, logs, {
          signal: graceful.signal,
          killSignal: kill.signal,
        }),
      );
      await started;
      await waitFor(() => processesWithArgument(marker).length > 0, "the sleep to start");
      // Forced at once, as a second Ctrl-C or the daemon's force path does: no SIGINT first.
      kill.abort();
      const error = await failure(applying);
      expect(error.code).toBe("CANCELED");
      expect(error.message).toContain("killed");
      const state = JSON.parse(stateText(error.state));
      const first = state.resources.find((r: { name: string }) => r.name === "first");
      expect(first.instances[0].attributes.output.value).toBe("created");
      await waitFor(() => processesWithArgument(marker).length === 0, "no sleep left behind");
    } finally {
      await session.close();
    }
  });

  it("kills terraform and its provider when the grace period ends", async () => {
    const base = scratchProvisioner();
    const hanging = createHangingProvider(base.root);
    const s = scratchProvisioner({ providerMirror: hanging.mirrorDir, cancelGracePeriodMs: 1500 });
    try {
      const session = await open({ "main.tf": hanging.template }, s);
      const controller = new AbortController();
      const planning = session.plan(
        planRequest(START, noState, new LogCollector(), { signal: controller.signal }),
      );
      // terraform has launched the provider, which will never answer.
      await waitFor(
        () => processesWithArgument(hanging.marker).length > 0,
        "the provider to start",
        30_000,
      );
      const cancelledAt = Date.now();
      controller.abort();
      const error = await failure(planning);
      expect(error.code).toBe("CANCELED");
      expect(error.message).toContain("killed after the cancel grace period");
      expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(1500);
      await waitFor(
        () => processesWithArgument(hanging.marker).length === 0,
        "the provider to be killed",
      );
      await session.close();
    } finally {
      s.cleanup();
      base.cleanup();
    }
  });

  it("the kill signal stops terraform at once", async () => {
    const base = scratchProvisioner();
    const hanging = createHangingProvider(base.root);
    const s = scratchProvisioner({
      providerMirror: hanging.mirrorDir,
      cancelGracePeriodMs: 600_000,
    });
    try {
      const session = await open({ "main.tf": hanging.template }, s);
      const graceful = new AbortController();
      const kill = new AbortController();
      const planning = session.plan(
        planRequest(START, noState, new LogCollector(), {
          signal: graceful.signal,
          killSignal: kill.signal,
        }),
      );
      await waitFor(
        () => processesWithArgument(hanging.marker).length > 0,
        "the provider to start",
        30_000,
      );
      graceful.abort();
      kill.abort();
      const error = await failure(planning);
      expect(error.code).toBe("CANCELED");
      expect(error.message).toContain("killed");
      await waitFor(
        () => processesWithArgument(hanging.marker).length === 0,
        "the provider to be killed",
      );
      await session.close();
    } finally {
      s.cleanup();
      base.cleanup();
    }
  });

  it("nothing starts after a cancel", async () => {
    const session = await open({ "main.tf": 'resource "terraform_data" "x" {}\n' });
    try {
      const controller = new AbortController();
      controller.abort();
      const logs = new LogCollector();
      const error = await failure(
        session.plan(planRequest(START, noState, logs, { signal: controller.signal })),
      );
      expect(error.code).toBe("CANCELED");
      expect(error.message).toContain("canceled before it started");
      expect(existsSync(join(session.directory, ".terraform"))).toBe(false);
    } finally {
      await session.close();
    }
  });
});
