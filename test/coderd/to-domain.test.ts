// Messages of any protocol reach the core through to-domain: by name, with the model's defaults
// for what a message lacks, and enum values the model has no member for refused, naming the field.
import { describe, expect, it } from "vitest";
import * as toDomain from "../../src/coderd/adapters/to-domain.js";
import { WorkspaceTransition } from "../../src/proto/provisioner.js";
import { AcquiredJob } from "../../src/proto/provisionerd.js";
import { UnrecognizedValueError } from "../../src/provisioner/model.js";
import { buildPayload } from "../fake-coderd/payloads.js";

const job = (transition: WorkspaceTransition) =>
  AcquiredJob.fromPartial({
    jobId: "j",
    templateSourceArchive: Buffer.from("tar"),
    type: buildPayload({ transition: transition as never, state: Buffer.from("s") }),
  });

describe("to-domain", () => {
  it("maps a gRPC job to an equal domain job", () => {
    const wire = job(WorkspaceTransition.STOP);
    expect(toDomain.acquiredJob(wire)).toEqual(wire);
  });

  it("refuses an enum value the model lacks, naming the field", () => {
    let error: unknown;
    try {
      toDomain.acquiredJob(job(WorkspaceTransition.UNRECOGNIZED));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnrecognizedValueError);
    expect((error as UnrecognizedValueError).field).toBe(
      "job.workspaceBuild.metadata.workspaceTransition",
    );
    expect((error as Error).message).toBe(
      "job.workspaceBuild.metadata.workspaceTransition: unrecognized value -1",
    );
  });

  it("gives fields a message lacks the model's defaults", () => {
    expect(toDomain.commitQuotaResponse({ ok: true })).toEqual({
      ok: true,
      creditsConsumed: 0,
      budget: 0,
    });
  });
});
