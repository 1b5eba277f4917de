import { fstatSync } from 'node:fs';

/**
 * Reads and writes of at most this many bytes on a regular file may run synchronously. A small read
 * or write that hits the page cache takes a microsecond or two; the same call through the thread
 * pool costs tens of microseconds of CPU and two wake-ups. Larger calls stay on the thread pool,
 * where the copy runs beside the event loop.
 */
export const SYNC_IO_MAX_BYTES = 64 * 1024;
/**
 * A synchronous call that takes longer than this (milliseconds) sends the next calls of that file to
 * the thread pool: 1, 2, 4 ... up to MAX_ASYNC_RUN of them while synchronous calls keep being slow
 * (a cold disk, a network file system, writeback throttling), so a slow file never stalls the other
 * sessions for long.
 */
export const SYNC_IO_BUDGET_MS = 2;
const MAX_ASYNC_RUN = 64;

/**
 * The choice, per open file, between a synchronous call on its descriptor and the thread pool. Only
 * regular files are ever called synchronously: a FIFO or a device may block for as long as its
 * other end wishes, which must never hold the event loop.
 */
export class SyncWhileFast {
  private regular: boolean | undefined;
  private asyncLeft = 0;
  private asyncRun = 1;

  constructor(
    private readonly fd: number,
    private readonly budgetMs: number = SYNC_IO_BUDGET_MS,
  ) {}

  /** Whether a call moving `bytes` may run synchronously now (counts it as a thread-pool call if not). */
  allows(bytes: number): boolean {
    if (bytes > SYNC_IO_MAX_BYTES) return false;
    if (this.regular === undefined) {
      try {
        this.regular = fstatSync(this.fd).isFile();
      } catch {
        this.regular = false;
      }
    }
    if (!this.regular) return false;
    if (this.asyncLeft > 0) {
      this.asyncLeft--;
      return false;
    }
    return true;
  }

  /** Run `call` synchronously and note how long it took (its error is thrown, and counts alike). */
  run<T>(call: () => T): T {
    const t0 = performance.now();
    try {
      return call();
    } finally {
      if (performance.now() - t0 > this.budgetMs) {
        this.asyncLeft = this.asyncRun;
        this.asyncRun = Math.min(MAX_ASYNC_RUN, this.asyncRun * 2);
      } else this.asyncRun = 1;
    }
  }
}
