// coderd's side of one job, in-process, for `provisionerd build`: log lines go to the progress
// printer, the template's variables and parameter schemas are resolved from the command line,
// quota always allows (there is no quota locally), and the terminal message becomes the result.
import type { JobCoordinator } from "../daemon/coordinator.js";
import type {
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  FailedJob,
  Log,
  ParameterValue,
  UpdateJobRequest,
  UpdateJobResponse,
  VariableValue,
} from "../provisioner/model.js";

export type JobOutcome =
  | { kind: "completed"; job: CompletedJob }
  | { kind: "failed"; job: FailedJob };

/** What the template asks for at import time, answered by whoever runs the build. */
export type ImportValuesResolver = (request: UpdateJobRequest) => Promise<{
  parameterValues: ParameterValue[];
  variableValues: VariableValue[];
}>;

export interface LocalCoordinatorOptions {
  onLog: (log: Log) => void;
  /** Called when an update carries parameter schemas or template variables (template import). */
  resolveImportValues?: ImportValuesResolver;
  /** Aborted when the user asks to cancel (Ctrl-C): reported as `canceled` like coderd does. */
  cancelSignal?: AbortSignal;
}

export class LocalCoordinator implements JobCoordinator {
  readonly #options: LocalCoordinatorOptions;
  readonly #outcome: Promise<JobOutcome>;
  #settle!: (outcome: JobOutcome) => void;
  #settled = false;
  #readme: Uint8Array | undefined;

  constructor(options: LocalCoordinatorOptions) {
    this.#options = options;
    this.#outcome = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  /** The job's terminal message, once the runner sent it. */
  get outcome(): Promise<JobOutcome> {
    return this.#outcome;
  }

  /** The template's README.md, if the import sent one. */
  get readme(): Uint8Array | undefined {
    return this.#readme;
  }

  async updateJob(request: UpdateJobRequest, signal: AbortSignal): Promise<UpdateJobResponse> {
    signal.throwIfAborted();
    for (const log of request.logs) this.#options.onLog(log);
    if (request.readme.length > 0) this.#readme = request.readme;
    const response: UpdateJobResponse = {
      canceled: this.#options.cancelSignal?.aborted ?? false,
      parameterValues: [],
      variableValues: [],
    };
    const asks = request.parameterSchemas.length > 0 || request.templateVariables.length > 0;
    if (asks && this.#options.resolveImportValues) {
      Object.assign(response, await this.#options.resolveImportValues(request));
    }
    return response;
  }

  async commitQuota(
    request: CommitQuotaRequest,
    signal: AbortSignal,
  ): Promise<CommitQuotaResponse> {
    signal.throwIfAborted();
    // No quota on a local machine: the cost is reported and always allowed (-1 = unlimited).
    return { ok: true, creditsConsumed: request.dailyCost, budget: -1 };
  }

  async failJob(request: FailedJob, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#finish({ kind: "failed", job: request });
  }

  async completeJob(request: CompletedJob, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#finish({ kind: "completed", job: request });
  }

  #finish(outcome: JobOutcome): void {
    // One terminal message per job, as coderd enforces; a repeat (a retried send) is ignored.
    if (this.#settled) return;
    this.#settled = true;
    this.#settle(outcome);
  }
}
