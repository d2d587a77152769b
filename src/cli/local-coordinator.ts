// coderd's side of one job, in-process, for `provisionerd build`: log lines go to the progress
// printer, the template's variables and parameter schemas are resolved from the command line,
// quota always allows (there is no quota locally); the job's result is what the runner returns.
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

/** What the template asks for at import time, answered by whoever runs the build. */
export type ImportValuesResolver = (request: UpdateJobRequest) => Promise<{
  parameterValues: ParameterValue[];
  variableValues: VariableValue[];
}>;

export interface LocalCoordinatorOptions {
  onLog: (log: Log) => void;
  /** The template's workspace tags, which a template import reports in an update. */
  onWorkspaceTags?: (tags: Record<string, string>) => void;
  /** Called when an update carries parameter schemas or template variables (template import). */
  resolveImportValues?: ImportValuesResolver;
  /** Aborted when the user asks to cancel (Ctrl-C): reported as `canceled` like coderd does. */
  cancelSignal?: AbortSignal;
}

export class LocalCoordinator implements JobCoordinator {
  readonly #options: LocalCoordinatorOptions;

  constructor(options: LocalCoordinatorOptions) {
    this.#options = options;
  }

  async updateJob(request: UpdateJobRequest, signal: AbortSignal): Promise<UpdateJobResponse> {
    signal.throwIfAborted();
    for (const log of request.logs) this.#options.onLog(log);
    if (Object.keys(request.workspaceTags).length > 0) {
      this.#options.onWorkspaceTags?.({ ...request.workspaceTags });
    }
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

  // The runner returns the job's result itself; the terminal message only ends the exchange.
  async failJob(_request: FailedJob, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
  }

  async completeJob(_request: CompletedJob, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
  }
}
