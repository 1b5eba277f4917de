/**
 * A single-waiter wake-up for the windowed engines: `wait()` parks until the next `wake()`. A new
 * `wait()` replaces an earlier one that was not woken; `wake()` with nobody waiting does nothing.
 */
export class Wakeup {
  private waiter: (() => void) | undefined;

  wait(): Promise<void> {
    return new Promise<void>((resolve) => (this.waiter = resolve));
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
