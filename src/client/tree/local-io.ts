import fs, { type Stats } from 'node:fs';
import { SourceChangedError } from '../core/errors.js';
import { localError } from '../core/local-error.js';

/**
 * Local file I/O for the tree operations, where thousands of small files each cost an open, a stat,
 * a read or write and a close. Through fs.promises each of those is a trip through the thread pool
 * plus a FileHandle and several promises: tens of microseconds of CPU a call, more than the SFTP
 * requests cost. Reading a small cached file, or rewriting one, takes a few microseconds with the
 * synchronous calls, so those are used while they stay that fast. When one file's synchronous I/O
 * takes longer than SYNC_FILE_BUDGET_MS — a cold disk, a network file system, a busy machine, or a
 * file system where creating a file is slow (ext4 here: 0.3-0.6 ms per new file, all of it kernel
 * time that the thread pool runs in parallel with the session) — the next files go through the
 * thread pool (callback form, half the cost of fs.promises): 1, 2, 4 ... up to MAX_ASYNC_RUN of them
 * while files keep being slow (each fast one halves the next run), so a slow file system never holds
 * the event loop for long.
 */
export const SYNC_FILE_BUDGET_MS = 0.2;
const MAX_ASYNC_RUN = 256;

/** Decides, file by file, whether local I/O runs synchronously (see SYNC_FILE_BUDGET_MS). */
export class SyncGate {
  private asyncLeft = 0;
  private asyncRun = 1;
  /** Files done synchronously and files sent to the thread pool (for tests and reports). */
  syncFiles = 0;
  asyncFiles = 0;

  constructor(readonly budgetMs: number = SYNC_FILE_BUDGET_MS) {}

  /** Whether the next file may be done synchronously; false counts one file towards the back-off. */
  take(): boolean {
    if (this.asyncLeft === 0) return true;
    this.asyncLeft--;
    this.asyncFiles++;
    return false;
  }

  /** A synchronous file took `ms`. */
  took(ms: number): void {
    this.syncFiles++;
    if (ms > this.budgetMs) {
      this.asyncLeft = this.asyncRun;
      this.asyncRun = Math.min(MAX_ASYNC_RUN, this.asyncRun * 2);
    } else if (this.asyncRun > 1) this.asyncRun >>= 1;
  }
}

/**
 * Small buffers carved from a larger slab, for whole small files: one ArrayBuffer per slab instead of
 * one per file (less garbage). A slice keeps its slab alive, so the slab is small next to the window.
 */
export class Slab {
  private buf: Buffer = Buffer.alloc(0);
  private used = 0;
  /** Where the last buffer taken starts in the slab (-1: none to trim). */
  private last = -1;
  constructor(private readonly slabSize = 64 * 1024) {}

  /** A buffer of `n` bytes (content undefined), valid until the caller drops it. */
  take(n: number): Buffer {
    if (n * 4 > this.slabSize) {
      this.last = -1;
      return Buffer.allocUnsafe(n);
    }
    if (this.used + n > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(this.slabSize);
      this.used = 0;
    }
    this.last = this.used;
    this.used = (this.used + n + 7) & ~7;
    return this.buf.subarray(this.last, this.last + n);
  }

  /** Only the first `kept` bytes of `b`, the last buffer taken, stay in use: the rest is taken again. */
  trim(b: Buffer, kept: number): void {
    if (this.last >= 0 && b.buffer === this.buf.buffer && b.byteOffset === this.buf.byteOffset + this.last) {
      this.used = (this.last + kept + 7) & ~7;
      this.last = -1;
    }
  }
}

/** An opened local source file. `data` holds the whole file when it was read at once (small files). */
export interface LocalSource {
  fd: number;
  stats: Stats;
  data: Buffer | undefined;
}

function notRegular(path: string): Error {
  return localError('EINVAL', 'not a regular file', path);
}

/**
 * Read into `buf` at `position` until it is full or the file ends. Once `expected` bytes are in, a
 * short read is the end of the file (a regular file reads short only there): no second call to see 0.
 */
function readFully(fd: number, buf: Buffer, position: number, expected: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = fs.readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
    if (got >= expected && got < buf.length) break;
  }
  return got;
}

