/**
 * A window in requests and bytes, shared by every file of a tree operation. Takers wait in FIFO
 * order, so the requests of one task go out in the order it asked for them. One taker is always let
 * through when nothing is held, whatever its byte cost (a chunk larger than the byte cap still moves).
 */
export class TreeWindow {
  private count = 0;
  private held = 0;
  private readonly waiters: Array<{ cost: number; resolve(): void; reject(e: unknown): void }> = [];
  private head = 0;
  private failure: { error: unknown } | undefined;
  /** The most slots held at once (for tests and reports). */
  peakCount = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number = Infinity,
  ) {
    if (!(maxCount >= 1)) throw new RangeError(`window size must be at least 1, got ${maxCount}`);
    if (!(maxBytes >= 1)) throw new RangeError(`window bytes must be at least 1, got ${maxBytes}`);
  }

  /** Slots held now. */
  get inUse(): number {
    return this.count;
  }
  /** Bytes held now. */
  get bytesInUse(): number {
    return this.held;
  }
  /** Takers waiting. */
  get waiting(): number {
    return this.waiters.length - this.head;
  }

  /**
   * Take one slot of `cost` bytes. Returns undefined when taken at once, else a promise that resolves
   * when taken (in FIFO order) or rejects once the window has failed.
   */
  acquire(cost = 0): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.waiting === 0 && this.fits(cost)) {
      this.take(cost);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => this.waiters.push({ cost, resolve, reject }));
  }

  /** Give back a slot taken with `cost` bytes. */
  release(cost = 0): void {
    this.count--;
    this.held -= cost;
    this.drain();
  }

  /** Refuse every waiting and future taker with `error` (slots still held may be released as usual). */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    for (let i = this.head; i < this.waiters.length; i++) this.waiters[i]!.reject(error);
    this.waiters.length = 0;
    this.head = 0;
  }

  private fits(cost: number): boolean {
    return this.count < this.maxCount && (this.count === 0 || this.held + cost <= this.maxBytes);
  }

  private take(cost: number): void {
    this.count++;
    this.held += cost;
    if (this.count > this.peakCount) this.peakCount = this.count;
  }

  private drain(): void {
    while (this.head < this.waiters.length) {
      const w = this.waiters[this.head]!;
      if (!this.fits(w.cost)) break;
      this.head++;
      this.take(w.cost);
      w.resolve();
    }
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
  }
}
