// One live connection to coderd shared by every call of a protocol adapter: opened on first
// use, opened again on the next call after it ends (coderd restarts, network loss), and every
// failure sorted into the daemon's error types so the daemon decides retry, refuse or stop
// without knowing the transport.
import type { CoordinatorContext } from "../../daemon/coordinator.js";
import {
  AuthenticationRefusedError,
  CoordinatorRefusedError,
  TransportError,
  UnimplementedError,
} from "../../daemon/errors.js";
import { UnrecognizedValueError } from "../../provisioner/model.js";
import { type CoderdConnection, type ConnectOptions, connectCoderd } from "../connection.js";
import { CoderdRefusedError, HandshakeConfigError, type ServeRequest } from "../handshake.js";
import { DrpcRemoteError, isUnknownRpc } from "../transport/errors.js";

/** The coderd setting at fault is unusable: fatal, like refused credentials. */
export class CoderdSettingsError extends Error {
  override readonly name = "CoderdSettingsError";
}

export interface CoderdLinkOptions {
  request: () => ServeRequest;
  connect: Omit<ConnectOptions, "signal">;
  context: CoordinatorContext;
}

export class CoderdLink {
  private readonly options: CoderdLinkOptions;
  private current: Promise<CoderdConnection> | undefined;
  private closed = false;

  constructor(options: CoderdLinkOptions) {
    this.options = options;
  }

  /** Runs one call on the connection; rejects with the daemon's error types. */
  async call<T>(
    method: string,
    signal: AbortSignal,
    fn: (connection: CoderdConnection) => Promise<T>,
  ): Promise<T> {
    signal.throwIfAborted();
    let connection: CoderdConnection;
    try {
      connection = await this.connection();
    } catch (error) {
      throw this.classify(error, method, signal);
    }
    try {
      const result = await fn(connection);
      this.options.context.onContact(true);
      return result;
    } catch (error) {
      throw this.classify(error, method, signal);
    }
  }

  close(): void {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    void current?.then((c) => c.close()).catch(() => {});
  }

  private connection(): Promise<CoderdConnection> {
    if (this.closed) return Promise.reject(new TransportError("the coderd connection is closed"));
    if (this.current !== undefined) return this.current;
    const opening = connectCoderd(this.options.request(), this.options.connect);
    this.current = opening;
    opening.then(
      (connection) => {
        this.options.context.logger.info("connected to coderd");
        void connection.closed.then((reason) => {
          if (this.current === opening) this.current = undefined;
          if (!this.closed) {
            this.options.context.logger.warn(
              { err: reason.message },
              "coderd connection ended; the next call reconnects",
            );
          }
        });
      },
      () => {
        if (this.current === opening) this.current = undefined;
      },
    );
    return opening;
  }

  private classify(error: unknown, method: string, signal: AbortSignal): Error {
    if (signal.aborted)
      return signal.reason instanceof Error ? signal.reason : new Error("aborted");
    if (error instanceof CoderdRefusedError && error.status === 401) {
      const refused = new AuthenticationRefusedError(
        error.message.replace(/^coderd refused the provisioner daemon /, ""),
        { cause: error, credential: this.options.connect.credential },
      );
      this.options.context.onFatal(refused);
      return refused;
    }
    if (error instanceof HandshakeConfigError) {
      const fatal = new CoderdSettingsError(`--${error.field}: ${error.message}`, { cause: error });
      this.options.context.onFatal(fatal);
      return fatal;
    }
    if (error instanceof CoderdRefusedError && error.fatal) {
      const fatal = new CoderdSettingsError(error.message, { cause: error });
      this.options.context.onFatal(fatal);
      return fatal;
    }
    if (isUnknownRpc(error)) {
      this.options.context.onContact(true);
      return new UnimplementedError(`coderd does not serve ${method}`, { cause: error });
    }
    if (error instanceof UnrecognizedValueError) {
      // coderd answered with a value this daemon cannot read: asking again gets the same.
      this.options.context.onContact(true);
      return new CoordinatorRefusedError(`coderd's ${method} answer: ${error.message}`, {
        cause: error,
      });
    }
    if (error instanceof DrpcRemoteError) {
      // coderd answered: its handler's text, as coderd wrote it.
      this.options.context.onContact(true);
      return new CoordinatorRefusedError(error.message, { cause: error });
    }
    this.options.context.onContact(false);
    const text = error instanceof Error ? error.message : String(error);
    return new TransportError(`${method}: ${text}`, { cause: error });
  }
}
