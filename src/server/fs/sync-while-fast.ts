import { fstatSync } from 'node:fs';
import { SyncBudget } from './sync-budget.js';
import { fsError } from './fs-error.js';

/**
 * Reads and writes of at most this many bytes on a regular file may run synchronously: a whole batch
 * of READs or WRITEs (see IoBatch, at most 4 MiB). A call that hits the page cache copies a fraction
 * of a millisecond per MiB; the same call through the thread pool costs a hand-off and two wake-ups,
 * and its copy runs on another core than the one that received the bytes (a WRITE's) or sends them
 * (a READ's DATA), which on a 2-core machine measured costlier than the copy itself: a 1 GiB upload
 * through `sftp -D` took half the server CPU with its writes made here. A slow call (a cold disk, a
 * network file system, writeback throttling) sends the file's next calls to the thread pool, as
 * SyncBudget says.
 */
export const SYNC_IO_MAX_BYTES = 4 * 1024 * 1024;

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
    if (bytes > SYNC_IO_MAX_BYTES || this.file.closed) return false;
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
