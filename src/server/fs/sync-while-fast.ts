import { fstatSync } from 'node:fs';
import { SyncBudget } from './sync-budget.js';
import { fsError } from './fs-error.js';

/**
 * Reads and writes of at most this many bytes on a regular file may run synchronously. A small read
 * or write that hits the page cache takes a microsecond or two; the same call through the thread
 * pool costs tens of microseconds of CPU and two wake-ups. Larger calls stay on the thread pool,
 * where the copy runs beside the event loop.
 */
export const SYNC_IO_MAX_BYTES = 64 * 1024;

/**
 * A vectored read from the page cache (a batch of READs, see IoBatch) of at most this many bytes may
 * run synchronously too: the copy is a fraction of a millisecond per MiB, about what the thread pool's
 * hand-off and wake-ups cost, and the DATA replies then go out from the core (and cache) that just
 * filled them. A read that is slow (a cold disk) sends the next ones to the thread pool, as for any
 * call. Writes stay at SYNC_IO_MAX_BYTES: a large write may wait for writeback, and on the thread
 * pool it runs beside the reading of the next requests.
 */
export const SYNC_READ_MAX_BYTES = 4 * 1024 * 1024;

/** What SyncWhileFast needs of an open file: its descriptor, whether it was closed, and whether it is known to be a regular file. */
export interface OpenDescriptor {
  readonly fd: number;
  readonly closed: boolean;
  /** True when whoever opened it already checked (then no fstat is made here); undefined when unknown. */
  readonly regular?: boolean;
}

/**
 * The choice, per open file, between a synchronous call on its descriptor and the thread pool. Only
 * regular files are ever called synchronously: a FIFO or a device may block for as long as its
 * other end wishes, which must never hold the event loop. Slow calls (a cold disk, a network file
 * system, writeback throttling) send the file's next calls to the thread pool, as SyncBudget says.
 */
export class SyncWhileFast {
  private regular: boolean | undefined;
  private readonly budget: SyncBudget;

  constructor(
    private readonly file: OpenDescriptor,
    budget?: SyncBudget | number,
  ) {
    this.budget = budget instanceof SyncBudget ? budget : new SyncBudget(budget);
    this.regular = file.regular;
  }

  /** Whether a call moving `bytes` may run synchronously now (counts it as a thread-pool call if not). */
  allows(bytes: number): boolean {
    return this.allowsUpTo(bytes, SYNC_IO_MAX_BYTES);
  }

  /** Whether a read of `bytes` may run synchronously now (see SYNC_READ_MAX_BYTES). */
  allowsRead(bytes: number): boolean {
    return this.allowsUpTo(bytes, SYNC_READ_MAX_BYTES);
  }

  private allowsUpTo(bytes: number, max: number): boolean {
    if (bytes > max || this.file.closed) return false;
    if (this.regular === undefined) {
      try {
        this.regular = fstatSync(this.file.fd).isFile();
      } catch {
        this.regular = false;
      }
    }
    return this.regular && this.budget.take();
  }

  /**
   * Run `call` synchronously and note how long it took (its error is thrown, and counts alike). A
   * file closed in the meantime is EBADF without touching its old descriptor number.
   */
  run<T>(call: () => T): T {
    if (this.file.closed) throw fsError('EBADF');
    return this.budget.time(call);
  }
}
