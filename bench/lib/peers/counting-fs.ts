/**
 * A FileSystem wrapper that counts what the server does with the storage: handles opened and closed,
 * calls running at once (the server's real concurrency) and, optionally, holds every call at a gate
 * so a test can see how many requests the server lets through.
 */
import type { FileSystem, FsDir, FsFile } from '../../../src/server/index.js';

export class CountingFs implements FileSystem {
  openFiles = 0;
  openDirs = 0;
  filesOpened = 0;
  dirsOpened = 0;
  /** Storage calls running right now, and the most ever seen at once. */
  running = 0;
  maxRunning = 0;
  calls = 0;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;

  constructor(readonly inner: FileSystem) {}

  /** Hold every storage call until release() (calls already running finish). */
  hold(): void {
    if (this.gate) return;
    this.gate = new Promise((r) => (this.openGate = r));
  }
  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }
  get openHandles(): number {
    return this.openFiles + this.openDirs;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.gate) await this.gate;
      return await fn();
    } finally {
      this.running--;
    }
  }

  private wrapFile(f: FsFile): FsFile {
    let open = true;
    return {
      read: (pos, len) => this.call(() => f.read(pos, len)),
      write: (pos, data) => this.call(() => f.write(pos, data)),
      stat: () => this.call(() => f.stat()),
      setstat: (a) => this.call(() => f.setstat(a)),
      sync: () => this.call(() => f.sync()),
      close: () =>
        this.call(async () => {
          if (open) {
            open = false;
            this.openFiles--;
          }
          await f.close();
        }),
    };
  }

  private wrapDir(d: FsDir): FsDir {
    let open = true;
    return {
      read: (max) => this.call(() => d.read(max)),
      close: () =>
        this.call(async () => {
          if (open) {
            open = false;
            this.openDirs--;
          }
          await d.close();
        }),
    };
  }

  open: FileSystem['open'] = (p, o) =>
    this.call(async () => {
      const f = await this.inner.open(p, o);
      this.openFiles++;
      this.filesOpened++;
      return this.wrapFile(f);
    });
  opendir: FileSystem['opendir'] = (p) =>
    this.call(async () => {
      const d = await this.inner.opendir(p);
      this.openDirs++;
      this.dirsOpened++;
      return this.wrapDir(d);
    });
  stat: FileSystem['stat'] = (p) => this.call(() => this.inner.stat(p));
  lstat: FileSystem['lstat'] = (p) => this.call(() => this.inner.lstat(p));
  setstat: FileSystem['setstat'] = (p, a, o) => this.call(() => this.inner.setstat(p, a, o));
  mkdir: FileSystem['mkdir'] = (p, m) => this.call(() => this.inner.mkdir(p, m));
  rmdir: FileSystem['rmdir'] = (p) => this.call(() => this.inner.rmdir(p));
  remove: FileSystem['remove'] = (p) => this.call(() => this.inner.remove(p));
  rename: FileSystem['rename'] = (a, b, o) => this.call(() => this.inner.rename(a, b, o));
  link = (a: string, b: string): Promise<void> => {
    const inner = this.inner.link;
    if (!inner) return Promise.reject(Object.assign(new Error('ENOSYS'), { code: 'ENOSYS' }));
    return this.call(() => inner.call(this.inner, a, b));
  };
  symlink: FileSystem['symlink'] = (t, l) => this.call(() => this.inner.symlink(t, l));
  readlink: FileSystem['readlink'] = (p) => this.call(() => this.inner.readlink(p));
  realpath: FileSystem['realpath'] = (p) => this.call(() => this.inner.realpath(p));
  statvfs = (p: string): ReturnType<NonNullable<FileSystem['statvfs']>> => {
    const inner = this.inner.statvfs;
    if (!inner) return Promise.reject(Object.assign(new Error('ENOSYS'), { code: 'ENOSYS' }));
    return this.call(() => inner.call(this.inner, p));
  };
  userName = (uid: number): string | undefined => this.inner.userName?.(uid);
  groupName = (gid: number): string | undefined => this.inner.groupName?.(gid);
}
