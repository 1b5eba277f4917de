import { CONTIGUOUS_MAX_RANGES } from '../../defaults.js';

/**
 * Where a resumable transfer continues from: pure decisions over sizes, and the bookkeeping of the
 * highest contiguous acknowledged offset. No I/O here.
 */

export interface ResumePlanInput {
  /** S: the source's size. */
  sourceSize: number;
  /** P: the partial's size (0 when there is none). */
  partialSize: number;
  /** C: the checkpoint's contiguous offset, when a checkpoint for this partial was found. */
  checkpoint?: number;
  /**
   * How far before the partial's end writes may have been lost out of order (chunk size x requests
   * in flight, at least the caller's tail window). Used when there is no checkpoint.
   */
  window: number;
  /** Bytes before the checkpoint that are read back too, to catch a partial that is not what the checkpoint says. */
  sample: number;
}

export type ResumePlan =
  /** No partial (or an empty one): start at 0. */
  | { kind: 'fresh' }
  /** The partial is larger than the source (P > S): it cannot be a prefix; truncate to 0 and start again. */
  | { kind: 'restart' }
  /** Compare [verifyFrom, verifyTo) with the source; [0, verifyFrom) is trusted (see `verifyUntilContiguous`). */
  | { kind: 'verify'; verifyFrom: number; verifyTo: number; fromCheckpoint: boolean };

export function planResume(q: ResumePlanInput): ResumePlan {
  const S = q.sourceSize;
  const P = q.partialSize;
  if (P <= 0) return { kind: 'fresh' };
  if (P > S) return { kind: 'restart' };
  const C = q.checkpoint;
  if (C !== undefined && Number.isSafeInteger(C) && C >= 0 && C <= P) {
    return { kind: 'verify', verifyFrom: Math.max(0, C - Math.max(0, q.sample)), verifyTo: P, fromCheckpoint: true };
  }
  return { kind: 'verify', verifyFrom: Math.max(0, P - Math.max(1, q.window)), verifyTo: P, fromCheckpoint: false };
}

/**
 * First offset in [from, to) where `a` and `b` differ, or `to` when they are equal there
 * (a and b are views of the same range, starting at `from`).
 */
export function firstDifference(a: Buffer, b: Buffer, from: number): number {
  const n = Math.min(a.length, b.length);
  // Compare in blocks first: Buffer.equals is fast native code.
  const BLOCK = 4096;
  let i = 0;
  while (i + BLOCK <= n && a.subarray(i, i + BLOCK).equals(b.subarray(i, i + BLOCK))) i += BLOCK;
  for (; i < n; i++) if (a[i] !== b[i]) return from + i;
  return from + n;
}

/** Reads `length` bytes at `offset` (shorter only at the end of the data). */
export type RangeReader = (offset: number, length: number) => Promise<Buffer>;

export interface VerifyOptions {
  from: number;
  to: number;
  /** Read granularity. */
  chunk: number;
  /**
   * Matching bytes needed right before a difference for the point to count as contiguous; when the
   * difference is closer than this to the start of the compared range, the range is extended
   * backwards (doubled) until it is, or reaches 0.
   */
  sample: number;
}

/** The first difference in [from, to) between source and partial. */
export async function compareRange(
  source: RangeReader,
  partial: RangeReader,
  from: number,
  to: number,
  chunk: number,
): Promise<number> {
  let pos = from;
  const step = Math.max(1, chunk);
  while (pos < to) {
    const len = Math.min(step, to - pos);
    const [a, b] = await Promise.all([source(pos, len), partial(pos, len)]);
    const d = firstDifference(a, b, pos);
    if (d < pos + len) return d;
    if (a.length < len || b.length < len) return pos + Math.min(a.length, b.length);
    pos += len;
  }
  return to;
}

/**
 * The offset up to which the partial is known to equal the source: compare [from, to); a difference
 * right at the start of the compared range (fewer than `sample` matching bytes before it) means the
 * damage may begin earlier, so the range is extended backwards until some matching bytes precede the
 * first difference, or the start of the file is reached.
 */
export async function verifyUntilContiguous(
  source: RangeReader,
  partial: RangeReader,
  o: VerifyOptions,
): Promise<number> {
  let from = Math.max(0, o.from);
  const to = o.to;
  let diff = await compareRange(source, partial, from, to, o.chunk);
  while (from > 0 && diff - from < Math.min(o.sample, to - from)) {
    const span = Math.max(to - from, o.sample, 1);
    const earlier = Math.max(0, from - 2 * span);
    const d = await compareRange(source, partial, earlier, from, o.chunk);
    if (d < from) diff = d;
    from = earlier;
  }
  return diff;
}

/**
 * The highest offset below which every byte was acknowledged, given acknowledgements in any order
 * of writes issued from `start` upwards. Ranges acknowledged above a gap are kept merged and sorted,
 * at most CONTIGUOUS_MAX_RANGES of them: past that the farthest are forgotten, which can only make
 * the contiguous end lower than it could be (more is read back on resume), never wrong, so memory
 * stays bounded whatever order a server answers in.
 */
export class ContiguousTracker {
  /** Disjoint [start, end) ranges above `end`, sorted, none touching another. */
  private readonly ahead: Array<[number, number]> = [];
  private end: number;
  constructor(
    start: number,
    private readonly maxRanges = CONTIGUOUS_MAX_RANGES,
  ) {
    this.end = start;
  }
  get contiguous(): number {
    return this.end;
  }
  /** Ranges held above the contiguous end (for tests). */
  get pendingRanges(): number {
    return this.ahead.length;
  }
  /** Record an acknowledged range; returns the contiguous end. */
  ack(offset: number, length: number): number {
    if (length <= 0) return this.end;
    let s = offset;
    let e = offset + length;
    if (s <= this.end) {
      if (e > this.end) this.end = e;
      let n = 0;
      while (n < this.ahead.length && this.ahead[n]![0] <= this.end) {
        if (this.ahead[n]![1] > this.end) this.end = this.ahead[n]![1];
        n++;
      }
      if (n > 0) this.ahead.splice(0, n);
      return this.end;
    }
    // The first range that ends at or after `s` (ends are sorted too: the ranges are disjoint).
    let lo = 0;
    let hi = this.ahead.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ahead[mid]![1] < s) lo = mid + 1;
      else hi = mid;
    }
    let j = lo;
    while (j < this.ahead.length && this.ahead[j]![0] <= e) {
      s = Math.min(s, this.ahead[j]![0]);
      e = Math.max(e, this.ahead[j]![1]);
      j++;
    }
    this.ahead.splice(lo, j - lo, [s, e]);
    if (this.ahead.length > this.maxRanges) this.ahead.length = this.maxRanges;
    return this.end;
  }
}
