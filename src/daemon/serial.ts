// Runs async tasks one at a time, in call order: the single writer that keeps a job's
// UpdateJob calls (and so its log sequence numbers) in order.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // The chain must not stop at a failed task; the caller sees the failure through `result`.
    this.tail = result.catch(() => {});
    return result;
  }
}
