/**
 * The events of a running SSH server, for the embedding code: logins, failed logins, completed
 * uploads and downloads. Listeners are called synchronously in the order added; one that throws (or
 * returns a promise that rejects) is reported through the server's `log` and the others still run:
 * a listener can never crash or stop the server. There is no 'error' event.
 */
import type { AuthMethod, LoginFailure } from './ssh-auth.js';

interface Peer {
  remoteAddress: string;
  remotePort: number;
}

export interface LoginEvent<Id> extends Peer {
  username: string;
  method: AuthMethod;
  /** What the authentication hook returned (for fixed users: `{ username }`). */
  identity: Id;
}

export interface LoginFailedEvent extends Peer {
  /** The user name tried. */
  username: string;
  /** The method tried ("password", "publickey", "keyboard-interactive", or another the client named). */
  method: string;
  reason: LoginFailure;
}

/** A completed transfer (see TransferReport): `bytes` written (upload) or read (download) on that handle. */
export interface TransferEvent<Id> extends Peer {
  username: string;
  identity: Id;
  /** The path inside the user's tree ("/docs/a.txt"). */
  path: string;
  bytes: number;
}

export interface SshServerEvents<Id> {
  login: LoginEvent<Id>;
  loginFailed: LoginFailedEvent;
  upload: TransferEvent<Id>;
  download: TransferEvent<Id>;
}

export type SshServerEventName = keyof SshServerEvents<unknown>;

/** The listening side of the events (what the running server exposes). */
export interface SshServerEventSource<Id> {
  on<E extends SshServerEventName>(event: E, listener: (e: SshServerEvents<Id>[E]) => unknown): this;
  once<E extends SshServerEventName>(event: E, listener: (e: SshServerEvents<Id>[E]) => unknown): this;
  off<E extends SshServerEventName>(event: E, listener: (e: SshServerEvents<Id>[E]) => unknown): this;
  listenerCount(event: SshServerEventName): number;
}

type AnyListener = (e: never) => unknown;

/** A small typed emitter whose `emit` never throws. */
export class SafeEmitter<Id> {
  private readonly listeners = new Map<SshServerEventName, { fn: AnyListener; once: boolean }[]>();

  constructor(private readonly log: (m: string) => void) {}

  add(event: SshServerEventName, fn: AnyListener, once: boolean): void {
    if (typeof fn !== 'function') throw new TypeError(`the listener for '${event}' must be a function`);
    const list = this.listeners.get(event) ?? [];
    list.push({ fn, once });
    this.listeners.set(event, list);
  }

  remove(event: SshServerEventName, fn: AnyListener): void {
    const list = this.listeners.get(event);
    if (!list) return;
    const i = list.findIndex((l) => l.fn === fn);
    if (i >= 0) list.splice(i, 1);
  }

  count(event: SshServerEventName): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  emit<E extends SshServerEventName>(event: E, payload: SshServerEvents<Id>[E]): void {
    const list = this.listeners.get(event);
    if (!list || list.length === 0) return;
    for (const l of [...list]) {
      if (l.once) this.remove(event, l.fn);
      try {
        const r = (l.fn as (e: SshServerEvents<Id>[E]) => unknown)(payload);
        if (r && typeof (r as Promise<unknown>).then === 'function') {
          (r as Promise<unknown>).then(undefined, (err: unknown) => this.report(event, err));
        }
      } catch (err) {
        this.report(event, err);
      }
    }
  }

  private report(event: string, err: unknown): void {
    try {
      this.log(`a '${event}' listener threw (ignored): ${(err as Error)?.message ?? String(err)}`);
    } catch {
      // a log function that throws too: nothing more to do
    }
  }

  /** The on/once/off methods, bound to `target`, for the running server object. */
  source<T extends object>(target: T): T & SshServerEventSource<Id> {
    const t = target as T & SshServerEventSource<Id>;
    t.on = (event, fn) => (this.add(event, fn as AnyListener, false), t);
    t.once = (event, fn) => (this.add(event, fn as AnyListener, true), t);
    t.off = (event, fn) => (this.remove(event, fn as AnyListener), t);
    t.listenerCount = (event) => this.count(event);
    return t;
  }
}
