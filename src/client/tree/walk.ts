import type { DirEntry } from '../core/remote.js';
import { Window } from '../core/window.js';
import { abortGraceOf, closeHandle, untilAborted } from '../core/close-handle.js';
import { TREE_MAX_READDIRS, TREE_READ_AHEAD } from '../defaults.js';
import { DirQueue, type TreeDir } from './dirs.js';
import { TreeStopped, type TreeRun } from './run.js';

/** What a remote walk does with what it finds. */
export interface WalkHooks {
  /**
   * An entry of `dir` (never '.' or '..'), in the order the server listed them. The listing of `dir`
   * waits for the returned promise: that is the walk's backpressure (e.g. waiting for a handle slot).
   * A directory found is handed back with `walk.add()`.
   */
  visit(dir: TreeDir, e: DirEntry): Promise<void> | void;
  /** Listing `dir` failed (OPENDIR, READDIR or its CLOSE); the error is recorded already. */
  listingFailed?(dir: TreeDir, err: unknown): void;
}

/** A READDIR sent, and what it brought once answered. */
interface Pending {
  reply: Promise<void>;
  settled: boolean;
  entries?: DirEntry[] | null;
  error?: unknown;
}

/** A READDIR reply that ends its directory: an error (EOF included) or no entries. */
const saysEnd = (p: Pending): boolean => p.settled && (p.error !== undefined || !p.entries?.length);

/**
 * The listing of a remote tree for getTree and rmtree, shaped by the link rather than by the
 * directories: every directory found is listed at once while fewer than `run.listers` listings are
 * open (they grow with the tree, up to half the handle cap), so a subdirectory's OPENDIR goes out as
 * soon as its name arrives. Each listing keeps READDIRs in flight (a few per directory, and at most
 * `maxBatches` replies in flight or waiting to be taken up over the whole tree: that bounds the memory
 * of entries not yet acted on). Its CLOSE is sent as soon as the end of the directory is known and
 * every READDIR sent is answered — before the last entries are acted on — and is never waited for:
 * its reply frees the handle slot, and a failed CLOSE is recorded as that directory's error.
 *
 * A server answering READDIRs out of order is handled as scandir does: entries of every READDIR sent
 * are taken, including those answered after one that said end-of-directory.
 */
export class RemoteWalk {
  private readonly queue = new DirQueue();
  private listers = 0;
  /** READDIR replies in flight or not yet taken up, over the whole walk. */
  readonly batches: Window;
  /** Handles of listings: the run's handles (shared with files) when there are at least two. */
  private readonly handles: Window;

  constructor(
    private readonly run: TreeRun,
    private readonly hooks: WalkHooks,
    readonly readAhead = TREE_READ_AHEAD,
  ) {
    this.batches = new Window(Math.max(2, Math.min(TREE_MAX_READDIRS, run.listers * readAhead)));
    this.handles = run.listingHandles;
    run.onStop(() => {
      this.queue.close();
      this.batches.fail(new TreeStopped(run.op));
    });
  }

  /** The top directory's OPENDIR, sent before the caller knew what the top is (see openEarly). */
  private early: { path: string; opening: Promise<Buffer> } | undefined;

  /**
   * Send the OPENDIR of the top directory `path` now, in the same round trip as the caller's STAT of
   * it: listing it then starts with that handle. The caller lists it (`add`) or gives it up (`dropEarly`).
   */
  openEarly(path: string): void {
    const { run } = this;
    if (run.stopped || this.early || !this.handles.tryAcquire()) return;
    const opening = run.send(0, () => run.client.opendir(path));
    opening.catch(() => {});
    this.early = { path, opening };
  }

  /**
   * The early OPENDIR is not wanted (the top is not a directory, or the operation ended): its handle
   * is closed. Resolves once it is (never rejects; a CLOSE is not awaited past the abort grace).
   */
  dropEarly(): Promise<void> {
    const e = this.early;
    if (!e) return Promise.resolve();
    this.early = undefined;
    this.handles.release();
    const { client, signal } = this.run;
    const closed = e.opening.then(
      (h) => closeHandle(client, h, signal).catch(() => {}),
      () => {},
    );
    // After an abort the OPENDIR's reply is awaited only for the abort grace; a handle that comes
    // later still is closed then, without anyone waiting for it.
    return untilAborted(closed, signal, abortGraceOf(client)).catch(() => {});
  }

  /** A directory to list: it is listed as soon as a listing slot is free. */
  add(dir: TreeDir): void {
    this.queue.push(dir);
    if (!this.queue.isClosed && this.queue.idleListers === 0 && this.listers < this.run.listers) this.spawnLister();
  }

