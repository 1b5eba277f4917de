/**
 * Per-key FIFO execution: tasks that share a key run one after another in submission order;
 * tasks with no key, or with different keys, run concurrently. A task with several keys waits for
 * all of them. Used so that one handle's requests execute and answer in arrival order.
 */
export class OrderedQueues {
  private readonly tails = new Map<string, Promise<void>>();

  run(keys: readonly string[], task: () => Promise<void>): Promise<void> {
    const before = keys.map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    const start = before.length === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined);
    const done = start.then(task).catch(() => undefined);
    for (const k of keys) this.tails.set(k, done);
    void done.then(() => {
      for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k);
    });
    return done;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
