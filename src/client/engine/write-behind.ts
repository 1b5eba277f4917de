import type { FileHandle } from 'node:fs/promises';
import { WRITE_BEHIND_BYTES } from '../defaults.js';
import { localError } from '../core/local-error.js';

/** Where downloaded bytes go, in order from `start`. */
export interface DownloadSink {
  write(offset: number, data: Buffer): Promise<void>;
  /**
   * Optional: `write` of the buffers one after the other (the pieces of one reply). A download uses
   * it, when the sink has it, to take large replies as the pieces they arrived in, never joined.
   */
  writev?(offset: number, data: readonly Buffer[]): Promise<void>;
  /**
   * Called once after the last write (and after a failure): resolves when every byte accepted by
   * `write` is written, rejects with a write error not reported yet. Sinks whose `write` resolves only
   * once the bytes are written need not have it.
   */
  flush?(): Promise<void>;
}

/** Write all of `data` at `position` of a local file (a positional write may take only part of it). */
export async function writeAt(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) done += (await fh.write(data, done, data.length - done, position + done)).bytesWritten;
}

/** Write all of `bufs` one after the other from `position` of a local file (a writev may take only part of them). */
export async function writevAt(fh: FileHandle, bufs: readonly Buffer[], position: number): Promise<void> {
  let list = bufs;
  let pos = position;
  while (list.length > 0) {
    const { bytesWritten } = await fh.writev(list as Buffer[], pos);
    pos += bytesWritten;
    let skip = bytesWritten;
    let i = 0;
    while (i < list.length && skip >= list[i]!.length) skip -= list[i++]!.length;
    list = list.slice(i);
    if (list.length > 0 && skip > 0) list = [list[0]!.subarray(skip), ...list.slice(1)];
    if (bytesWritten === 0 && list.length > 0) throw localError('EIO', 'write returned 0 bytes');
  }
}

/** A local file as a DownloadSink whose `write` resolves once the bytes are written (positional writes). */
export function fileSink(fh: FileHandle): DownloadSink {
  return {
    write: (offset, data) => writeAt(fh, data, offset),
    writev: (offset, data) => (data.length === 1 ? writeAt(fh, data[0]!, offset) : writevAt(fh, data, offset)),
  };
}

/**
 * A local file as a write-behind DownloadSink. `write` returns at once while fewer than `maxPending`
 * bytes wait; buffers that arrive while a write is running are gathered and written together with
 * one writev. A download of 256 KiB chunks then costs a handful of thread-pool round trips per
 * megabyte instead of four, and the network never waits for the disk within that bound.
 *
 * With `minBatch`, a write starts only once that many contiguous bytes wait (or at `flush`, or when
 * the next buffer is not contiguous): the disk is usually faster than the network, so without it
 * nearly every chunk is written on its own as it arrives. It must be below `maxPending` (it is capped
 * at half of it).
 *
 * `write` resolving does NOT mean the bytes are in the file: call `flush()` before relying on the
 * file (size, checkpoints, rename). The first write error is reported by the next `write` that starts
 * or waits for a disk write, or by `flush`.
 */
export function writeBehindFileSink(fh: FileHandle, maxPending = WRITE_BEHIND_BYTES, minBatch = 0): DownloadSink {
  const startAt = Math.min(minBatch, Math.floor(maxPending / 2));
  let queue: Buffer[] = [];
  let queueStart = 0; // file offset of queue[0]
  let queueBytes = 0;
  let busyBytes = 0; // bytes of the writev running now
  let running: Promise<void> | undefined;
  let failure: unknown;
  /** Write everything queued, whatever its size (flush, or a buffer that is not contiguous). */
  let draining = false;
  let waiters: Array<() => void> = [];

  const wakeAll = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const run = async (): Promise<void> => {
    try {
      while (queue.length > 0 && failure === undefined && (queueBytes >= startAt || draining)) {
        const bufs = queue;
        const at = queueStart;
        busyBytes = queueBytes;
        queue = [];
        queueStart += queueBytes;
        queueBytes = 0;
        wakeAll();
        await writevAt(fh, bufs, at);
        busyBytes = 0;
        wakeAll();
      }
    } catch (err) {
      failure ??= err;
    } finally {
      busyBytes = 0;
      running = undefined;
      wakeAll();
    }
  };

  const isRunning = () => running !== undefined;
  const idle = async () => {
    draining = true;
    try {
      for (;;) {
        if (queue.length > 0 && failure === undefined) running ??= run();
        if (!running) return;
        await running;
      }
    } finally {
      draining = false;
    }
  };

  const accept = async (offset: number, data: readonly Buffer[], length: number): Promise<void> => {
    if (failure !== undefined) throw failure;
    if (length === 0) return;
    if (queueBytes > 0 && offset !== queueStart + queueBytes) await idle(); // not contiguous: write what waits first
    if (failure !== undefined) throw failure;
    if (queueBytes === 0) queueStart = offset;
    for (const b of data) if (b.length > 0) queue.push(b);
    queueBytes += length;
    if (queueBytes >= startAt) running ??= run();
    while (queueBytes + busyBytes > maxPending && isRunning() && failure === undefined) {
      await new Promise<void>((r) => waiters.push(r));
    }
    if (failure !== undefined) throw failure;
  };

  return {
    write: (offset, data) => accept(offset, [data], data.length),
    writev(offset, data) {
      let length = 0;
      for (const b of data) length += b.length;
      return accept(offset, data, length);
    },
    async flush() {
      await idle();
      if (failure !== undefined) throw failure;
    },
  };
}
