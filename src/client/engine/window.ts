/**
 * A window in requests and bytes, shared by every file of a tree operation. Takers wait in FIFO
 * order, so the requests of one task go out in the order it asked for them. Urgent takers (requests
 * on a handle already open: WRITE, READ, CLOSE) go before ordinary ones (a new file's OPEN), so open
 * handles turn over first. One taker is always let through when nothing is held, whatever its byte
 * cost (a chunk larger than the byte cap still moves).
 */
export class TreeWindow {
  private count = 0;
  private held = 0;
  private readonly waiters = new Fifo<Waiter>();
  private readonly urgent = new Fifo<Waiter>();
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
    return this.waiters.size + this.urgent.size;
  }

  /**
   * Take one slot of `cost` bytes. Returns undefined when taken at once, else a promise that resolves
   * when taken (in FIFO order) or rejects once the window has failed.
   */
  acquire(cost = 0, urgent = false): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.urgent.size === 0 && (urgent || this.waiters.size === 0) && this.fits(cost)) {
      this.take(cost);
      return undefined;
    }
    return new Promise<void>((resolve, reject) => (urgent ? this.urgent : this.waiters).push({ cost, resolve, reject }));
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
    for (const q of [this.urgent, this.waiters]) for (let w = q.shift(); w; w = q.shift()) w.reject(error);
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
    for (;;) {
      const q = this.urgent.size > 0 ? this.urgent : this.waiters;
      const w = q.peek();
      if (!w || !this.fits(w.cost)) return;
      q.shift();
      this.take(w.cost);
      w.resolve();
    }
  }
}

interface Waiter {
  cost: number;
  resolve(): void;
  reject(e: unknown): void;
}

/** A FIFO queue with O(1) shift that compacts itself. */
class Fifo<X> {
  private items: X[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(x: X): void {
    this.items.push(x);
  }
  peek(): X | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }
  shift(): X | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++]!;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}
