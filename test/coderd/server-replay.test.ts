// Replays the client side of every captured Go client ↔ coderd session to our dRPC server (the
// server side our fake coderd is built on), answering with what coderd answered, and checks that
// our server sends the same dRPC frames per stream and the same yamux ACKs and FINs.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DrpcHandlerError, DrpcServer } from "../../src/coderd/transport/drpc.js";
import { Kind } from "../../src/coderd/transport/drpc-wire.js";
import {
  Flag,
  FrameType,
  YAMUX_HEADER_SIZE,
  YAMUX_WINDOW,
  YamuxSession,
} from "../../src/coderd/transport/yamux.js";
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

/** A server that answers each call as coderd did in the capture. */
function scriptedServer(calls: RecordedCall[]): DrpcServer {
  const queues = new Map<string, RecordedCall[]>();
  for (const call of calls) queues.set(call.method, [...(queues.get(call.method) ?? []), call]);
  const server = new DrpcServer();
  for (const method of queues.keys()) {
    if (method.endsWith("/StreamAcquireJobs")) continue; // coderd does not serve it
    server.register(method, async (call) => {
      const recorded = queues.get(method)?.shift();
      if (recorded === undefined) throw new Error("unexpected call");
      for (let i = 0; i < recorded.requests.length; i++) await call.receive();
      const messages = recorded.responses.filter((p) => p.kind === Kind.Message);
      const error = recorded.responses.find((p) => p.kind === Kind.Error);
      if (error !== undefined && messages.length === 0) {
        throw new DrpcHandlerError(
          error.data.readBigUInt64BE(0),
          error.data.subarray(8).toString("utf8"),
        );
      }
      if (messages.length === 0) {
        // The client gives up: nothing is sent.
        await new Promise((resolve) => call.signal.addEventListener("abort", resolve));
        return undefined;
      }
      for (const message of messages) await call.send(message.data);
      return recorded.responses.some((p) => p.kind === Kind.Close) ? "close" : "close-send";
    });
  }
  return server;
}

async function replayToServer(lines: Line[]) {
  const [clientLink, serverLink] = linkPair();
  const capture = new SideCapture();
  clientLink.deliver = (bytes) => capture.push(bytes);
  const drpc = scriptedServer(recordedCalls(lines));
  const session = new YamuxSession(serverLink, {
    role: "server",
    keepaliveIntervalMs: 0,
    onStream: (stream) => void drpc.serve(stream),
  });
  serverLink.deliver = (bytes) => session.receive(bytes);
  const need = emptyProgress();
  const sent = new Map<number, number>();
  for (const line of lines) {
    if (line.dir !== "s2c" && line.layer === "yamux") {
      // A Data frame may go once our server's credit covers it (its credit is its own business:
      // only that the window is respected is checked).
      if (line.decoded.type === FrameType.Data) {
        const stream = line.decoded.stream_id as number;
        const total = (sent.get(stream) ?? 0) + (line.decoded.length as number);
        sent.set(stream, total);
        if (total > YAMUX_WINDOW) need.credit.set(stream, total - YAMUX_WINDOW);
      }
      await capture.until(cloneProgress(need), `line ${line.t}`);
      clientLink.send(Buffer.from(line.hex, "hex"));
      continue;
    }
    if (line.dir !== "s2c") continue;
    if (line.layer === "drpc") {
      const stream = line.decoded.yamux_stream as number;
      need.drpc.set(stream, (need.drpc.get(stream) ?? 0) + 1);
    }
    if (line.layer === "yamux") {
      const flags = line.decoded.flags as number;
      const stream = line.decoded.stream_id as number;
      if (flags & Flag.FIN) need.fin.add(stream);
    }
  }
  // What the server still owes (its answers, its FINs), then compare.
  await capture.until(need, "the end");
  session.close();
  return capture;
}

for (const layout of ["v0.17.4", "v2-api-1.18"] as const) {
  const dir = sharedData(`coderd-wire/transcripts/${layout}`);
  describe.skipIf(!dir.ok)(`replaying coderd ${layout} transcripts to our server side`, () => {
    const files = dir.ok
      ? readdirSync(dir.path)
          .filter(
            (f) =>
              f.endsWith(".jsonl") &&
              !f.startsWith("refusal-") &&
              !f.startsWith("upgrade") &&
              // coderd's own server pings; ours does not need to for the fake.
              !f.startsWith("keepalive") &&
              // coderd sends CloseSend and then an Error there (a deferred close in its handler).
              f !== "download-file-not-found.jsonl",
          )
          .sort()
      : [];
    for (const file of files) {
      it(file, async () => {
        const lines = load(join(dir.path, file));
        const capture = await replayToServer(lines);
        const expected = new Map<number, string[]>();
        const control: string[] = [];
        for (const line of lines) {
          if (line.dir !== "s2c") continue;
          if (line.layer === "drpc") {
            const stream = line.decoded.yamux_stream as number;
            expected.set(stream, [...(expected.get(stream) ?? []), line.hex]);
          }
          if (line.layer === "yamux" && (line.decoded.flags as number) !== 0) {
            control.push(line.hex.slice(0, YAMUX_HEADER_SIZE * 2));
          }
        }
        const ours = new Map(capture.frames);
        for (const [stream, frames] of expected) {
          // coderd's server leaves out its CloseSend when the client's Close arrived first (the
          // Go client closes as soon as it has the answer); ours always sends it.
          const mine = ours.get(stream) ?? [];
          const last = frames.at(-1) ?? "";
          if (
            mine.length === frames.length + 1 &&
            !/^0[bd]/.test(last) &&
            /^0d/.test(mine.at(-1) ?? "")
          ) {
            ours.set(stream, mine.slice(0, -1));
          }
        }
        expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(expected));
        // SYN/ACK/FIN frames; credit (WindowUpdate without flags) is each server's own choice.
        const flagged = capture.control.filter((hex) => hex.slice(4, 8) !== "0000");
        expect(flagged.sort()).toEqual(control.sort());
      });
    }
  });
}
