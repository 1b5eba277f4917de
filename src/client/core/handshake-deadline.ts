import { SftpError, StatusCode } from '../../protocol/index.js';
import { abortError } from './errors.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../defaults.js';

export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../defaults.js';

export interface HandshakeDeadlineOptions {
  /** Aborting rejects the connect with an AbortError (and tears down what was opened). */
  signal?: AbortSignal;
  /** Milliseconds; 0 or Infinity: no limit. Default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** The error a connect rejects with when the server does not finish the handshake in time. */
export function handshakeTimeoutError(ms: number): SftpError {
  return new SftpError({
    status: StatusCode.NO_CONNECTION,
    code: 'ETIMEDOUT',
    message: `the SFTP handshake did not finish within ${ms} ms (no VERSION, or no answer to the first requests)`,
    op: 'connect',
  });
}

/**
 * The time limit and cancellation of one connect. `run(p)` settles as `p` does unless the deadline
 * passes or the signal fires first; then every `onExpire` callback runs (to destroy the stream or the
 * connection: nothing is left half open) and `run` rejects with an SftpError of code 'ETIMEDOUT' or an
 * AbortError. `done()` stops the timer and forgets the signal; call it when connecting is over.
 */
export class HandshakeDeadline {
  private failure: Error | undefined;
  private readonly expireHooks: Array<(err: Error) => void> = [];
  private readonly rejecters = new Set<(err: Error) => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort: (() => void) | undefined;

  constructor(opts: HandshakeDeadlineOptions = {}) {
    const ms = opts.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!(ms >= 0)) throw new RangeError(`handshakeTimeoutMs must be a number of at least 0, got ${ms}`);
    this.signal = opts.signal;
    if (this.signal?.aborted) {
      this.expire(abortError(this.signal));
      return;
    }
    if (ms > 0 && Number.isFinite(ms)) this.timer = setTimeout(() => this.expire(handshakeTimeoutError(ms)), ms);
    if (this.signal) {
      const signal = this.signal;
      this.onAbort = () => this.expire(abortError(signal));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }

  /** Call `fn` with the reason when the deadline passes or the signal fires (at once if it already has). */
  onExpire(fn: (err: Error) => void): void {
    if (this.failure) fn(this.failure);
    else this.expireHooks.push(fn);
  }

  /** Settle as `p` does, or reject with the expiry reason (p's later outcome is then dropped). */
  run<T>(p: Promise<T>): Promise<T> {
    if (this.failure) {
      p.catch(() => {});
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      const fail = (err: Error) => {
        p.catch(() => {});
        reject(err);
      };
      this.rejecters.add(fail);
      p.then(
        (v) => {
          this.rejecters.delete(fail);
          resolve(v);
        },
        (e: unknown) => {
          this.rejecters.delete(fail);
          reject(e);
        },
      );
    });
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    this.expireHooks.length = 0;
  }

  private expire(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    const hooks = this.expireHooks.splice(0);
    this.done();
    for (const fn of hooks) {
      try {
        fn(err);
      } catch {
        // tearing down must not throw past the deadline
      }
    }
    for (const r of [...this.rejecters]) r(err);
    this.rejecters.clear();
  }
}
