/**
 * The session's requests in flight, by request id: an array indexed by the id's low bits, which
 * doubles when full (so it holds at most twice the most requests ever in flight at once: the window
 * bounds it). New ids come from `freeId`, which skips ids whose slot a request in flight holds (an id
 * still in flight, or one that shares its low bits).
 *
 * Why not a Map: a long-lived Map (one that has survived a garbage collection) whose entries come and
 * go allocates its new hash tables in V8's old generation, a few hundred bytes every few requests. On
 * a fast download those allocations make V8 check its old-generation limit, and with the received
 * buffers counted against that limit a full mark-compact follows every ~8 MiB (40 per 512 MiB on
 * loopback). Storing into the slots of this array allocates nothing.
 */
export class RequestTable<V extends { readonly id: number }> {
  private slots: Array<V | undefined>;
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    let cap = 1;
    while (cap < capacity) cap *= 2;
    this.slots = new Array<V | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The request with this id, if it is in flight. */
  get(id: number): V | undefined {
    const v = this.slots[id & this.mask];
    return v !== undefined && v.id === id ? v : undefined;
  }

  /**
   * The first id at or after `from` (wrapping at 2^32) that a new request may take now: its slot is
   * free. Grows the table first when it is full, so one is always found within its length.
   */
  freeId(from: number): number {
    if (this.count === this.slots.length) this.grow();
    let id = from >>> 0;
    while (this.slots[id & this.mask] !== undefined) id = (id + 1) >>> 0;
    return id;
  }

  /** Add a request; its id must be free (from freeId). */
  add(v: V): void {
    const i = v.id & this.mask;
    if (this.slots[i] !== undefined) throw new Error(`request id ${v.id} is not free`);
    this.slots[i] = v;
    this.count++;
  }

  /** Remove the request with this id; returns whether it was in flight. */
  delete(id: number): boolean {
    const i = id & this.mask;
    const v = this.slots[i];
    if (v === undefined || v.id !== id) return false;
    this.slots[i] = undefined;
    this.count--;
    return true;
  }

  /** The requests in flight (a copy: the caller may delete while it goes through them). */
  values(): V[] {
    const out: V[] = [];
    for (const v of this.slots) if (v !== undefined) out.push(v);
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.count = 0;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Array<V | undefined>(old.length * 2).fill(undefined);
    this.mask = this.slots.length - 1;
    // Ids distinct in their low bits stay distinct in one more bit.
    for (const v of old) if (v !== undefined) this.slots[v.id & this.mask] = v;
  }
}
