/**
 * The one window of the client: how many requests (and how many bytes) are in flight. Every engine
 * takes its slots here — the session's own cap, a transfer's READs and WRITEs, a write stream, a
 * directory listing's read-ahead, and the shared window of a tree operation — so the policy of how
 * much is in flight lives in this file alone (the numbers are in ../defaults.ts).
 *
 * Takers wait in FIFO order, so the requests of one task go out in the order it asked for them.
 * Urgent takers (requests on a handle already open: WRITE, READ, CLOSE) go before ordinary ones (a
 * new file's OPEN), so open handles turn over first. One taker is always let through when nothing is
 * held, whatever its byte cost (a chunk larger than the byte cap still moves).
 *
 * The policy today is a fixed cap: `maxCount` slots and `maxBytes` bytes from the first request on.
 * A different one (a slow start that grows the cap by one per reply, as OpenSSH's sftp does with its
 * max_req; a cap that follows the measured round trip) changes `limit` and `release` here, and every
 * engine follows.
 */
export class Window {
  private count = 0;
  private held = 0;
  private readonly waiters = new Fifo<Waiter>();
  private readonly urgent = new Fifo<Waiter>();
  private idleWaiters: Array<() => void> = [];
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

  /** The slots a taker may hold now (the policy: see the class comment). */
  get limit(): number {
    return this.maxCount;
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
    return new Promise<void>((resolve, reject) =>
      (urgent ? this.urgent : this.waiters).push({ cost, resolve, reject }),
    );
  }

  /** Take one slot of `cost` bytes if that can be done at once (nobody waits and it fits); never queues. */
  tryAcquire(cost = 0): boolean {
    if (this.failure || this.urgent.size > 0 || this.waiters.size > 0 || !this.fits(cost)) return false;
    this.take(cost);
    return true;
  }

  /** Give back a slot taken with `cost` bytes. */
  release(cost = 0): void {
    this.count--;
    this.held -= cost;
    this.drain();
    if (this.count === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once no slot is held (at once when none is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Refuse every waiting and future taker with `error` (slots still held may be released as usual). */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    for (const q of [this.urgent, this.waiters]) for (let w = q.shift(); w; w = q.shift()) w.reject(error);
  }

  private fits(cost: number): boolean {
    return this.count < this.limit && (this.count === 0 || this.held + cost <= this.maxBytes);
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
