/**
 * Per-key FIFO execution with barriers. Tasks that share a key run one after another in submission
 * order; tasks with different keys run concurrently. A task with several keys waits for all of them.
 * A barrier (`runAlone`) waits for every task submitted before it, and every task submitted after it
 * waits for the barrier. Used so that one handle's requests execute in arrival order, and requests
 * that name paths take effect in arrival order relative to everything else.
 */
export class OrderedQueues {
  private readonly tails = new Map<string, Promise<void>>();
  /** The last barrier submitted, while it has not finished. */
  private barrier: Promise<void> | undefined;

  run(keys: readonly string[], task: () => Promise<void>): Promise<void> {
    const before = keys.map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    if (this.barrier) before.push(this.barrier);
    const done = this.chain(before, task);
    for (const k of keys) this.tails.set(k, done);
    void done.then(() => {
      for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k);
    });
    return done;
  }

  /** Run `task` after everything submitted so far, and before anything submitted later. */
  runAlone(task: () => Promise<void>): Promise<void> {
    const before = [...new Set(this.tails.values())];
    if (this.barrier) before.push(this.barrier);
    const done = this.chain(before, task);
    // every pending key task is now behind the barrier, so later tasks need wait only for it
    this.tails.clear();
    this.barrier = done;
    void done.then(() => {
      if (this.barrier === done) this.barrier = undefined;
    });
    return done;
  }

  private chain(before: Promise<void>[], task: () => Promise<void>): Promise<void> {
    const start = before.length === 0 ? Promise.resolve() : Promise.all(before).then(() => undefined);
    return start.then(task).catch(() => undefined);
  }

  /** Keys (and barriers) with work queued or running. */
  get size(): number {
    return this.tails.size + (this.barrier ? 1 : 0);
  }
}