/**
 * Open a local file for upload; when it is at most `wholeMax` bytes, read all of it (one byte more is
 * asked: getting it means the file grew since its stat) and close it. Otherwise the caller reads from
 * `fd` with readAt() and closes it with closeFd().
 */
export async function openSource(gate: SyncGate, slab: Slab, path: string, wholeMax: number): Promise<LocalSource> {
  if (gate.take()) {
    const t0 = performance.now();
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      const stats = fs.fstatSync(fd);
      if (!stats.isFile()) throw notRegular(path);
      let data: Buffer | undefined;
      if (stats.size <= wholeMax) {
        const buf = slab.take(stats.size + 1);
        const got = readFully(fd, buf, 0, stats.size);
        slab.trim(buf, got);
        if (got !== stats.size) throw new SourceChangedError(path, stats.size, got);
        data = buf.subarray(0, got);
        fs.closeSync(fd);
        fd = -1;
      }
      const src = { fd, stats, data };
      fd = -1;
      return src;
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      gate.took(performance.now() - t0);
    }
  }
  const fd = await new Promise<number>((resolve, reject) =>
    fs.open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))),
  );
  try {
    const stats = await new Promise<Stats>((resolve, reject) =>
      fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st))),
    );
    if (!stats.isFile()) throw notRegular(path);
    if (stats.size > wholeMax) return { fd, stats, data: undefined };
    const data = await readAt(fd, path, stats.size, 0, stats.size, true);
    await closeFd(fd);
    return { fd: -1, stats, data };
  } catch (err) {
    await closeFd(fd).catch(() => {});
    throw err;
  }
}

function readOnce(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}

/**
 * Read `length` bytes at `position` on the thread pool. With `atEnd` (the chunk should end the file)
 * one byte more is asked: getting it means the file grew. Fewer bytes than asked means it shrank.
 */
export async function readAt(
  fd: number,
  path: string,
  size: number,
  position: number,
  length: number,
  atEnd: boolean,
): Promise<Buffer> {
  const want = atEnd ? length + 1 : length;
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const n = await readOnce(fd, buf, got, want - got, position + got);
    if (n === 0) break;
    got += n;
    if (got >= length && got < want) break; // read short once the chunk is in: the file's end
  }
  if (got !== length) throw new SourceChangedError(path, size, position + got);
  return buf.subarray(0, length);
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

/**
 * Create (or truncate) a local file and write a whole small download into it, synchronously, without
 * following a link at that name; mode bits and times applied when given. Returns false (nothing done)
 * when the gate says the thread pool should be used instead.
 */
export function writeWholeSync(
  gate: SyncGate,
  path: string,
  flags: number,
  mode: number,
  data: Buffer,
  after?: { chmod?: number; atime?: number; mtime?: number },
): boolean {
  if (!gate.take()) return false;
  const t0 = performance.now();
  try {
    const fd = fs.openSync(path, flags, mode);
    try {
      let done = 0;
      while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, done);
      if (after?.chmod !== undefined) fs.fchmodSync(fd, after.chmod);
      if (after?.atime !== undefined && after.mtime !== undefined) fs.futimesSync(fd, after.atime, after.mtime);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } finally {
    gate.took(performance.now() - t0);
  }
}

function call<T>(f: (cb: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

/**
 * writeWholeSync when the gate allows it, else the same on the thread pool (callback form).
 */
export async function writeWhole(
  gate: SyncGate,
  path: string,
  flags: number,
  mode: number,
  data: Buffer,
  after?: { chmod?: number; atime?: number; mtime?: number },
): Promise<void> {
  if (writeWholeSync(gate, path, flags, mode, data, after)) return;
  const fd = await call<number>((cb) => fs.open(path, flags, mode, cb));
  let ok = false;
  try {
    let done = 0;
    while (done < data.length)
      done += await call<number>((cb) => fs.write(fd, data, done, data.length - done, done, cb));
    if (after?.chmod !== undefined) await call<void>((cb) => fs.fchmod(fd, after.chmod!, (err) => cb(err, undefined)));
    if (after?.atime !== undefined && after.mtime !== undefined)
      await call<void>((cb) => fs.futimes(fd, after.atime!, after.mtime!, (err) => cb(err, undefined)));
    ok = true;
  } finally {
    const closing = closeFd(fd);
    if (ok) await closing;
    else await closing.catch(() => {});
  }
}
