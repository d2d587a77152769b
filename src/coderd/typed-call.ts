// Typed dRPC calls on generated message codecs, shared by the clients of both coderd generations.
import type { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import type { DrpcClient } from "./transport/drpc.js";
import { ProtocolError } from "./transport/errors.js";

/** The part of a ts-proto message codec the calls need. */
export interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

/** The service every coderd generation serves to provisioner daemons. */
export const SERVICE = "provisionerd.ProvisionerDaemon";

export function methodPath(method: string): string {
  return `/${SERVICE}/${method}`;
}

/** Decodes a response; bytes that are no such message are a protocol error naming the call. */
export function decodeResponse<T>(codec: Codec<T>, bytes: Uint8Array, method: string): T {
  try {
    return codec.decode(bytes);
  } catch (error) {
    throw new ProtocolError(
      `${method}: coderd's response does not decode: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function encodeRequest<T>(codec: Codec<T>, message: T): Uint8Array {
  return codec.encode(message).finish();
}

export async function unaryCall<Req, Res>(
  drpc: DrpcClient,
  method: string,
  requestCodec: Codec<Req>,
  responseCodec: Codec<Res>,
  request: Req,
  signal: AbortSignal | undefined,
): Promise<Res> {
  const path = methodPath(method);
  const bytes = await drpc.unary(path, encodeRequest(requestCodec, request), signal);
  return decodeResponse(responseCodec, bytes, path);
}
