import net from 'node:net';
import type { Writable } from 'node:stream';

const DONE_AT_CALLBACK = Symbol('sftp-wire: done with a written buffer once its write callback runs');

/**
 * Mark a stream as done with every buffer written to it once that write's callback has run (it
 * has passed the bytes on to the kernel, or copied them), so the server may fill the buffer again.
 */
export function markDoneAtCallback<S extends Writable>(stream: S): S {
  (stream as unknown as Record<symbol, boolean>)[DONE_AT_CALLBACK] = true;
  return stream;
}

/**
 * Whether `stream` is known to be done with a written buffer at its write callback: a plain
 * net.Socket (the callback runs once libuv has written the bytes), or a stream marked so. Anything
 * else (a PassThrough, say, which still holds the buffer for its reader) is not.
 */
export function doneAtCallback(stream: Writable): boolean {
  return stream.constructor === net.Socket || (stream as unknown as Record<symbol, boolean>)[DONE_AT_CALLBACK] === true;
}

/**
 * DATA reply frames kept for reuse once the stream has sent them: a download otherwise takes a fresh
 * buffer for every READ, and fresh memory costs a page fault per 4 KiB when the file is read into it.
 * Only frames of one size are kept (the size of the last frame given back: a client reads in one
 * size), at most `maxBytes` of them.
 */
export class FramePool {
  private free: Buffer[] = [];
  private size = 0;

  constructor(readonly maxBytes: number) {}

  /** Bytes kept now. */
  get kept(): number {
    return this.free.length * this.size;
  }

  /** A buffer of `size` bytes, its contents undefined. */
  take(size: number): Buffer {
    return (size === this.size && this.free.pop()) || Buffer.allocUnsafe(size);
  }

  /** `frame` is no longer used by anyone: keep it for a later `take` while there is room. */
  give(frame: Buffer): void {
    if (frame.length !== this.size) {
      this.free = [];
      this.size = frame.length;
    }
    if ((this.free.length + 1) * this.size <= this.maxBytes) this.free.push(frame);
  }

  /** Keep nothing. */
  clear(): void {
    this.free = [];
  }
}
