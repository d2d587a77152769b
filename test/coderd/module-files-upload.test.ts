// When a template import's module files go by UploadFile instead of inline in CompleteJob: only
// when they are what makes CompleteJob larger than one dRPC message, as Coder's daemon decides.
import { describe, expect, it } from "vitest";
import {
  completedJobToV2,
  moduleFilesToUpload,
  withUploadedModuleFiles,
} from "../../src/coderd/adapters/v2-mapping.js";
import * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { CompletedJob, CompletedJob_TemplateImport } from "../../src/provisioner/model.js";

function importWith(moduleFiles: Buffer): v2.CompletedJob {
  return completedJobToV2(
    CompletedJob.create({
      jobId: "0b5a5f5e-1111-4222-8333-944445555666",
      type: {
        $case: "templateImport",
        value: CompletedJob_TemplateImport.create({ moduleFiles, plan: Buffer.from("{}") }),
      },
    }),
  );
}

describe("module files by upload", () => {
  it("keeps files inline while CompleteJob fits in one message", () => {
    const completed = importWith(Buffer.alloc(1000, 7));
    const size = v2.CompletedJob.encode(completed).finish().length;
    expect(moduleFilesToUpload(completed, size)).toBeUndefined();
  });

  it("uploads them when CompleteJob would be one byte too large", () => {
    const files = Buffer.alloc(1000, 7);
    const completed = importWith(files);
    const size = v2.CompletedJob.encode(completed).finish().length;
    expect(moduleFilesToUpload(completed, size - 1)?.equals(files)).toBe(true);
  });

  it("never uploads an empty archive or another job's result", () => {
    expect(moduleFilesToUpload(importWith(Buffer.alloc(0)), 0)).toBeUndefined();
    const build = completedJobToV2(
      CompletedJob.create({
        jobId: "j",
        type: { $case: "workspaceBuild", value: { state: Buffer.alloc(10), resources: [] } },
      }),
    );
    expect(moduleFilesToUpload(build, 0)).toBeUndefined();
  });

  it("sends the hash in place of uploaded files, the rest unchanged", () => {
    const completed = importWith(Buffer.alloc(1000, 7));
    const hash = Buffer.alloc(32, 1);
    const sent = withUploadedModuleFiles(completed, hash);
    const type = sent.type;
    if (type?.$case !== "templateImport") throw new Error("not an import");
    expect(type.value.moduleFiles.length).toBe(0);
    expect(type.value.moduleFilesHash.equals(hash)).toBe(true);
    expect(type.value.plan.toString()).toBe("{}");
  });
});
