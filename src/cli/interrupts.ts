// Ctrl-C during a local build: the first asks Terraform to stop gracefully (it saves what it
// created into the state), the second kills it. SIGTERM counts the same.
import { escalatingSignals } from "../daemon/signals.js";

export class Interrupts {
  readonly #cancel = new AbortController();
  readonly #kill = new AbortController();
  readonly #remove: () => void;

  /** `killReason` becomes the kill signal's reason (the job runner reports it as the failure). */
  constructor(notify: (text: string) => void, killReason: () => unknown) {
    this.#remove = escalatingSignals(["SIGINT", "SIGTERM"], {
      first: () => {
        notify(
          "Canceling: terraform stops gracefully and saves its state (interrupt again to force)",
        );
        this.#cancel.abort();
      },
      again: () => {
        if (this.#kill.signal.aborted) return;
        notify("Forcing: killing terraform now");
        this.#kill.abort(killReason());
      },
    });
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
    this.#remove();
  }
}
