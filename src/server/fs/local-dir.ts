import fs, { type Dir, type Stats } from 'node:fs';
import fsp from 'node:fs/promises';
import type { FileStats, FsDir, FsDirEntry } from './file-system.js';
import { lstatInWorker, lstatWorkerReady } from './lstat-worker.js';

export function statsFromNode(st: Stats): FileStats {
  return {
    mode: st.mode,
    size: st.size,
    uid: st.uid,
    gid: st.gid,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
    nlink: st.nlink,
    dev: st.dev,
    ino: st.ino,
  };
}

/**
 * How long one batch of a directory may be read and lstat'ed synchronously (milliseconds). Reading
 * names and lstat of a name just read are normally cache hits of a microsecond or two, far cheaper
 * than a trip through the thread pool; a batch that takes longer than this (a cold disk, a network
 * file system, or just a busy machine) finishes on the thread pool, and the next batches go there
 * too — 1, 2, 4 ... up to MAX_ASYNC_RUN of them while batches keep being slow — so a slow directory
 * never stalls other sessions for long.
 */
export const SYNC_LSTAT_BUDGET_MS = 4;
const MAX_ASYNC_RUN = 64;

/**
 * Names per batch lstat'ed by the worker, and how many names of a directory are lstat'ed here first:
 * starting the worker costs tens of milliseconds once per process, worth it for large directories only.
 */
const WORKER_BATCH = 512;
const OFFLOAD_AFTER = 1000;
/**
 * Batches read ahead while they go to the worker: the next is queued there before it finishes the
 * one before, so it never waits for the event loop to ask (it is the listing's slowest part).
 */
const WORKER_AHEAD = 2;

/** Entries read from the directory per getdents call of Node's Dir. */
const DIR_BUFFER = 512;

/** lstat on the thread pool (callback form: about half the CPU of fs.promises per call). */
function lstatAsync(p: string): Promise<FileStats | undefined> {
  return new Promise((resolve) => fs.lstat(p, (err, st) => resolve(err ? undefined : statsFromNode(st))));
}

