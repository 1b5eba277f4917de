import fs, { type Stats } from 'node:fs';
import { fsError } from './fs-error.js';
import type { SyncBudget } from './sync-budget.js';

type Done<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

/**
 * An open file descriptor with the part of fs.promises' FileHandle that LocalFile uses, made of the
 * callback calls (about half the CPU of the promise API per call) so that a descriptor opened
 * synchronously can be used like one opened on the thread pool. Like FileHandle, it never lets the
 * descriptor number be reused under a call: close() waits for the calls in flight, and every call
 * after close() fails with EBADF without touching the number. The close itself is synchronous while
 * synchronous calls are fast (see SyncBudget): closing a local file is a microsecond, a network file
 * system's flush on close may not be.
 */
export class FdHandle {
  private inFlight = 0;
  private wasClosed = false;
  private whenIdle: (() => void) | undefined;

  constructor(
    readonly fd: number,
    /** Decides whether this descriptor's calls may run synchronously (shared with the file system's path calls). */
    readonly budget: SyncBudget,
    /** True when the opener checked that it is a regular file (undefined: not known). */
    readonly regular?: boolean,
  ) {}

  /** True once close() was called: no call reaches the descriptor number after that. */
  get closed(): boolean {
    return this.wasClosed;
  }

  private call<T>(start: (done: Done<T>) => void): Promise<T> {
    if (this.wasClosed) return Promise.reject(fsError('EBADF'));
    this.inFlight++;
    return new Promise<T>((resolve, reject) => {
      const settle = (err: unknown, value?: T): void => {
        if (--this.inFlight === 0) this.whenIdle?.();
        if (err) reject(err);
        else resolve(value as T);
      };
      try {
        start((err, value) => settle(err, value));
      } catch (err) {
        // Node checks arguments before the call starts (a position past 2^53, say) and throws at
        // once: the callback will never run, so the count must drop here or close() waits forever.
        settle(err);
      }
    });
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.call<number>((done) => fs.read(this.fd, buffer, offset, length, position, done)).then((bytesRead) => ({
      bytesRead,
    }));
  }

  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.call<number>((done) => fs.write(this.fd, buffer, offset, length, position, done)).then(
      (bytesWritten) => ({ bytesWritten }),
    );
  }

  readv(buffers: Buffer[], position: number): Promise<{ bytesRead: number }> {
    return this.call<number>((done) => fs.readv(this.fd, buffers, position, done)).then((bytesRead) => ({
      bytesRead,
    }));
  }

  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> {
    return this.call<number>((done) => fs.writev(this.fd, buffers, position, done)).then((bytesWritten) => ({
      bytesWritten,
    }));
  }

  stat(): Promise<Stats> {
    return this.call<Stats>((done) => fs.fstat(this.fd, done));
  }

  truncate(length: number): Promise<void> {
    return this.call<void>((done) => fs.ftruncate(this.fd, length, (err) => done(err, undefined)));
  }

  chmod(mode: number): Promise<void> {
    return this.call<void>((done) => fs.fchmod(this.fd, mode, (err) => done(err, undefined)));
  }

  chown(uid: number, gid: number): Promise<void> {
    return this.call<void>((done) => fs.fchown(this.fd, uid, gid, (err) => done(err, undefined)));
  }

  utimes(atime: number, mtime: number): Promise<void> {
    return this.call<void>((done) => fs.futimes(this.fd, atime, mtime, (err) => done(err, undefined)));
  }

  sync(): Promise<void> {
    return this.call<void>((done) => fs.fsync(this.fd, (err) => done(err, undefined)));
  }

  /** Close once every call in flight has finished; a second close() does nothing. */
  async close(): Promise<void> {
    if (this.wasClosed) return;
    this.wasClosed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    if (this.budget.take()) return this.budget.time(() => fs.closeSync(this.fd));
    await new Promise<void>((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}
