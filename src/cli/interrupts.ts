// Ctrl-C during a local build: the first asks Terraform to stop gracefully (it saves what it
// created into the state), the second kills it. SIGTERM counts the same.

export class Interrupts {
  readonly #cancel = new AbortController();
  readonly #kill = new AbortController();
  readonly #notify: (text: string) => void;
  readonly #killReason: () => unknown;
  readonly #handler = () => this.#interrupt();

  /** `killReason` becomes the kill signal's reason (the job runner reports it as the failure). */
  constructor(notify: (text: string) => void, killReason: () => unknown) {
    this.#notify = notify;
    this.#killReason = killReason;
    process.on("SIGINT", this.#handler);
    process.on("SIGTERM", this.#handler);
  }

  /** Aborted on the first interrupt: cancel gracefully. */
  get cancelSignal(): AbortSignal {
    return this.#cancel.signal;
  }

  /** Aborted on the second interrupt: kill what runs. */
  get killSignal(): AbortSignal {
    return this.#kill.signal;
  }

  get interrupted(): boolean {
    return this.#cancel.signal.aborted;
  }

  dispose(): void {
    process.off("SIGINT", this.#handler);
    process.off("SIGTERM", this.#handler);
  }

  #interrupt(): void {
    if (!this.#cancel.signal.aborted) {
      this.#notify(
        "Canceling: terraform stops gracefully and saves its state (interrupt again to force)",
      );
      this.#cancel.abort();
      return;
    }
    if (!this.#kill.signal.aborted) {
      this.#notify("Forcing: killing terraform now");
      this.#kill.abort(this.#killReason());
    }
  }
}
