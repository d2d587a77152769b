// coderd v2 (provisioner daemon API 1.x) on the API 1.18 messages. Jobs come from
// AcquireJobWithCancel: one stream per wanted job, on which coderd sends exactly one AcquiredJob
// when it has locked a job for us (it blocks until then), or an empty one after we send
// CancelAcquire. The unary AcquireJob is deprecated (coderd long-polls it for 5 s).
import { createHash } from "node:crypto";
import type { DrpcClient, DrpcClientCall } from "../transport/drpc.js";
import { DrpcRemoteError, ProtocolError } from "../transport/errors.js";
import { decodeResponse, encodeRequest, methodPath, unaryCall } from "../typed-call.js";
import { DataUploadType, FileUpload } from "./gen/provisioner.js";
import {
  AcquiredJob,
  CancelAcquire,
  CommitQuotaRequest,
  CommitQuotaResponse,
  CompletedJob,
  Empty,
  FailedJob,
  FileRequest,
  UpdateJobRequest,
  UpdateJobResponse,
} from "./gen/provisionerd.js";

/** Chunk size of file transfers, and the largest file coderd takes. */
export const FILE_CHUNK_BYTES = 2 * 1024 * 1024;
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

/** One pending AcquireJobWithCancel call. */
export interface AcquireWithCancel {
  /**
   * The one AcquiredJob coderd sends: a job (jobId set), or an empty one after cancel(). Even
   * after cancel() it may be a real job (coderd had locked it already): run it.
   */
  readonly job: Promise<AcquiredJob>;
  /** Asks coderd to stop waiting (sends CancelAcquire); `job` settles soon after. Idempotent. */
  cancel(): Promise<void>;
}

/** A downloaded file failed its checks (size, hash, order) or coderd reported an error. */
export class FileTransferError extends Error {
  override readonly name = "FileTransferError";
}

export class CoderdV2Client {
  private readonly drpc: DrpcClient;

  constructor(drpc: DrpcClient) {
    this.drpc = drpc;
  }

  /**
   * Opens an AcquireJobWithCancel stream. Aborting `signal` drops the stream without a dRPC
   * frame (coderd then fails a job it had locked but not yet sent): prefer cancel() to stop
   * waiting, and keep `signal` for giving up on the connection.
   */
  async acquireJobWithCancel(signal?: AbortSignal): Promise<AcquireWithCancel> {
    const path = methodPath("AcquireJobWithCancel");
    const call = await this.drpc.call(path, signal);
    let cancelled: Promise<void> | undefined;
    const job = receiveOneJob(call, path);
    return {
      job,
      cancel: () => {
        cancelled ??= call.send(encodeRequest(CancelAcquire, {})).catch(() => undefined);
        return cancelled;
      },
    };
  }

  /** Deprecated by coderd; for a coderd that does not implement AcquireJobWithCancel. */
  acquireJob(signal?: AbortSignal): Promise<AcquiredJob> {
    return unaryCall(this.drpc, "AcquireJob", Empty, AcquiredJob, {}, signal);
  }

  updateJob(request: UpdateJobRequest, signal?: AbortSignal): Promise<UpdateJobResponse> {
    return unaryCall(this.drpc, "UpdateJob", UpdateJobRequest, UpdateJobResponse, request, signal);
  }

  async failJob(failed: FailedJob, signal?: AbortSignal): Promise<void> {
    await unaryCall(this.drpc, "FailJob", FailedJob, Empty, failed, signal);
  }

  async completeJob(completed: CompletedJob, signal?: AbortSignal): Promise<void> {
    await unaryCall(this.drpc, "CompleteJob", CompletedJob, Empty, completed, signal);
  }

  commitQuota(request: CommitQuotaRequest, signal?: AbortSignal): Promise<CommitQuotaResponse> {
    return unaryCall(
      this.drpc,
      "CommitQuota",
      CommitQuotaRequest,
      CommitQuotaResponse,
      request,
      signal,
    );
  }

  /**
   * Uploads a terraform modules archive: DataUpload (sha256, size, chunk count), then 2 MiB
   * pieces. Returns the sha256 that CompletedJob's module_files_hash names.
   */
  async uploadModuleFiles(data: Buffer, signal?: AbortSignal): Promise<Buffer> {
    if (data.length > MAX_FILE_BYTES) {
      throw new FileTransferError(
        `module files of ${data.length} bytes exceed coderd's limit of ${MAX_FILE_BYTES} bytes`,
      );
    }
    const hash = createHash("sha256").update(data).digest();
    const messages = fileMessages(data, hash);
    const path = methodPath("UploadFile");
    const response = await this.drpc.clientStream(path, messages, signal);
    decodeResponse(Empty, response, path);
    return hash;
  }

