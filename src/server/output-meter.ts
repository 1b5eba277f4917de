import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * What the process spends on one queued write besides its bytes (the write request, its callback,
 * the buffer's own object, an SSH packet's header and padding). A flood of tiny replies is charged at
 * least this much per reply, so it meets the same bound as a few big ones.
 */
export const WRITE_OVERHEAD = 1024;

/**
 * Counts what is queued for a peer and not yet sent (bytes plus WRITE_OVERHEAD per write, and
 * reservations for replies being prepared). `blocked` turns on at `bound` and off again once the
 * count is back under half of it, when 'room' is emitted. A child meter (one session) also charges
 * its parent (the connection all its channels share); `detach` gives back whatever the child still
 * holds, for writes whose callback never comes because the stream died under them.
 */
export class OutputMeter extends EventEmitter {
  private cost = 0;
  private stopped = false;
  private detached = false;

  constructor(
    readonly bound: number,
    private readonly parent?: OutputMeter,
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Bytes (and per-write overheads) counted now. */
  get queued(): number {
    return this.cost;
  }

  /** True from when the count reaches the bound until it is back under half of it. */
  get blocked(): boolean {
    return this.stopped;
  }

  charge(n: number): void {
    if (this.detached || n <= 0) return;
    this.cost += n;
    if (this.cost >= this.bound) this.stopped = true;
    this.parent?.charge(n);
  }

  release(n: number): void {
    if (this.detached || n <= 0) return;
    const given = Math.min(n, this.cost);
    this.cost -= given;
    this.parent?.release(given);
    if (this.stopped && this.cost <= this.bound / 2) {
      this.stopped = false;
      this.emit('room');
    }
  }

  /** Give back everything still counted (to the parent too); later charges and releases are ignored. */
  detach(): void {
    if (this.detached) return;
    const left = this.cost;
    this.release(left);
    this.detached = true;
  }

  /**
   * Write `chunk` to `stream`, counted here until the stream has taken it on (its callback, after
   * which `taken` runs too). Returns what `write` returned.
   */
  write(stream: Writable, chunk: Buffer, taken?: () => void): boolean {
    const n = chunk.length + WRITE_OVERHEAD;
    this.charge(n);
    return stream.write(chunk, () => {
      this.release(n);
      taken?.();
    });
  }

  /**
   * Write `chunks` to `stream` in order, counted as `write` counts each of them, until the stream has
   * taken on the last one (a stream calls back its writes in order: the others are taken by then);
   * then `taken` runs. One callback for the lot instead of one per chunk. Returns what the last
   * `write` returned (true for no chunks).
   */
  writeAll(stream: Writable, chunks: readonly Buffer[], taken?: () => void): boolean {
    const last = chunks.length - 1;
    if (last < 0) return true;
    let n = chunks.length * WRITE_OVERHEAD;
    for (const c of chunks) n += c.length;
    this.charge(n);
    for (let i = 0; i < last; i++) stream.write(chunks[i]!);
    return stream.write(chunks[last]!, () => {
      this.release(n);
      taken?.();
    });
  }
}

/**
 * Count every write made to `socket` (by ssh2, for every channel of the connection) on `meter` until
 * the socket has handed it to the kernel. Everything still counted is given back when the socket closes.
 */
export function meterSocket(socket: Writable, meter: OutputMeter): void {
  const write = socket.write;
  let generation = 0;
  socket.write = function meteredWrite(this: Writable, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const callback = typeof encoding === 'function' ? encoding : cb;
    const enc = typeof encoding === 'function' ? undefined : encoding;
    const bytes =
      Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? chunk.byteLength : Buffer.byteLength(String(chunk));
    const n = bytes + WRITE_OVERHEAD;
    const gen = generation;
    meter.charge(n);
    const done = (err?: Error | null): void => {
      if (gen === generation) meter.release(n);
      if (typeof callback === 'function') (callback as (e?: Error | null) => void)(err);
    };
    const writeAny = write as (
      this: Writable,
      c: unknown,
      e: BufferEncoding | undefined,
      cb: (err?: Error | null) => void,
    ) => boolean;
    return writeAny.call(this, chunk, enc as BufferEncoding | undefined, done);
  } as Writable['write'];
  socket.once('close', () => {
    generation++;
    meter.release(meter.queued);
  });
}
