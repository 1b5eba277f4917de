import type { FileHandle } from 'node:fs/promises';
import { WRITE_BEHIND_BYTES } from '../defaults.js';
import { localError } from '../core/local-error.js';

/** Where downloaded bytes go, in order from `start`. */
export interface DownloadSink {
  write(offset: number, data: Buffer): Promise<void>;
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

/** A local file as a DownloadSink whose `write` resolves once the bytes are written (positional writes). */
export function fileSink(fh: FileHandle): DownloadSink {
  return { write: (offset, data) => writeAt(fh, data, offset) };
}

/**
 * A local file as a write-behind DownloadSink. `write` returns at once while fewer than `maxPending`
 * bytes wait; buffers that arrive while a write is running are gathered and written together with
 * one writev. A download of 256 KiB chunks then costs a handful of thread-pool round trips per
 * megabyte instead of four, and the network never waits for the disk within that bound.
 *
 * `write` resolving does NOT mean the bytes are in the file: call `flush()` before relying on the
 * file (size, checkpoints, rename). The first write error is reported by the next `write` or `flush`.
 */
export function writeBehindFileSink(fh: FileHandle, maxPending = WRITE_BEHIND_BYTES): DownloadSink {
  let queue: Buffer[] = [];
  let queueStart = 0; // file offset of queue[0]
  let queueBytes = 0;
  let busyBytes = 0; // bytes of the writev running now
  let running: Promise<void> | undefined;
  let failure: unknown;
  let waiters: Array<() => void> = [];

  const wakeAll = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const writevAll = async (bufs: Buffer[], position: number): Promise<void> => {
    let list = bufs;
    let pos = position;
    while (list.length > 0) {
      const { bytesWritten } = await fh.writev(list, pos);
      pos += bytesWritten;
      let skip = bytesWritten;
      let i = 0;
      while (i < list.length && skip >= list[i]!.length) skip -= list[i++]!.length;
      list = list.slice(i);
      if (list.length > 0 && skip > 0) list[0] = list[0]!.subarray(skip);
      if (bytesWritten === 0 && list.length > 0) throw localError('EIO', 'write returned 0 bytes');
    }
  };

  const run = async (): Promise<void> => {
    try {
      while (queue.length > 0 && failure === undefined) {
        const bufs = queue;
        const at = queueStart;
        busyBytes = queueBytes;
        queue = [];
        queueStart += queueBytes;
        queueBytes = 0;
        wakeAll();
        await writevAll(bufs, at);
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
    while (running) await running;
  };

  return {
    async write(offset, data) {
      if (failure !== undefined) throw failure;
      if (data.length === 0) return;
      if (queueBytes > 0 && offset !== queueStart + queueBytes) await idle(); // not contiguous: finish first
      if (failure !== undefined) throw failure;
      if (queueBytes === 0) queueStart = offset;
      queue.push(data);
      queueBytes += data.length;
      running ??= run();
      while (queueBytes + busyBytes > maxPending && isRunning() && failure === undefined) {
        await new Promise<void>((r) => waiters.push(r));
      }
      if (failure !== undefined) throw failure;
    },
    async flush() {
      await idle();
      if (failure !== undefined) throw failure;
    },
  };
}
