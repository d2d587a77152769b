// The daemon's job slots: slot i always gets the same provider plugin cache, so two jobs never
// share one: concurrent `terraform init`s on one plugin cache race, and replacing a provider
// binary that another job is running fails with "text file busy".
import { EventEmitter } from "node:events";

export class SlotPool {
  private readonly busySlots = new Set<number>();
  /** Emits "change" after every take or release. */
  readonly events = new EventEmitter();

  constructor(readonly size: number) {
    this.events.setMaxListeners(0);
  }

  get busy(): number {
    return this.busySlots.size;
  }

  get free(): number {
    return this.size - this.busySlots.size;
  }

  /** The lowest free slot, or undefined when all are busy. */
  take(): number | undefined {
    for (let slot = 0; slot < this.size; slot++) {
      if (!this.busySlots.has(slot)) {
        this.busySlots.add(slot);
        this.events.emit("change");
        return slot;
      }
    }
    return undefined;
  }

  release(slot: number): void {
    if (this.busySlots.delete(slot)) this.events.emit("change");
  }
}
