// A provisioner for daemon tests that do not need Terraform: it keeps the contract (real work
// dirs, log sinks with back-pressure, graceful cancel vs kill, partial state on failure) and
// lets each test script what plan and apply do.
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  LogLevel,
  type Resource,
  WorkspaceTransition,
  workspaceTransitionToJSON,
} from "../../../src/provisioner/model.js";
import {
  type ApplyRequest,
  type ApplyResult,
  type CallControl,
  type OpenSessionOptions,
  type ParseResult,
  type PlanRequest,
  type PlanResult,
  ProvisionError,
  type Provisioner,
  type ProvisionSession,
} from "../../../src/provisioner/provisioner.js";

export interface ScriptCall {
  method: "open" | "readme" | "parse" | "plan" | "apply" | "close";
  jobId: string;
  slot: number;
  transition?: WorkspaceTransition;
  request?: PlanRequest | ApplyRequest;
}

export interface Script {
  readme?: string;
  parse?: ParseResult;
  /** Lines each plan/apply writes (through the sink, honouring back-pressure). */
  planLines?: number;
  applyLines?: number;
  resources?: Resource[];
  /** Plan waits until canceled (graceful) and then fails with CANCELED. */
  planWaitsForCancel?: boolean;
  /** Apply waits until canceled and fails with CANCELED and partial state. */
  applyWaitsForCancel?: boolean;
  /** Apply ignores graceful cancel and only stops when killed. */
  applyIgnoresCancel?: boolean;
  /** Apply fails with this message and partial state. */
  applyFails?: string;
  /** Plan fails with this ProvisionError. */
  planFails?: { message: string; code: ProvisionError["code"] };
  /** Apply waits for this promise before finishing (killed meanwhile: fails with partial state). */
  applyGate?: Promise<void>;
  /** Called when an apply starts. */
  onApplyStart?: (jobId: string) => void;
  rich?: PlanResult["parameters"];
}

export function resource(name: string, dailyCost = 0): Resource {
  return {
    name,
    type: "null_resource",
    agents: [],
    metadata: [],
    hide: false,
    icon: "",
    modulePath: "",
    instanceType: "",
    dailyCost,
  };
}

async function emit(control: CallControl, count: number, prefix: string): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const wait = control.onLog({ level: LogLevel.INFO, output: `${prefix} line ${i}` });
    if (wait) await wait;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

export class ScriptProvisioner implements Provisioner {
  readonly type: string;
  readonly calls: ScriptCall[] = [];
  readonly workDirs: string[] = [];
  script: Script;
  /** Most log lines any single call had written while the sink was still holding them. */
  constructor(script: Script = {}, type = "terraform") {
    this.script = script;
    this.type = type;
  }

  async open(options: OpenSessionOptions): Promise<ProvisionSession> {
    this.calls.push({ method: "open", jobId: options.jobId, slot: options.slot });
    const text = Buffer.from(options.archive).toString("utf8");
    if (text.startsWith("CORRUPT")) {
      throw new ProvisionError("read template source archive: unexpected end of data", {
        code: "ARCHIVE",
      });
    }
    const directory = await mkdtemp(join(tmpdir(), `script-prov-${options.slot}-`));
    this.workDirs.push(directory);
    const record = (method: ScriptCall["method"], extra: Partial<ScriptCall> = {}) =>
      this.calls.push({ method, jobId: options.jobId, slot: options.slot, ...extra });
    const script = () => this.script;
    let closed = false;
    return {
      directory,
      readme: async () => {
        record("readme");
        return script().readme === undefined ? undefined : Buffer.from(script().readme as string);
      },
      parse: async (control) => {
        record("parse");
        await emit(control, 1, "parse");
        return script().parse ?? { templateVariables: [], parameterSchemas: [] };
      },
      plan: async (request) => {
        const transition = request.config.metadata.workspaceTransition;
        record("plan", { transition, request });
        const s = script();
        await emit(request, s.planLines ?? 2, `plan ${workspaceTransitionToJSON(transition)}`);
        if (s.planFails) throw new ProvisionError(s.planFails.message, { code: s.planFails.code });
        if (s.planWaitsForCancel) {
          await untilAborted(request.signal);
          throw new ProvisionError("terraform plan: context canceled", { code: "CANCELED" });
        }
        return {
          resources: s.resources ?? [resource("dev")],
          parameters: s.rich ?? [],
          gitAuthProviders: [],
          plan: Buffer.from(`plan:${workspaceTransitionToJSON(transition)}`),
        };
      },
      apply: async (request) => {
        const transition = request.config.metadata.workspaceTransition;
        record("apply", { transition, request });
        const s = script();
        s.onApplyStart?.(options.jobId);
        await emit(request, s.applyLines ?? 2, `apply ${workspaceTransitionToJSON(transition)}`);
        const prior = Buffer.from(request.config.state).toString();
        const partial = Buffer.from(`partial-after:${prior}`);
        if (s.applyFails)
          throw new ProvisionError(s.applyFails, { code: "TERRAFORM", state: partial });
        if (s.applyIgnoresCancel) {
          await untilAborted(request.killSignal as AbortSignal);
          throw new ProvisionError("terraform apply: killed", { code: "CANCELED", state: partial });
        }
        if (s.applyWaitsForCancel) {
          await untilAborted(request.signal);
          throw new ProvisionError("terraform apply: interrupted", {
            code: "CANCELED",
            state: partial,
          });
        }
        if (s.applyGate) {
          const kill = request.killSignal;
          await Promise.race([s.applyGate, ...(kill ? [untilAborted(kill)] : [])]);
          if (kill?.aborted)
            throw new ProvisionError("terraform apply: killed", {
              code: "CANCELED",
              state: partial,
            });
        }
        const result: ApplyResult = {
          state: Buffer.from(`state:${workspaceTransitionToJSON(transition)}:${prior}`),
          resources:
            transition === WorkspaceTransition.DESTROY ? [] : (s.resources ?? [resource("dev")]),
        };
        return result;
      },
      close: async () => {
        if (closed) return;
        closed = true;
        record("close");
        await rm(directory, { recursive: true, force: true });
      },
    };
  }

  /** As terraform's: the state file in a dead daemon's work dir. */
  async stateLeftIn(directory: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(join(directory, "terraform.tfstate")));
    } catch {
      return undefined;
    }
  }

  /** Work dirs that still exist (must be none once every job ended). */
  async leftoverWorkDirs(): Promise<string[]> {
    const left: string[] = [];
    for (const dir of this.workDirs) {
      try {
        await stat(dir);
        left.push(dir);
      } catch {
        // removed, as it should be
      }
    }
    return left;
  }
}
