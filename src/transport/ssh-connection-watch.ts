import { errorMonitor, type EventEmitter } from 'node:events';
import type ssh2 from 'ssh2';
import { SftpError, StatusCode } from '../protocol/index.js';

/** Where an ssh2 connection goes ("host:port"), from the settings it connected with, when known. */
function connectionTarget(conn: ssh2.Client): string | undefined {
  const cfg = (conn as unknown as { config?: { host?: unknown; port?: unknown } }).config;
  return typeof cfg?.host === 'string' && cfg.host !== '' ? `${cfg.host}:${String(cfg.port ?? 22)}` : undefined;
}

/**
 * The loss of an SSH connection in words, for the ECONNRESET errors of the calls it leaves pending:
 * "the SSH connection to 127.0.0.1:2222 failed (read ECONNRESET)", "... closed".
 */
function lossReason(target: string | undefined, err: Error | undefined): string {
  const conn = target ? `the SSH connection to ${target}` : 'the SSH connection';
  return err ? `${conn} failed (${err.message})` : `${conn} closed`;
}

/** What ssh2 says about where an error came from (set on the errors its Client emits). */
type Ssh2Error = Error & { code?: unknown; level?: unknown };

/**
 * An error of connecting, as the caller sees it: a failure of the connection itself — its socket
 * (refused, reset, unreachable), ssh2's ready timeout, or the peer going before the SSH handshake —
 * becomes an SftpError of op 'connect' with the socket's code (ECONNRESET when it has none; ETIMEDOUT
 * for the timeout) and the original as `cause`. Anything else (authentication refused, a host key
 * refused, an AbortError) is returned unchanged.
 */
export function connectFailure(err: unknown, target: string | undefined): unknown {
  const e = err as Ssh2Error;
  if (!(err instanceof Error) || err instanceof SftpError) return err;
  const timeout = e.level === 'client-timeout';
  const socket = e.level === 'client-socket' || err.message === 'Connection lost before handshake';
  if (!timeout && !socket) return err;
  const code = timeout ? 'ETIMEDOUT' : typeof e.code === 'string' && e.code !== '' ? e.code : 'ECONNRESET';
  const where = target ? ` to ${target}` : '';
  return new SftpError({
    status: code === 'ECONNRESET' ? StatusCode.CONNECTION_LOST : StatusCode.NO_CONNECTION,
    code,
    message: timeout
      ? `the SSH connection${where} was not ready in time (${err.message})`
      : `the SSH connection${where} failed before it was ready (${err.message})`,
    op: 'connect',
    cause: err,
  });
}

type LossHook = (reason: string, cause: Error | undefined) => void;

/**
 * Watches an ssh2 connection for its loss: its first 'error', or its 'close'. Hooks added with
 * `onLoss` run once, at the loss (at once if it already happened).
 *
 * - `own` (a connection this library made): an 'error' listener stays on it for its whole life, so no
 *   error it emits — before or after `ready`, however late — is ever thrown at the process.
 * - `observe` (a connection the caller made and gave us): errors are only observed, through
 *   `events.errorMonitor`, which does not count as handling them: the caller's own 'error' listeners,
 *   or their absence, decide what becomes of them exactly as without us. `stop()` removes our listeners.
 */
export class ConnectionWatch {
  /** The first error the connection emitted, if any. */
  error: Error | undefined;
  lost = false;
  private readonly hooks = new Set<LossHook>();
  private readonly onError = (err: Error): void => {
    this.error ??= err;
    this.fire();
  };
  private readonly onClose = (): void => this.fire();

  constructor(
    private readonly conn: ssh2.Client,
    private readonly mode: 'own' | 'observe',
  ) {
    if (mode === 'own') conn.on('error', this.onError);
    else (conn as EventEmitter).on(errorMonitor, this.onError); // ssh2's typings list its named events only
    conn.on('close', this.onClose);
  }

  /** "host:port" once the connection was started (see connectionTarget). */
  get target(): string | undefined {
    return connectionTarget(this.conn);
  }

  /** Why the connection is gone (for the errors of the calls it leaves pending). */
  get reason(): string {
    return lossReason(this.target, this.error);
  }

  /** Call `fn` at the loss (at once if it happened already); returns a function that forgets `fn`. */
  onLoss(fn: LossHook): () => void {
    if (this.lost) {
      fn(this.reason, this.error);
      return () => {};
    }
    this.hooks.add(fn);
    return () => this.hooks.delete(fn);
  }

  /**
   * Settle as `p` does, unless the connection is lost first: then reject with an SftpError
   * ECONNRESET of `op` (and hand `p`'s late value, if any, to `late` to be closed).
   */
  race<T>(p: Promise<T>, op: string, late?: (v: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const forget = this.onLoss((reason, cause) => {
        if (done) return;
        done = true;
        reject(new SftpError({ status: StatusCode.CONNECTION_LOST, code: 'ECONNRESET', message: reason, op, cause }));
      });
      p.then(
        (v) => {
          forget();
          if (done) late?.(v);
          else {
            done = true;
            resolve(v);
          }
        },
        (e: unknown) => {
          forget();
          if (done) return;
          done = true;
          reject(e);
        },
      );
    });
  }

  /**
   * Forget every hook; an observed connection also loses our listeners. A connection of our own keeps
   * its 'error' listener (it is never left without one).
   */
  stop(): void {
    this.hooks.clear();
    this.conn.removeListener('close', this.onClose);
    if (this.mode === 'observe') (this.conn as EventEmitter).removeListener(errorMonitor, this.onError);
  }

  private fire(): void {
    if (this.lost) return;
    this.lost = true;
    const hooks = [...this.hooks];
    this.hooks.clear();
    const reason = this.reason;
    for (const fn of hooks) fn(reason, this.error);
  }
}
