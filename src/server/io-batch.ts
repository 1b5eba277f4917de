import { PacketType as T } from '../protocol/constants.js';
import type { PacketOf } from '../protocol/packets.js';
import { writeLength } from './split-write.js';

export type WriteRequest = PacketOf<typeof T.WRITE>;
export type ReadRequest = PacketOf<typeof T.READ>;

/** Bounds of one batch: bytes (memory held at once, and latency of its replies) and requests. */
export interface BatchBounds {
  maxBytes: number;
  maxRequests: number;
}

export const DEFAULT_BATCH_BOUNDS: Readonly<BatchBounds> = Object.freeze({
  maxBytes: 4 * 1024 * 1024,
  maxRequests: 64,
});

/**
 * WRITEs (or READs) on one handle that arrived one after another, each starting where the previous
 * one ends, and wait behind earlier work on that handle: they run as one vectored call and are
 * answered in arrival order. A batch takes requests only until it starts (`seal`), and only while
 * nothing else for the handle arrived in between (the session seals it then), so merging never
 * reorders anything.
 */
export class IoBatch<R extends WriteRequest | ReadRequest = WriteRequest | ReadRequest> {
  readonly requests: R[];
  private sealed = false;
  /** Where the next request must start to join. */
  private end: number;
  private bytes: number;

  constructor(
    first: R,
    /** READ lengths are cut to this (the server answers at most this many bytes). */
    private readonly maxRead: number,
    private readonly bounds: BatchBounds,
  ) {
    this.requests = [first];
    this.bytes = this.lengthOf(first);
    this.end = first.offset + this.bytes;
  }

  get type(): R['type'] {
    return this.requests[0]!.type;
  }

  private lengthOf(r: WriteRequest | ReadRequest): number {
    return r.type === T.WRITE ? writeLength(r) : Math.min(r.length, this.maxRead);
  }

  /** A READ or WRITE that can run in the same vectored call (zero-length ones run alone). */
  static batchable(r: WriteRequest | ReadRequest): boolean {
    return r.type === T.WRITE ? writeLength(r) > 0 : r.length > 0;
  }

  /** Add `r` when it continues this batch; false when it must start a new one. */
  offer(r: WriteRequest | ReadRequest): boolean {
    if (this.sealed || r.type !== this.type || r.offset !== this.end || !IoBatch.batchable(r)) return false;
    if (!r.handle.equals(this.requests[0]!.handle)) return false;
    const len = this.lengthOf(r);
    if (this.requests.length >= this.bounds.maxRequests || this.bytes + len > this.bounds.maxBytes) return false;
    this.requests.push(r as R);
    this.bytes += len;
    this.end += len;
    return true;
  }

  /** No more requests join: it is about to run, or other work for the handle was queued after it. */
  seal(): void {
    this.sealed = true;
  }
}
