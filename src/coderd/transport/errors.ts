// Typed errors of the coderd transport. Callers branch on the class, never on message text.

/** The yamux session is gone (closed by us, by the peer, by a keepalive timeout or an error). */
export class SessionClosedError extends Error {
  override readonly name = "SessionClosedError";
}

/** The peer broke the yamux or dRPC protocol; the connection is torn down. */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
}

/** The peer reset a yamux stream (RST), or we did. */
export class StreamResetError extends Error {
  override readonly name = "StreamResetError";
}

/** The yamux peer sent GoAway: no new streams may be opened on this session. */
export class GoAwayError extends Error {
  override readonly name = "GoAwayError";
}

/**
 * The dRPC server answered a call with an Error packet. coderd's own handlers always send code 0
 * and the text of the Go error (e.g. "job isn't running yet"), which `message` carries as sent.
 */
export class DrpcRemoteError extends Error {
  override readonly name = "DrpcRemoteError";
  readonly code: bigint;
  readonly method: string;
  constructor(method: string, code: bigint, message: string) {
    super(message);
    this.code = code;
    this.method = method;
  }
}

/** coderd does not serve the method (an older coderd): its dRPC "unknown rpc" error. */
export function isUnknownRpc(error: unknown): boolean {
  return (
    error instanceof DrpcRemoteError && error.message.startsWith("protocol error: unknown rpc:")
  );
}

/** The WebSocket under the session closed (status and reason as the peer sent them). */
export class WebSocketClosedError extends Error {
  override readonly name = "WebSocketClosedError";
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string) {
    super(
      `the WebSocket to coderd closed with status ${code}${reason === "" ? "" : `: ${reason}`}`,
    );
    this.code = code;
    this.reason = reason;
  }
}

/** The Error an aborted signal carries (AbortSignal reasons may be anything). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(reason === undefined ? "aborted" : String(reason));
  error.name = "AbortError";
  return error;
}
