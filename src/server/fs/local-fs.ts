import fsp from 'node:fs/promises';
import fs, { constants as C } from 'node:fs';
import path from 'node:path';
import type { FileStats, FileSystem, FsDir, FsFile, FsStatVfs, OpenOptions, SetStats } from './file-system.js';
import { LocalDir, statsFromNode } from './local-dir.js';
import { FdHandle } from './fd-handle.js';
import { fsError, errnoOf } from './fs-error.js';
import { Jail, O_PATH } from './jail.js';
import type { SyncBudget } from './sync-budget.js';
import { SyncWhileFast } from './sync-while-fast.js';
import { normalizeVirtual, virtualBasename, virtualDirname, joinVirtual } from './vpath.js';
import { systemNames } from '../users.js';
import { piecesLength } from '../../protocol/framing-pieces.js';

export { statsFromNode };

function openFlags(o: OpenOptions): number {
  let f = o.read && o.write ? C.O_RDWR : o.write ? C.O_WRONLY : C.O_RDONLY;
  if (o.append) f |= C.O_APPEND;
  if (o.create) f |= C.O_CREAT;
  if (o.truncate) f |= C.O_TRUNC;
  if (o.create && o.exclusive) f |= C.O_EXCL;
  return f | C.O_NOFOLLOW;
}

async function applyToHandle(fh: FdHandle, a: SetStats): Promise<void> {
  if (a.size !== undefined) await fh.truncate(a.size);
  if (a.mode !== undefined) await fh.chmod(a.mode & 0o7777);
  if (a.uid !== undefined && a.gid !== undefined) await fh.chown(a.uid, a.gid);
  if (a.atime !== undefined && a.mtime !== undefined) await fh.utimes(a.atime, a.mtime);
}

/** openIn's answers other than a file: the name is a symlink to follow; open it on the thread pool. */
const FOLLOW = Symbol('follow');
const ON_POOL = Symbol('on-pool');

/** open(2) on the thread pool, into an FdHandle. */
function openOnPool(p: string, flags: number, mode: number, budget: SyncBudget): Promise<FdHandle> {
  return new Promise((resolve, reject) =>
    fs.open(p, flags, mode, (err, fd) => (err ? reject(err) : resolve(new FdHandle(fd, budget)))),
  );
}

/** open(2) of `p` with O_CREAT|O_EXCL added: a new file's descriptor, or undefined when the name exists. */
function openNewOrUndefined(p: string, flags: number, mode: number): number | undefined {
  try {
    return fs.openSync(p, flags | C.O_EXCL | C.O_NONBLOCK, mode);
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return undefined;
    throw err;
  }
}

/** What is left of an iovec list after its first `n` bytes (views, no copies). */
function skipBytes(buffers: readonly Buffer[], n: number): readonly Buffer[] {
  let i = 0;
  while (i < buffers.length && n >= buffers[i]!.length) n -= buffers[i++]!.length;
  if (i === buffers.length) return [];
  if (n === 0) return i === 0 ? buffers : buffers.slice(i);
  return [buffers[i]!.subarray(n), ...buffers.slice(i + 1)];
}

