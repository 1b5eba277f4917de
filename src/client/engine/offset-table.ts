/**
 * Values by file offset, kept in two arrays sorted by offset: the read engine's replies that wait for
 * earlier bytes. Replies mostly arrive in order, so the table holds none or a few and the one looked
 * up is the first.
 *
 * Why not a Map: a Map that lives through a garbage collection (as one does for the whole of a large
 * download) allocates each new hash table in V8's old generation as entries come and go, and those
 * allocations, with the received buffers counted against the old generation's limit, cost a full
 * mark-compact every few MiB. Arrays that shrink from the front and grow at the back allocate nothing
 * old (see core/request-table.ts for the session's side).
 */
export class OffsetTable<V> {
  private readonly keys: number[] = [];
  private readonly vals: V[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Index of `offset`, or of where it would go (as ~index) when absent. */
  private find(offset: number): number {
    const keys = this.keys;
    if (keys.length > 0 && keys[0] === offset) return 0; // the usual case: the next bytes to deliver
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k === offset) return mid;
      if (k < offset) lo = mid + 1;
      else hi = mid;
    }
    return ~lo;
  }

  get(offset: number): V | undefined {
    const i = this.find(offset);
    return i >= 0 ? this.vals[i] : undefined;
  }

  has(offset: number): boolean {
    return this.find(offset) >= 0;
  }

  set(offset: number, v: V): void {
    const i = this.find(offset);
    if (i >= 0) {
      this.vals[i] = v;
      return;
    }
    const at = ~i;
    if (at === this.keys.length) {
      this.keys.push(offset);
      this.vals.push(v);
    } else {
      this.keys.splice(at, 0, offset);
      this.vals.splice(at, 0, v);
    }
  }

  delete(offset: number): boolean {
    const i = this.find(offset);
    if (i < 0) return false;
    if (i === 0) {
      this.keys.shift();
      this.vals.shift();
    } else {
      this.keys.splice(i, 1);
      this.vals.splice(i, 1);
    }
    return true;
  }
}
