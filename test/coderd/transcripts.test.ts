// Replays the server side of every captured Go client ↔ coderd session to our client, and checks
// that our client sends the same dRPC frames (byte for byte, per yamux stream), the same yamux
// control frames (SYN, FIN, ping answers), and returns what the server sent. yamux Data framing
// may differ (how bytes are grouped into frames carries no meaning); stream ids are the same
// because both clients open streams 1, 3, 5, … in call order.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DrpcClient } from "../../src/coderd/transport/drpc.js";
import { Kind } from "../../src/coderd/transport/drpc-wire.js";
import { DrpcRemoteError } from "../../src/coderd/transport/errors.js";
import {
  Flag,
  FrameType,
  YAMUX_HEADER_SIZE,
  YamuxSession,
} from "../../src/coderd/transport/yamux.js";
import { CoderdV2Client, FileTransferError } from "../../src/coderd/v2/client.js";
import { FileUpload } from "../../src/coderd/v2/gen/provisioner.js";
import * as v2 from "../../src/coderd/v2/gen/provisionerd.js";
import { CoderdV017Client } from "../../src/coderd/v017/client.js";
import * as v017 from "../../src/coderd/v017/gen/provisionerd.js";
import { sharedData } from "../helpers/shared-data.js";
import { linkPair } from "./link-pair.js";
import {
  cloneProgress,
  emptyProgress,
  type Line,
  load,
  type RecordedCall,
  recordedCalls,
  SideCapture,
} from "./transcript-data.js";

type Layout = "v0.17.4" | "v2-api-1.18";