/** An open file; small reads and writes run synchronously on its descriptor while that is fast (see SyncWhileFast). */
class LocalFile implements FsFile {
  private readonly direct: SyncWhileFast;
  constructor(private readonly fh: FdHandle) {
    this.direct = new SyncWhileFast(fh, fh.budget);
  }
  async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      if (position + got >= Number.MAX_SAFE_INTEGER) break; // no byte is addressable there: end of file
      const n = Math.min(length - got, Number.MAX_SAFE_INTEGER - (position + got));
      const bytesRead = this.direct.allows(n)
        ? this.direct.run(() => fs.readSync(this.fh.fd, buf, got, n, position + got))
        : (await this.fh.read(buf, got, n, position + got)).bytesRead;
      if (bytesRead === 0) break;
      got += bytesRead;
      // A short read is answered as it is (SFTP's READ may return fewer bytes, and a regular file's
      // read is short at its end): no second call just to be told the end of file.
      if (bytesRead < n) break;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
  async write(position: number, data: Buffer): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const n = data.length - done;
      done += this.direct.allows(n)
        ? this.direct.run(() => fs.writeSync(this.fh.fd, data, done, n, position + done))
        : (await this.fh.write(data, done, n, position + done)).bytesWritten;
    }
  }
  async writev(position: number, buffers: readonly Buffer[]): Promise<void> {
    let rest = buffers;
    while (rest.length > 0) {
      const iov = rest as Buffer[];
      const bytesWritten = this.direct.allows(piecesLength(rest))
        ? this.direct.run(() => fs.writevSync(this.fh.fd, iov, position))
        : (await this.fh.writev(iov, position)).bytesWritten;
      position += bytesWritten;
      rest = skipBytes(rest, bytesWritten);
    }
  }
  async readv(position: number, buffers: readonly Buffer[]): Promise<number> {
    let rest = buffers;
    let got = 0;
    while (rest.length > 0) {
      const iov = rest as Buffer[];
      const at = position + got;
      if (at + piecesLength(rest) > Number.MAX_SAFE_INTEGER) {
        // past 2^53 no offset is exact: read up to there one buffer at a time through read()
        for (const b of rest) {
          const piece = await this.read(position + got, b.length);
          piece.copy(b);
          got += piece.length;
          if (piece.length < b.length) break;
        }
        return got;
      }
      const bytesRead = this.direct.allows(piecesLength(rest))
        ? this.direct.run(() => fs.readvSync(this.fh.fd, iov, at))
        : (await this.fh.readv(iov, at)).bytesRead;
      if (bytesRead === 0) break;
      got += bytesRead;
      rest = skipBytes(rest, bytesRead);
      // Cut short inside the last buffer: its request gets a shorter DATA (legal in SFTP, and where a
      // regular file's read is short: at its end), without a second call only to read the end of
      // file. Short before the last buffer, the rest is asked again, so no request is told EOF early.
      if (rest.length === 1 && rest[0] !== buffers[buffers.length - 1]) break;
    }
    return got;
  }
  async stat(): Promise<FileStats> {
    return statsFromNode(await this.fh.stat());
  }
  setstat(attrs: SetStats): Promise<void> {
    return applyToHandle(this.fh, attrs);
  }
  sync(): Promise<void> {
    return this.fh.sync();
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * The local file system under one root directory. `..`, absolute paths and symlinks never reach
 * outside the root: every name is resolved inside a checked parent directory (see Jail).
 */
export class LocalFs implements FileSystem {
  readonly jail: Jail;
  /** The budget given for one call, and for one batch of a listing (undefined: the defaults). */
  private readonly syncBudgetMs: number | undefined;
  /**
   * `syncBudgetMs`: how long one file system call, or one batch of a directory listing, may take
   * before the next ones go to the thread pool (see SyncBudget and LocalDir; 0 sends every call there).
   */
  constructor(root: string, opts: { syncBudgetMs?: number } = {}) {
    const ms = opts.syncBudgetMs;
    if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`LocalFs: syncBudgetMs must be a number of milliseconds, 0 or more (got ${String(ms)})`);
    this.syncBudgetMs = ms;
    this.jail = new Jail(root, opts);
  }
  get root(): string {
    return this.jail.realRoot;
  }

  async open(vpath: string, opts: OpenOptions): Promise<FsFile> {
    // O_EXCL must not follow a final symlink; everything else opens what the links lead to.
    const exclusive = opts.create && opts.exclusive;
    const flags = openFlags(opts);
    const mode = opts.mode ?? 0o666;
    let target = normalizeVirtual(vpath);
    let got = await this.openIn(target, flags, mode, !exclusive);
    if (got === FOLLOW) {
      target = await this.jail.resolveFollow(vpath);
      got = await this.openIn(target, flags, mode, false);
    }
    if (got === FOLLOW || got === ON_POOL) {
      got = await this.jail.at(target, (p) => openOnPool(p, flags, mode, this.jail.budget));
    }
    return new LocalFile(got);
  }

  /**
   * Open the name `target` in its pinned directory (never following it: O_NOFOLLOW). Synchronously
   * when that is fast, and only a regular file (or one that O_CREAT makes): a FIFO or a device may
   * block in open(2), so they go to the thread pool (ON_POOL), and the synchronous open carries
   * O_NONBLOCK — checked by fstat to have opened a regular file — in case one was put there since the
   * lstat. A symlink there is FOLLOW when `follow` (the caller resolves it and calls again), ELOOP
   * otherwise, as open(2) with O_NOFOLLOW says.
   */
  private openIn(
    target: string,
    flags: number,
    mode: number,
    follow: boolean,
  ): Promise<FdHandle | typeof FOLLOW | typeof ON_POOL> {
    const exclusive = (flags & C.O_EXCL) !== 0;
    return this.jail.at(
      target,
      async () => (follow ? FOLLOW : ON_POOL),
      (p) => {
        if (!exclusive && (flags & C.O_CREAT) !== 0) {
          // Most creating opens make a new file: O_EXCL makes only that (a regular file, never through
          // a symlink), which needs neither the lstat nor the fstat below. A name already there is
          // EEXIST, and then opened as below.
          const fd = openNewOrUndefined(p, flags, mode);
          if (fd !== undefined) return new FdHandle(fd, this.jail.budget, true);
        }
        if (!exclusive) {
          const st = fs.lstatSync(p, { throwIfNoEntry: false });
          if (st?.isSymbolicLink()) {
            if (follow) return FOLLOW;
            throw fsError('ELOOP');
          }
          if (st !== undefined && !st.isFile()) return ON_POOL;
        }
        let fd: number;
        try {
          fd = fs.openSync(p, flags | C.O_NONBLOCK, mode);
        } catch (err) {
          const code = errnoOf(err);
          if (code === 'ELOOP' && follow) return FOLLOW;
          if (code === 'ENXIO') return ON_POOL; // a FIFO without a reader, opened for writing
          throw err;
        }
        // O_CREAT|O_EXCL|O_NOFOLLOW can only make a regular file; anything else was just checked
        if (!exclusive && !fs.fstatSync(fd).isFile()) {
          fs.closeSync(fd);
          return ON_POOL;
        }
        return new FdHandle(fd, this.jail.budget, true);
      },
    );
  }

  async opendir(vpath: string): Promise<FsDir> {
    const target = await this.jail.resolveFollow(vpath);
    if (!this.jail.pinned) {
      return this.jail.at(target, async (p) => {
        const st = await fsp.lstat(p);
        if (!st.isDirectory()) throw fsError('ENOTDIR');
        return new LocalDir(p, { syncBudgetMs: this.syncBudgetMs });
      });
    }
    const flags = O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW;
    const fd = await this.jail.at(
      target,
      (p) => new Promise<number>((resolve, reject) => fs.open(p, flags, (err, n) => (err ? reject(err) : resolve(n)))),
      (p) => fs.openSync(p, flags),
    );
    const close = (): Promise<void> =>
      new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
    return new LocalDir(this.jail.fdPath(fd), { onClose: close, syncBudgetMs: this.syncBudgetMs, worker: true });
  }

  async stat(vpath: string): Promise<FileStats> {
    const { stats } = await this.jail.resolveFollowStats(vpath);
    if (stats === undefined) throw fsError('ENOENT');
    return statsFromNode(stats);
  }

  async lstat(vpath: string): Promise<FileStats> {
    return this.jail.at(
      vpath,
      async (p) => statsFromNode(await fsp.lstat(p)),
      (p) => {
        const st = fs.lstatSync(p, { throwIfNoEntry: false });
        if (st === undefined) throw fsError('ENOENT');
        return statsFromNode(st);
      },
    );
  }

  async setstat(vpath: string, attrs: SetStats, opts: { follow: boolean }): Promise<void> {
    const target = opts.follow ? await this.jail.resolveFollow(vpath) : normalizeVirtual(vpath);
    await this.jail.at(target, async (p) => {
      if (attrs.size !== undefined) {
        const fh = await fsp.open(p, C.O_WRONLY | C.O_NOFOLLOW);
        try {
          await fh.truncate(attrs.size);
        } finally {
          await fh.close();
        }
      }
      if (attrs.mode !== undefined) await this.chmodNoFollow(p, attrs.mode & 0o7777);
      if (attrs.uid !== undefined && attrs.gid !== undefined) await fsp.lchown(p, attrs.uid, attrs.gid);
      if (attrs.atime !== undefined && attrs.mtime !== undefined) await fsp.lutimes(p, attrs.atime, attrs.mtime);
    });
  }

  /** chmod that never follows a symlink in the last component (Linux has no lchmod). */
  private async chmodNoFollow(p: string, mode: number): Promise<void> {
    if (!this.jail.pinned) {
      const st = await fsp.lstat(p);
      if (st.isSymbolicLink()) throw fsError('EOPNOTSUPP', 'cannot change the mode of a symbolic link');
      await fsp.chmod(p, mode);
      return;
    }
    const pin = await fsp.open(p, O_PATH | C.O_NOFOLLOW);
    try {
      const st = await pin.stat();
      if (st.isSymbolicLink()) throw fsError('EOPNOTSUPP', 'cannot change the mode of a symbolic link');
      await fsp.chmod(this.jail.fdPath(pin.fd), mode);
    } finally {
      await pin.close();
    }
  }

  mkdir(vpath: string, mode = 0o777): Promise<void> {
    return this.jail.at(
      vpath,
      (p) => fsp.mkdir(p, mode & 0o7777),
      (p) => fs.mkdirSync(p, mode & 0o7777),
    );
  }

  rmdir(vpath: string): Promise<void> {
    if (normalizeVirtual(vpath) === '/') return Promise.reject(fsError('EBUSY', 'cannot remove the root'));
    return this.jail.at(
      vpath,
      (p) => fsp.rmdir(p),
      (p) => fs.rmdirSync(p),
    );
  }

  remove(vpath: string): Promise<void> {
    return this.jail.at(
      vpath,
      (p) => fsp.unlink(p),
      (p) => fs.unlinkSync(p),
    );
  }

  rename(oldPath: string, newPath: string, opts: { overwrite: boolean }): Promise<void> {
    if (normalizeVirtual(oldPath) === '/' || normalizeVirtual(newPath) === '/') {
      return Promise.reject(fsError('EBUSY', 'cannot rename the root'));
    }
    return this.jail.at(oldPath, (po) =>
      this.jail.at(newPath, async (pn) => {
        if (opts.overwrite) return fsp.rename(po, pn);
        // Like OpenSSH: link + unlink never replaces an existing name; for what cannot be hard
        // linked (directories, some file systems) check then rename.
        try {
          await fsp.link(po, pn);
        } catch (err) {
          const code = errnoOf(err);
          if (code === 'EEXIST' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') throw err;
          const exists = await fsp.lstat(pn).then(
            () => true,
            () => false,
          );
          if (exists) throw fsError('EEXIST');
          return fsp.rename(po, pn);
        }
        await fsp.unlink(po);
      }),
    );
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.jail.at(existingPath, (pe) => this.jail.at(newPath, (pn) => fsp.link(pe, pn)));
  }

  symlink(target: string, linkPath: string): Promise<void> {
    if (target.includes('\0')) return Promise.reject(fsError('EINVAL'));
    return this.jail.at(
      linkPath,
      (p) => fsp.symlink(target, p),
      (p) => fs.symlinkSync(target, p),
    );
  }

  async readlink(vpath: string): Promise<string> {
    const target = await this.jail.at(
      vpath,
      (p) => fsp.readlink(p),
      (p) => fs.readlinkSync(p),
    );
    // An absolute target inside the root is shown as its virtual path; the real root stays hidden.
    if (path.isAbsolute(target)) return this.jail.toVirtual(target) ?? target;
    return target;
  }

  async realpath(vpath: string): Promise<string> {
    const v = normalizeVirtual(vpath);
    // In a directory whose path has no symlink (the only case in which the synchronous form runs), a
    // name that is not one is its own real path, and a missing one is what the walk below would
    // answer too; a symlink takes the walk.
    const quick = await this.jail.at(
      v,
      async () => undefined,
      (p) => (fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ? undefined : v),
    );
    if (quick !== undefined) return quick;
    try {
      return this.virtualOf(await this.jail.realOf(v));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' || v === '/') throw err;
      // The last component may not exist yet (a name about to be created); its directory must.
      return joinVirtual(this.virtualOf(await this.jail.realOf(virtualDirname(v))), virtualBasename(v));
    }
  }

  private virtualOf(real: string): string {
    const out = this.jail.toVirtual(real);
    if (out === undefined) throw fsError('EACCES', 'path leads outside the served root');
    return out;
  }

  async statvfs(vpath: string): Promise<FsStatVfs> {
    await this.stat(vpath);
    const s = await fsp.statfs(this.jail.realRoot);
    return {
      bsize: s.bsize,
      frsize: s.bsize,
      blocks: s.blocks,
      bfree: s.bfree,
      bavail: s.bavail,
      files: s.files,
      ffree: s.ffree,
      favail: s.ffree,
      fsid: 0,
      namemax: 255,
      readOnly: false,
    };
  }

  userName(uid: number): string | undefined {
    return systemNames().users.get(uid);
  }
  groupName(gid: number): string | undefined {
    return systemNames().groups.get(gid);
  }
}