  /** Downloads a file coderd holds, checking size, order and sha256. */
  async downloadFile(request: FileRequest, signal?: AbortSignal): Promise<Buffer> {
    const path = methodPath("DownloadFile");
    const stream = this.drpc.serverStream(path, encodeRequest(FileRequest, request), signal);
    return assembleFile(stream, path);
  }
}

async function receiveOneJob(call: DrpcClientCall, path: string): Promise<AcquiredJob> {
  try {
    const bytes = await call.receive();
    if (bytes === undefined) {
      throw new ProtocolError(`${path}: coderd closed the stream without an AcquiredJob`);
    }
    const job = decodeResponse(AcquiredJob, bytes, path);
    // coderd follows the job with Close; read it so the stream ends cleanly, then FIN.
    while ((await call.receive()) !== undefined) {
      // exactly one AcquiredJob per call; more would be ignored
    }
    await call.close();
    return job;
  } catch (error) {
    if (error instanceof DrpcRemoteError) await call.close();
    else call.abort();
    throw error;
  }
}

function* fileMessages(data: Buffer, hash: Buffer): Generator<Uint8Array> {
  const chunks = Math.ceil(data.length / FILE_CHUNK_BYTES);
  yield encodeRequest(FileUpload, {
    type: {
      $case: "dataUpload",
      value: {
        uploadType: DataUploadType.UPLOAD_TYPE_MODULE_FILES,
        dataHash: hash,
        fileSize: data.length,
        chunks,
      },
    },
  });
  for (let index = 0; index < chunks; index++) {
    yield encodeRequest(FileUpload, {
      type: {
        $case: "chunkPiece",
        value: {
          data: data.subarray(index * FILE_CHUNK_BYTES, (index + 1) * FILE_CHUNK_BYTES),
          fullDataHash: hash,
          pieceIndex: index,
        },
      },
    });
  }
}

async function assembleFile(stream: AsyncIterable<Buffer>, path: string): Promise<Buffer> {
  let header: { hash: Buffer; size: number; chunks: number } | undefined;
  const pieces: Buffer[] = [];
  let received = 0;
  let failure: string | undefined;
  for await (const bytes of stream) {
    const message = decodeResponse(FileUpload, bytes, path).type;
    if (message === undefined) throw new FileTransferError(`${path}: an empty FileUpload`);
    // coderd reports a failed download as a message and then ends the stream normally; read to
    // the end so the call closes as coderd expects.
    if (failure !== undefined) continue;
    if (message.$case === "error") {
      failure = message.value.error;
      continue;
    }
    if (message.$case === "dataUpload") {
      const { dataHash, fileSize, chunks } = message.value;
      if (header !== undefined) throw new FileTransferError(`${path}: a second DataUpload`);
      if (dataHash.length !== 32) throw new FileTransferError(`${path}: hash is not 32 bytes`);
      if (fileSize < 0 || fileSize > MAX_FILE_BYTES) {
        throw new FileTransferError(`${path}: file size ${fileSize} out of range`);
      }
      if (chunks > Math.ceil(fileSize / FILE_CHUNK_BYTES)) {
        throw new FileTransferError(`${path}: ${chunks} chunks for ${fileSize} bytes`);
      }
      header = { hash: dataHash, size: fileSize, chunks };
      continue;
    }
    const piece = message.value;
    if (header === undefined) throw new FileTransferError(`${path}: a chunk before DataUpload`);
    if (!piece.fullDataHash.equals(header.hash)) {
      throw new FileTransferError(`${path}: chunk ${piece.pieceIndex} names another file`);
    }
    if (piece.pieceIndex !== pieces.length) {
      throw new FileTransferError(
        `${path}: chunk ${piece.pieceIndex} arrived where ${pieces.length} was due`,
      );
    }
    // Checked as the pieces come, so a sender that goes on never makes us hold more than it said.
    received += piece.data.length;
    if (pieces.length >= header.chunks || received > header.size) {
      throw new FileTransferError(
        `${path}: chunk ${piece.pieceIndex} goes beyond the announced ${header.chunks} chunks / ${header.size} bytes`,
      );
    }
    pieces.push(piece.data);
  }
  if (failure !== undefined) throw new FileTransferError(`${path}: coderd: ${failure}`);
  if (header === undefined) throw new FileTransferError(`${path}: no DataUpload`);
  const data = Buffer.concat(pieces);
  if (pieces.length !== header.chunks || data.length !== header.size) {
    throw new FileTransferError(
      `${path}: received ${pieces.length} chunks / ${data.length} bytes, announced ${header.chunks} / ${header.size}`,
    );
  }
  if (!createHash("sha256").update(data).digest().equals(header.hash)) {
    throw new FileTransferError(`${path}: sha256 of the received file does not match`);
  }
  return data;
}