/** Starts the call the Go client made, through our typed clients; resolves with what it got. */
function startCall(
  layout: Layout,
  call: RecordedCall,
  drpc: DrpcClient,
): { result: Promise<Uint8Array | Error>; afterStart?: () => void } {
  const name = call.method.slice(call.method.lastIndexOf("/") + 1);
  const settle = (p: Promise<Uint8Array>) =>
    p.then(
      (r) => r,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
  const request = call.requests[0] ?? Buffer.alloc(0);
  const pb = layout === "v0.17.4" ? v017 : v2;
  const client = layout === "v0.17.4" ? new CoderdV017Client(drpc) : new CoderdV2Client(drpc);
  switch (name) {
    case "AcquireJob":
      return {
        result: settle(client.acquireJob().then((j) => pb.AcquiredJob.encode(j as never).finish())),
      };
    case "UpdateJob":
      return {
        result: settle(
          client
            .updateJob(pb.UpdateJobRequest.decode(request) as never)
            .then((r) => pb.UpdateJobResponse.encode(r as never).finish()),
        ),
      };
    case "FailJob":
      return {
        result: settle(
          client.failJob(pb.FailedJob.decode(request) as never).then(() => new Uint8Array()),
        ),
      };
    case "CompleteJob":
      return {
        result: settle(
          client.completeJob(pb.CompletedJob.decode(request) as never).then(() => new Uint8Array()),
        ),
      };
    case "CommitQuota":
      return {
        result: settle(
          client
            .commitQuota(pb.CommitQuotaRequest.decode(request) as never)
            .then((r) => pb.CommitQuotaResponse.encode(r as never).finish()),
        ),
      };
    case "AcquireJobWithCancel": {
      const v2client = client as CoderdV2Client;
      if (call.requests.length === 1) {
        // CancelAcquire right away: the server's answer waits for it.
        return {
          result: settle(
            v2client.acquireJobWithCancel().then(async (a) => {
              await a.cancel();
              return v2.AcquiredJob.encode(await a.job).finish();
            }),
          ),
        };
      }
      if (call.closeSend) {
        return {
          result: settle(
            drpc.call(call.method).then(async (c) => {
              await c.closeSend();
              const job = await c.receive();
              while ((await c.receive()) !== undefined) {
                // until Close
              }
              await c.close();
              return job ?? new Uint8Array();
            }),
          ),
        };
      }
      if (!call.responses.some((p) => p.kind === Kind.Message)) {
        // The caller gives up: the stream is dropped without a dRPC frame.
        const controller = new AbortController();
        return {
          result: settle(
            v2client.acquireJobWithCancel(controller.signal).then(async (a) => {
              await new Promise((r) => setTimeout(r, 20));
              controller.abort(new Error("context canceled"));
              return v2.AcquiredJob.encode(await a.job).finish();
            }),
          ),
        };
      }
      return {
        result: settle(
          v2client
            .acquireJobWithCancel()
            .then(async (a) => v2.AcquiredJob.encode(await a.job).finish()),
        ),
      };
    }
    case "UploadFile": {
      // Rebuild the file from the recorded pieces; our client must cut it the same way.
      const pieces = call.requests.slice(1).map((r) => {
        const m = FileUpload.decode(r).type;
        if (m?.$case !== "chunkPiece") throw new Error("expected a chunk");
        return m.value.data;
      });
      return {
        result: settle(
          (client as CoderdV2Client)
            .uploadModuleFiles(Buffer.concat(pieces))
            .then(() => new Uint8Array()),
        ),
      };
    }
    case "DownloadFile":
      return {
        result: settle((client as CoderdV2Client).downloadFile(v2.FileRequest.decode(request))),
      };
    default:
      return { result: settle(drpc.unary(call.method, request)) };
  }
}

async function replay(layout: Layout, lines: Line[]) {
  const [clientLink, serverLink] = linkPair();
  const capture = new SideCapture();
  serverLink.deliver = (bytes) => capture.push(bytes);
  const pings = lines.some(
    (l) =>
      l.layer === "yamux" &&
      l.dir === "c2s" &&
      l.decoded.type === FrameType.Ping &&
      (l.decoded.flags as number) & Flag.SYN,
  );
  const session = new YamuxSession(clientLink, {
    role: "client",
    // Go pings after 30 s; the replay only needs the client to ping once, soon.
    keepaliveIntervalMs: pings ? 30 : 0,
    keepaliveTimeoutMs: 10_000,
  });
  clientLink.deliver = (bytes) => session.receive(bytes);
  const drpc = new DrpcClient(session);
  const calls = recordedCalls(lines);
  const started = calls.map((call) => ({ call, ...startCall(layout, call, drpc) }));

  // Replay the server's yamux frames, each once the client has sent what preceded it.
  const need = emptyProgress();
  for (const line of lines) {
    if (line.layer === "drpc" && line.dir === "c2s") {
      const stream = line.decoded.yamux_stream as number;
      need.drpc.set(stream, (need.drpc.get(stream) ?? 0) + 1);
    }
    if (line.layer === "yamux" && line.dir === "c2s") {
      const flags = line.decoded.flags as number;
      if (flags & Flag.FIN) need.fin.add(line.decoded.stream_id as number);
      if (line.decoded.type === FrameType.Ping && flags & Flag.SYN) need.pingSyn++;
      if (line.decoded.type === FrameType.Ping && flags & Flag.ACK) need.pingAck++;
    }
    if (line.layer === "yamux" && line.dir === "s2c") {
      if (line.decoded.note !== undefined && String(line.decoded.note).startsWith("INCOMPLETE"))
        break;
      await capture.until(cloneProgress(need), `line ${line.t}`);
      serverLink.send(Buffer.from(line.hex, "hex"));
    }
  }
  await capture.until(need, "the end");
  const results = await Promise.all(started.map((s) => s.result));
  session.close();
  return { capture, calls, results };
}

function expectedFrames(lines: Line[]) {
  const frames = new Map<number, string[]>();
  const control: string[] = [];
  for (const line of lines) {
    if (line.dir !== "c2s") continue;
    if (line.layer === "drpc") {
      const stream = line.decoded.yamux_stream as number;
      frames.set(stream, [...(frames.get(stream) ?? []), line.hex]);
    }
    if (line.layer === "yamux" && (line.decoded.flags as number) !== 0) {
      control.push(line.hex.slice(0, YAMUX_HEADER_SIZE * 2));
    }
  }
  return { frames, control };
}

for (const layout of ["v0.17.4", "v2-api-1.18"] as const) {
  const dir = sharedData(`coderd-wire/transcripts/${layout}`);
  describe.skipIf(!dir.ok)(`replaying coderd ${layout} transcripts to our client`, () => {
    const files = dir.ok
      ? readdirSync(dir.path)
          .filter(
            (f) => f.endsWith(".jsonl") && !f.startsWith("refusal-") && !f.startsWith("upgrade"),
          )
          .sort()
      : [];
    it("finds the transcripts", () => {
      expect(files.length).toBeGreaterThan(10);
    });
    for (const file of files) {
      it(file, async () => {
        const lines = load(join(dir.path, file));
        const { capture, calls, results } = await replay(layout, lines);
        const expected = expectedFrames(lines);
        // The same dRPC frames, byte for byte, on each yamux stream.
        expect(Object.fromEntries(capture.frames)).toEqual(Object.fromEntries(expected.frames));
        // The same yamux control frames (SYN, FIN, ping SYN/ACK); a ping's value is ours.
        const normalise = (hex: string) => (hex.startsWith("0002") ? hex.slice(0, 16) : hex);
        expect(capture.control.map(normalise).sort()).toEqual(
          expected.control.map(normalise).sort(),
        );
        // What each call returned is what the server sent.
        calls.forEach((call, i) => {
          const result = results[i];
          const error = call.responses.find((p) => p.kind === Kind.Error);
          const message = call.responses.find((p) => p.kind === Kind.Message);
          if (error !== undefined && message === undefined) {
            expect(result).toBeInstanceOf(DrpcRemoteError);
            const code = error.data.readBigUInt64BE(0);
            expect(result).toMatchObject({
              code,
              message: error.data.subarray(8).toString("utf8"),
            });
            return;
          }
          if (call.method.endsWith("/DownloadFile") && message !== undefined) {
            const first = FileUpload.decode(message.data).type;
            if (first?.$case === "error") {
              expect(result).toBeInstanceOf(FileTransferError);
              expect(String((result as Error).message)).toContain(first.value.error);
              return;
            }
            const chunks = call.responses
              .filter((p) => p.kind === Kind.Message)
              .slice(1)
              .map((p) => {
                const m = FileUpload.decode(p.data).type;
                return m?.$case === "chunkPiece" ? m.value.data : Buffer.alloc(0);
              });
            expect(Buffer.from(result as Uint8Array)).toEqual(Buffer.concat(chunks));
            return;
          }
          if (call.method.endsWith("/AcquireJobWithCancel") && message === undefined) {
            expect(result).toBeInstanceOf(Error);
            expect((result as Error).message).toBe("context canceled");
            return;
          }
          if (result instanceof Error) throw result;
          expect(Buffer.from(result as Uint8Array).toString("hex")).toBe(
            call.method.endsWith("/FailJob") ||
              call.method.endsWith("/CompleteJob") ||
              call.method.endsWith("/UploadFile")
              ? ""
              : (message?.data.toString("hex") ?? ""),
          );
        });
      });
    }
  });
}
