// The coderd wire layer: what the protocol adapters use. Generated message modules are imported
// from src/coderd/v017/gen and src/coderd/v2/gen by the adapter of that generation only.
export { type CoderdConnection, type ConnectOptions, connectCoderd } from "./connection.js";
export {
  BUILD_VERSION_HEADER,
  type CoderdCredential,
  CoderdRefusedError,
  CREDENTIAL_NAMES,
  explainRefusal,
  HandshakeConfigError,
  PROVISIONER_TYPE,
  type ServeRequest,
  V2_API_VERSION,
  type V2ServeOptions,
  type V017ServeOptions,
  v2ServeRequest,
  v017ServeRequest,
} from "./handshake.js";
export {
  DrpcRemoteError,
  GoAwayError,
  isUnknownRpc,
  ProtocolError,
  SessionClosedError,
  StreamResetError,
  WebSocketClosedError,
} from "./transport/errors.js";
export { ProxyError } from "./transport/proxy.js";
export type { HttpRefusal, TlsMaterial } from "./transport/websocket.js";
export { type AcquireWithCancel, CoderdV2Client, FileTransferError } from "./v2/client.js";
export { CoderdV017Client } from "./v017/client.js";
