// `provisionerd build --plan-only`: the template dry run the daemon runs for coderd, with the
// build's values and, when there is one, the workspace's state, so that each resource's planned
// action says what a start would do to this workspace. Nothing is applied and the state file is
// not written. The dry run's message to coderd carries only resources; the planned actions and
// outputs are read from the provisioner's plan result, which this wrapper keeps.
import type {
  PlannedChange,
  PlannedOutput,
  PlanRequest,
  Provisioner,
  ProvisionSession,
} from "../provisioner/provisioner.js";

export interface PlanDetails {
  changes: PlannedChange[];
  outputs: PlannedOutput[];
}

/**
 * A provisioner whose plans start from `state` (a dry run carries none) and whose last plan's
 * changes and outputs are kept for `details()`.
 */
export function previewProvisioner(inner: Provisioner, state: Uint8Array) {
  let details: PlanDetails | undefined;
  const provisioner: Provisioner = {
    type: inner.type,
    async open(options) {
      const session = await inner.open(options);
      const preview: ProvisionSession = {
        directory: session.directory,
        readme: () => session.readme(),
        parse: (control) => session.parse(control),
        apply: (request) => session.apply(request),
        close: () => session.close(),
        async plan(request: PlanRequest) {
          const withState =
            request.config.state.byteLength > 0
              ? request
              : { ...request, config: { ...request.config, state } };
          const result = await session.plan(withState);
          details = { changes: result.changes ?? [], outputs: result.outputs ?? [] };
          return result;
        },
      };
      return preview;
    },
  };
  return { provisioner, details: () => details };
}

/**
 * Each resource's planned action, matched by type and name in address order (the resources of
 * a counted block come in that order too), and the changes no resource shows: deletions.
 */
export function resourceActions(
  resources: ReadonlyArray<{ type: string; name: string }>,
  changes: readonly PlannedChange[],
): { actions: Array<PlannedChange["action"] | undefined>; removed: PlannedChange[] } {
  const pending = [...changes].sort((a, b) =>
    a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
  );
  const actions = resources.map((resource) => {
    const index = pending.findIndex(
      (change) => change.type === resource.type && change.name === resource.name,
    );
    if (index < 0) return undefined;
    const [change] = pending.splice(index, 1);
    return change?.action;
  });
  return { actions, removed: pending.filter((change) => change.action === "delete") };
}

/** An output as the table shows it; a sensitive value is masked, an unknown one said so. */
export function outputText(output: PlannedOutput, mask: string): string {
  if (output.sensitive) return mask;
  if (!output.known) return "(known after apply)";
  return JSON.stringify(output.value);
}