  private spawnLister(): void {
    this.listers++;
    this.run.spawn(async () => {
      try {
        for (;;) {
          const dir = await this.queue.next();
          if (!dir) return;
          try {
            if (await this.run.untilStopped(this.shouldList(dir), false)) await this.list(dir);
          } catch (err) {
            this.failed(dir, err);
          } finally {
            if (dir.parent === undefined) await this.dropEarly(); // not listed after all (stopped): close it
            dir.release();
            this.queue.done();
          }
        }
      } finally {
        if (--this.listers === 0) this.run.walkEnded();
      }
    });
  }

  /** Whether `dir` is to be listed (getTree: only once its local directory exists). */
  private async shouldList(dir: TreeDir): Promise<boolean> {
    return dir.readyState === true || (await dir.ready);
  }

  private failed(dir: TreeDir, err: unknown): void {
    if (err instanceof TreeStopped || this.run.stopped) return;
    this.hooks.listingFailed?.(dir, err);
    this.run.fail(dir.rel, err);
  }

  /** OPENDIR, READDIRs pipelined, CLOSE sent early; every entry handed to the hooks. */
  private async list(dir: TreeDir): Promise<void> {
    const { run } = this;
    const client = run.client;
    const opts = { signal: run.signal };
    let opening: Promise<Buffer>;
    if (this.early && dir.parent === undefined && this.early.path === dir.src) {
      opening = this.early.opening; // its handle slot is held already
      this.early = undefined;
    } else {
      const w = this.handles.acquire();
      if (w) await w;
      opening = run.send(0, () => client.opendir(dir.src));
    }
    let handle: Buffer;
    // The OPENDIR is not cancelled by the signal (its handle would be lost): after an abort its reply
    // is awaited for the client's abort grace, and a handle that comes later still is closed then.
    try {
      handle = await untilAborted(opening, run.signal, abortGraceOf(client));
    } catch (err) {
      this.handles.release();
      opening
        .then(
          (h) => client.close(h),
          () => {},
        )
        .catch(() => {});
      throw err;
    }
    const inflight: Pending[] = [];
    let closing = false;
    /** Send the CLOSE once the end is known and every READDIR sent is answered (never awaited here). */
    const closeIfDone = () => {
      if (closing || !inflight.every((p) => p.settled)) return;
      if (!inflight.some(saysEnd) && !run.stopped) return;
      closing = true;
      this.closeLater(dir, handle);
    };
    const send = () => {
      const p: Pending = { settled: false, reply: Promise.resolve() };
      p.reply = run
        .send(0, () => client.readdir(handle, opts), true)
        .then(
          (entries) => {
            p.entries = entries;
            p.settled = true;
          },
          (error: unknown) => {
            p.error = error;
            p.settled = true;
          },
        );
      inflight.push(p);
    };
    /** Non-empty replies taken so far: a directory gets its full read-ahead once it proves larger than one reply. */
    let full = 0;
    /** Another READDIR while the directory may have more, none has said its end, and there is room. */
    const topUp = () => {
      const ahead = full >= 2 ? this.readAhead : Math.min(2, this.readAhead);
      while (
        !closing &&
        !run.stopped &&
        inflight.length < ahead &&
        !inflight.some(saysEnd) &&
        this.batches.tryAcquire()
      )
        send();
    };
    let ended = false;
    try {
      for (;;) {
        if (inflight.length === 0) {
          if (ended || run.stopped) break;
          const b = this.batches.acquire();
          if (b) await b;
          send();
        }
        if (!ended) topUp();
        const p = inflight[0]!;
        await p.reply;
        inflight.shift();
        this.batches.release();
        if (p.error !== undefined) throw p.error;
        if (!p.entries || p.entries.length === 0) {
          // Some servers answer an empty NAME instead of EOF; both are the end.
          ended = true;
          closeIfDone();
          continue;
        }
        full++;
        closeIfDone();
        topUp();
        for (const e of p.entries) {
          if (run.stopped) break;
          if (e.filename === '.' || e.filename === '..') continue;
          await this.hooks.visit(dir, e);
        }
      }
    } finally {
      if (!closing) {
        // Stopped or failed: the READDIRs still out are answered first, then the handle is closed.
        closing = true;
        const left = inflight.splice(0);
        run.spawn(async () => {
          for (const p of left) {
            await p.reply;
            this.batches.release();
          }
          this.closeLater(dir, handle);
        });
      } else {
        for (const p of inflight.splice(0)) void p.reply.then(() => this.batches.release());
      }
    }
  }

  /** CLOSE a listing's handle in the background: its reply gives the handle slot back; a failure is recorded. */
  private closeLater(dir: TreeDir, handle: Buffer): void {
    const { run } = this;
    run.spawn(async () => {
      try {
        await run.closeHandle(handle);
      } catch (err) {
        this.failed(dir, err);
      } finally {
        this.handles.release();
      }
    });
  }
}
