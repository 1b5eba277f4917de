/**
 * Tracks how far a file is written without holes: `end` is the length of the prefix known to be
 * complete. Writes beyond it are remembered (merged ranges) until the gap before them is filled.
 * Pipelined writes may land out of order; only the contiguous prefix is safe to resume from.
 */
const MAX_RANGES = 4096;

export class ContiguousTracker {
  /** Disjoint, sorted [start, end) ranges beyond `end`. */
  private ahead: [number, number][] = [];
  constructor(public end = 0) {}

  record(offset: number, length: number): void {
    if (length <= 0) return;
    const stop = offset + length;
    if (offset > this.end) {
      this.insert(offset, stop);
      return;
    }
    if (stop > this.end) this.end = stop;
    while (this.ahead.length > 0 && this.ahead[0]![0] <= this.end) {
      const r = this.ahead.shift()!;
      if (r[1] > this.end) this.end = r[1];
    }
  }

  private insert(start: number, stop: number): void {
    const out: [number, number][] = [];
    let placed = false;
    for (const r of this.ahead) {
      if (r[1] < start) out.push(r);
      else if (stop < r[0]) {
        if (!placed) out.push([start, stop]);
        placed = true;
        out.push(r);
      } else {
        start = Math.min(start, r[0]);
        stop = Math.max(stop, r[1]);
      }
    }
    if (!placed) out.push([start, stop]);
    // Forgetting the farthest ranges only makes the prefix shorter, never wrong: memory stays bounded.
    if (out.length > MAX_RANGES) out.length = MAX_RANGES;
    this.ahead = out;
  }

  /** The file was cut to `size`: nothing at or beyond it is written any more. */
  truncate(size: number): void {
    if (size < this.end) this.end = size;
    this.ahead = this.ahead.filter((r) => r[0] < size).map((r): [number, number] => [r[0], Math.min(r[1], size)]);
  }

  /** Ranges written beyond the contiguous prefix (for tests and diagnostics). */
  get pending(): readonly (readonly [number, number])[] {
    return this.ahead;
  }
}
