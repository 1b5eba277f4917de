/**
 * Whether a file system call may run synchronously on the event loop. On a local file system a
 * stat, an open or a readlink of a name in the kernel's caches takes a microsecond or two, far less
 * than a trip through libuv's thread pool (a hand-off to a worker thread and a wake-up back); but a
 * cold disk or a network file system can take milliseconds, and while a synchronous call waits, every
 * session of the process waits. So calls run synchronously while they are fast: a call that took
 * longer than the budget sends the next calls to the thread pool — 1, 2, 4 ... up to MAX_ASYNC_RUN of
 * them while slow calls keep coming — and a fast synchronous call resets the run to 1. A budget of 0
 * sends every call to the thread pool.
 */
export const SYNC_CALL_BUDGET_MS = 2;
const MAX_ASYNC_RUN = 64;

export class SyncBudget {
  /** Calls still to send to the thread pool, and the length of the next such run. */
  private asyncLeft = 0;
  private asyncRun = 1;

  constructor(private readonly budgetMs = SYNC_CALL_BUDGET_MS) {}

  /** True when the next call may run synchronously; false counts one call sent to the thread pool. */
  take(): boolean {
    if (this.budgetMs <= 0) return false;
    if (this.asyncLeft === 0) return true;
    this.asyncLeft--;
    return false;
  }

  /** Run a synchronous call and report how long it took (its error is thrown, and counts alike). */
  time<T>(call: () => T): T {
    const t0 = performance.now();
    try {
      return call();
    } finally {
      this.done(t0);
    }
  }

  /** Report a synchronous call that began at `t0` (performance.now()). */
  done(t0: number): void {
    if (performance.now() - t0 > this.budgetMs) {
      this.asyncLeft = this.asyncRun;
      this.asyncRun = Math.min(MAX_ASYNC_RUN, this.asyncRun * 2);
    } else this.asyncRun = 1;
  }
}