function lstatSyncOrUndefined(p: string): FileStats | undefined {
  try {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    return st ? statsFromNode(st) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a batch may still make its file system calls synchronously: it started synchronous, and
 * less than SYNC_LSTAT_BUDGET_MS have passed since it began (looked at every 8 calls).
 */
class BatchClock {
  private readonly t0 = performance.now();
  overrun = false;
  constructor(
    readonly sync: boolean,
    private readonly budgetMs: number,
  ) {}
  inTime(i: number): boolean {
    if (!this.sync || this.overrun) return false;
    if ((i & 7) === 7 && performance.now() - this.t0 > this.budgetMs) this.overrun = true;
    return !this.overrun;
  }
}

/**
 * A directory of the local file system read in batches: names from Node's Dir, each entry lstat'ed
 * through `dirPath` (a path that reaches the directory itself, e.g. its pinned /proc/self/fd path).
 * The calls are synchronous while they are fast (see SYNC_LSTAT_BUDGET_MS), on the thread pool
 * otherwise; past the first OFFLOAD_AFTER names of a directory, the lstat calls go to the lstat
 * worker when it is free (`worker` option). Once a batch is handed out, the next one is read ahead (after the current turn of the
 * event loop, so the reply carrying this one leaves first).
 */
export class LocalDir implements FsDir {
  private dir: Dir | null = null;
  /** The directory reported its end. */
  private ended = false;
  /** Every entry was handed out. */
  private exhausted = false;
  private closed = false;
  /** Entries read and not handed out yet. */
  private carry: FsDirEntry[] = [];
  /** The next batches, read ahead (oldest first). */
  private ahead: Promise<FsDirEntry[] | null>[] = [];
  /** Settled once the names of the last batch started were read: the next one reads after it. */
  private namesRead: Promise<void> = Promise.resolve();
  /** Batches went to the worker (so more are read ahead). */
  private offloading = false;
  /** Calls to read() run one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Batches still to read on the thread pool after a slow one, and the length of the next such run. */
  private asyncLeft = 0;
  private asyncRun = 1;
  /** Names read so far. */
  private listed = 0;

  private readonly onClose: () => Promise<void>;
  private readonly syncBudgetMs: number;
  private readonly worker: boolean;

  /**
   * `worker`: once OFFLOAD_AFTER names were read, batches are lstat'ed on the lstat worker when it
   * is free (see lstat-worker.ts); the first ones, and any the worker declines, as described above.
   */
  constructor(
    private readonly dirPath: string,
    opts: { onClose?: () => Promise<void>; syncBudgetMs?: number; worker?: boolean } = {},
  ) {
    this.onClose = opts.onClose ?? (async () => undefined);
    this.syncBudgetMs = opts.syncBudgetMs ?? SYNC_LSTAT_BUDGET_MS;
    this.worker = opts.worker ?? false;
  }

  read(max: number): Promise<FsDirEntry[] | null> {
    const n = Math.max(1, Math.floor(max));
    const run = this.chain.then(() => this.readNext(n));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readNext(max: number): Promise<FsDirEntry[] | null> {
    if (this.closed) return null;
    while (this.carry.length < max && !this.exhausted && !this.closed) {
      const batch = await (this.ahead.shift() ?? this.startBatch(max));
      if (batch === null) this.exhausted = true;
      else for (const e of batch) this.carry.push(e);
    }
    const out = this.carry.length <= max ? this.carry : this.carry.slice(0, max);
    this.carry = out === this.carry ? [] : this.carry.slice(max);
    this.queueAhead(max);
    if (!this.exhausted && !this.closed && this.ahead.length === 0) {
      const later = new Promise<void>((resolve) => setImmediate(resolve));
      this.ahead.push(later.then(() => this.startBatch(max)));
    }
    return out.length > 0 ? out : null;
  }

  /**
   * Read the next batch once the one before has its names; its error is seen by the read() that
   * takes it. A batch that goes to the worker queues the one after it, up to WORKER_AHEAD ahead.
   */
  private startBatch(max: number): Promise<FsDirEntry[] | null> {
    const prev = this.namesRead;
    let namesDone!: () => void;
    this.namesRead = new Promise<void>((resolve) => (namesDone = resolve));
    const run = prev.then(() => this.readBatch(max, namesDone));
    run.then(namesDone, namesDone);
    return run;
  }

  /** With batches going to the worker: more read ahead, up to WORKER_AHEAD (called as one is sent). */
  private queueAhead(max: number): void {
    if (this.offloading && !this.ended && !this.closed && this.ahead.length < WORKER_AHEAD) {
      const next = this.startBatch(max);
      next.catch(() => undefined);
      this.ahead.push(next);
    }
  }

  /** Up to `max` entries with their lstat; null at the end. `namesDone` is called once its names are read. */
  private async readBatch(max: number, namesDone: () => void): Promise<FsDirEntry[] | null> {
    if (this.closed || this.ended) return null;
    const dir = (this.dir ??= await fsp.opendir(this.dirPath, { bufferSize: DIR_BUFFER }));
    // A budget of 0 sends every call of every batch to the thread pool.
    const clock = new BatchClock(this.asyncLeft === 0 && this.syncBudgetMs > 0, this.syncBudgetMs);
    if (!clock.sync && this.asyncLeft > 0) this.asyncLeft--;
    // batches for the worker are larger: its cost per batch is a message each way (until it runs,
    // which this starts, they are read and lstat'ed here as before, except what would go to the
    // thread pool: the worker takes that, and answers once it runs)
    const eligible = this.worker && this.listed >= OFFLOAD_AFTER;
    const offload = eligible && lstatWorkerReady();
    const want = offload ? Math.max(max, WORKER_BATCH) : max;
    const names: string[] = [];
    while (names.length < want) {
      const ent = clock.inTime(names.length) ? dir.readSync() : await dir.read();
      if (!ent) {
        this.ended = true;
        break;
      }
      names.push(ent.name);
    }
    this.listed += names.length;
    const prefix = this.dirPath.endsWith('/') ? this.dirPath : this.dirPath + '/';
    const out: FsDirEntry[] = [];
    const offloaded = offload ? lstatInWorker(prefix, names, this) : undefined;
    namesDone();
    if (offloaded) {
      this.offloading = true;
      this.queueAhead(max);
      const stats = await offloaded.catch(() => undefined);
      if (stats) {
        for (let k = 0; k < names.length; k++) out.push({ name: names[k]!, stats: stats[k] });
        return out.length > 0 ? out : null;
      }
    }
    let i = 0;
    for (; i < names.length && clock.inTime(i); i++)
      out.push({ name: names[i]!, stats: lstatSyncOrUndefined(prefix + names[i]) });
    if (i < names.length) {
      const rest = names.slice(i);
      const starting = eligible ? lstatInWorker(prefix, rest, this, true) : undefined;
      const stats =
        (await starting?.catch(() => undefined)) ?? (await Promise.all(rest.map((n) => lstatAsync(prefix + n))));
      for (let k = 0; k < rest.length; k++) out.push({ name: rest[k]!, stats: stats[k] });
    }
    if (clock.sync) {
      if (clock.overrun) {
        this.asyncLeft = this.asyncRun;
        this.asyncRun = Math.min(MAX_ASYNC_RUN, this.asyncRun * 2);
      } else this.asyncRun = 1;
    }
    return out.length > 0 ? out : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const pending = this.ahead;
    this.ahead = [];
    try {
      await this.chain;
      await Promise.all(pending.map((p) => p.catch(() => undefined)));
      await this.dir?.close();
    } finally {
      await this.onClose();
    }
  }
}
