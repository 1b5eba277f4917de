import { SftpError, SftpProtocolError } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';
import { AbortError, abortError } from '../core/errors.js';
import { closeHandle as closeRemote } from '../core/close-handle.js';
import { Wakeup } from '../core/wakeup.js';
import { Window } from '../core/window.js';
import {
  DEFAULT_TREE_BYTES,
  DEFAULT_TREE_HANDLES,
  DEFAULT_TREE_REQUESTS,
  MAX_DEFAULT_TREE_HANDLES,
} from '../defaults.js';
import {
  TreeError,
  emptyTreeResult,
  type SymlinkMode,
  type TreeOptions,
  type TreeProgress,
  type TreeResult,
} from './types.js';
import { SyncGate } from './local-io.js';

export interface TreeRunOptions {
  requests?: number;
  bytes?: number;
  maxOpenFiles?: number;
  listers?: number;
  signal?: AbortSignal;
  onProgress?(p: TreeProgress): void;
  stopOnError?: boolean;
}

/** Thrown into the tasks of a run that was stopped; never reported as an entry's error. */
export class TreeStopped extends Error {
  override readonly name = 'TreeStopped';
}

/** True for failures that end the whole session (nothing more can be done on it). */
export function isSessionFailure(err: unknown): boolean {
  if (err instanceof SftpProtocolError) return true;
  return err instanceof SftpError && (err.code === 'ECONNRESET' || err.code === 'ERR_SFTP_CLOSED');
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!(v >= 1) || !Number.isFinite(v)) throw new RangeError(`${name} must be a number of at least 1, got ${v}`);
  return Math.floor(v);
}

/** The default cap on open handles for a client: from the server's limits, else a safe default. */
export function defaultMaxOpenFiles(client: TransferHost): number {
  const server = client.limitsFromServer ? client.limits.maxOpenHandles : 0;
  return server > 0 ? Math.min(MAX_DEFAULT_TREE_HANDLES, server) : DEFAULT_TREE_HANDLES;
}

/**
 * The state one tree operation shares between its tasks: the request window, the handle cap, the
 * counts, the errors, stopping (stopOnError, abort, a lost session) and the tasks still running.
 */
export class TreeRun {
  readonly result: TreeResult = emptyTreeResult();
  /** Requests and bytes in flight, over the whole tree. */
  readonly window: Window;
  /**
   * Downloaded bytes waiting to be written locally by files that gave their handle slot back (as
   * many bytes as the window allows in flight): never waited on, only tried.
   */
  readonly writeBacklog: Window;
  /** Handles for files, and for directory listings too when the cap is at least two (see listingHandles). */
  readonly handles: Window;
  /**
   * Handles for directory listings: the same window as `handles` (listings and files share the cap;
   * listings never hold more than `listers` of it, so files always have the rest), or with a cap of
   * one a window of its own (one listing and one file: the only way both can go on).
   */
  readonly listingHandles: Window;
  /** Directories listed at once, at most (getTree, rmtree). */
  readonly listers: number;
  readonly maxOpenFiles: number;
  readonly stopOnError: boolean;
  /** Set once the operation stops: no new request goes out after it. */
  stopReason: { error: unknown; kind: 'abort' | 'error' | 'session' } | undefined;
  /** Totals of the source, set once its walk has ended. */
  totalFiles: number | undefined;
  totalBytes: number | undefined;
  /** Files and bytes seen by the walk so far. */
  seenFiles = 0;
  seenBytes = 0;
  /** Files whose size is known so far (for totalBytes). */
  private sized = 0;
  private walkDone = false;
  private readonly stopHooks = new Set<() => void>();
  private tasks = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly onAbort: (() => void) | undefined;
  /** The caller's signal: a CLOSE is never awaited past it. */
  readonly signal: AbortSignal | undefined;
  private readonly onProgress: ((p: TreeProgress) => void) | undefined;

  constructor(
    readonly client: TransferHost,
    opts: TreeRunOptions,
    readonly op: string,
    withListers: boolean,
  ) {
    this.maxOpenFiles = positive('maxOpenFiles', opts.maxOpenFiles, defaultMaxOpenFiles(client));
    const requests = positive('requests', opts.requests, DEFAULT_TREE_REQUESTS);
    const bytes = positive('bytes', opts.bytes, DEFAULT_TREE_BYTES);
    if (withListers) {
      // Listings and files share the handle cap; listings take at most half of it (and leave most of
      // the request window to files), so files always have handles to go on with.
      const most = Math.max(1, Math.min(Math.floor(this.maxOpenFiles / 2), Math.floor(requests / 4)));
      this.listers = Math.min(positive('listers', opts.listers, most), most);
    } else this.listers = 0;
    this.window = new Window(requests, bytes);
    this.writeBacklog = new Window(requests, bytes);
    this.handles = new Window(this.maxOpenFiles);
    this.listingHandles = this.maxOpenFiles >= 2 || !withListers ? this.handles : new Window(1);
    this.stopOnError = opts.stopOnError ?? false;
    this.onProgress = opts.onProgress;
    this.signal = opts.signal;
    if (opts.signal) {
      if (opts.signal.aborted) this.stop(abortError(opts.signal), 'abort');
      else {
        this.onAbort = () => this.stop(abortError(opts.signal), 'abort');
        opts.signal.addEventListener('abort', this.onAbort, { once: true });
      }
    }
  }

  get stopped(): boolean {
    return this.stopReason !== undefined;
  }

  /** Throw the stop marker when the run has stopped. */
  checkStopped(): void {
    if (this.stopReason) throw new TreeStopped(this.op);
  }

  /**
   * Take a request slot of `cost` bytes, waiting in FIFO order; `urgent` for requests on a handle
   * already open (they go before new OPENs). Rejects with TreeStopped once stopped.
   */
  acquire(cost = 0, urgent = false): Promise<void> | undefined {
    if (this.stopReason) return Promise.reject(new TreeStopped(this.op));
    return this.window.acquire(cost, urgent);
  }

  /** Hand back the slot when `p` settles; returns `p`. */
  issued<T>(cost: number, p: Promise<T>): Promise<T> {
    const release = () => this.window.release(cost);
    p.then(release, release);
    return p;
  }

  /** Take a slot, then send: `make` is called (synchronously after the slot is taken) to send the request. */
  async send<T>(cost: number, make: () => Promise<T>, urgent = false): Promise<T> {
    const w = this.acquire(cost, urgent);
    if (w) await w;
    if (this.stopReason) {
      this.window.release(cost);
      throw new TreeStopped(this.op);
    }
    return this.issued(cost, make());
  }

  /**
   * Wait for a handle slot (this is what keeps a walk or a listing from running ahead of the
   * transfers), then run `task` in the background holding that slot and its directory `dir` open.
   * The task may give the slot back early with `handleDone()` (its remote handle is closed; only
   * local work is left); otherwise it goes back when the task ends.
   */
  async startTask(
    dir: { hold(): void; release(): void },
    task: (handleDone: () => void) => Promise<void>,
  ): Promise<void> {
    const w = this.handles.acquire();
    if (w) await w;
    dir.hold();
    let held = true;
    const handleDone = () => {
      if (!held) return;
      held = false;
      this.handles.release();
    };
    this.spawn(async () => {
      try {
        await task(handleDone);
      } finally {
        handleDone();
        dir.release();
      }
    });
  }

  /** Run a task in the background; `finish()` waits for all of them. A task must not throw (it is caught). */
  spawn(task: () => Promise<void>): void {
    this.tasks++;
    const done = () => {
      if (--this.tasks === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
    task().then(done, (err: unknown) => {
      this.fail('', err);
      done();
    });
  }

  /** Record that the entry at `rel` failed; stops the run for a lost session or with stopOnError. */
  fail(rel: string, err: unknown): void {
    if (err instanceof TreeStopped || this.stopReason) return;
    if (err instanceof AbortError && this.signal?.aborted) return;
    this.result.errors.push({ path: rel, error: err });
    if (isSessionFailure(err)) this.stop(err, 'session');
    else if (this.stopOnError) this.stop(err, 'error');
  }

  /** Stop: refuse new requests and new handles; tasks close what they hold. */
  stop(error: unknown, kind: 'abort' | 'error' | 'session'): void {
    if (this.stopReason) return;
    this.stopReason = { error, kind };
    const marker = new TreeStopped(this.op);
    this.window.fail(marker);
    this.handles.fail(marker);
    const hooks = [...this.stopHooks];
    this.stopHooks.clear();
    for (const h of hooks) h();
  }

  /** Call `hook` when the run stops (e.g. to wake listers waiting for work); returns a function that forgets it. */
  onStop(hook: () => void): () => void {
    if (this.stopReason) {
      hook();
      return () => {};
    }
    this.stopHooks.add(hook);
    return () => this.stopHooks.delete(hook);
  }

  /**
   * `p`, or `whenStopped` as soon as the run stops, whichever comes first: for waits on a reply that
   * a stop must not outlast (a server that never answers must not keep an aborted run from ending).
   */
  untilStopped<T>(p: Promise<T>, whenStopped: T): Promise<T> {
    if (this.stopReason) return Promise.resolve(whenStopped);
    return new Promise<T>((resolve, reject) => {
      const forget = this.onStop(() => resolve(whenStopped));
      p.then(
        (v) => {
          forget();
          resolve(v);
        },
        (err: unknown) => {
          forget();
          reject(err);
        },
      );
    });
  }

  /**
   * CLOSE a handle through the window; once the run has stopped, straight to the session instead
   * (a handle is always closed, whatever happened). The CLOSE is always sent, but once the caller's
   * signal fires its reply is awaited only for the client's abortGraceMs (then this rejects with an AbortError).
   */
  async closeHandle(handle: Buffer): Promise<void> {
    let sent = false;
    try {
      await this.send(
        0,
        () => {
          sent = true;
          return closeRemote(this.client, handle, this.signal);
        },
        true,
      );
    } catch (err) {
      if (sent) throw err;
      await closeRemote(this.client, handle, this.signal);
    }
  }

  addBytes(n: number): void {
    this.result.bytes += n;
    this.progress();
  }

  progress(): void {
    if (!this.onProgress) return;
    this.onProgress({
      files: this.result.files,
      bytes: this.result.bytes,
      totalFiles: this.totalFiles,
      totalBytes: this.totalBytes,
    });
  }

  /** The walk found a file (its size when known; else noteSize later). */
  noteFile(size?: number): void {
    this.seenFiles++;
    if (size !== undefined) this.noteSize(size);
  }

  /** A file's size became known. */
  noteSize(size: number): void {
    this.seenBytes += size;
    this.sized++;
    if (this.walkDone && this.sized === this.seenFiles && this.totalBytes === undefined)
      this.totalBytes = this.seenBytes;
  }

  /** The walk has seen everything: totals are known from now on (bytes once every size is known). */
  walkEnded(): void {
    if (this.stopReason) return;
    this.walkDone = true;
    this.totalFiles = this.seenFiles;
    if (this.sized === this.seenFiles) this.totalBytes = this.seenBytes;
    this.progress();
  }

  /** Wait for every task, then resolve with the result or reject as the stop reason says. */
  async finish(): Promise<TreeResult> {
    while (this.tasks > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    const stop = this.stopReason;
    if (!stop) return this.result;
    if (stop.kind === 'abort') throw Object.assign(stop.error as Error, { result: this.result });
    const first = stop.error;
    const what = stop.kind === 'session' ? 'the session failed' : 'stopped at the first error';
    const msg = first instanceof Error ? first.message : String(first);
    throw new TreeError(`${this.op}: ${what}: ${msg}`, this.result.errors, this.result, { cause: first });
  }
}

/**
 * Promises of one file's pipelined requests: handlers are attached at once (no unhandled rejection
 * while later requests are still being issued); `all()` waits for every one and throws the first failure.
 */
export class Pending {
  private count = 0;
  private failure: { error: unknown } | undefined;
  private readonly wakeup = new Wakeup();

  get failed(): boolean {
    return this.failure !== undefined;
  }

  add(p: Promise<unknown>): void {
    this.count++;
    p.then(
      () => this.settled(),
      (error: unknown) => {
        if (!this.failure) this.failure = { error };
        this.settled();
      },
    );
  }

  private settled(): void {
    if (--this.count === 0) this.wakeup.wake();
  }

  /** Wait for every promise added; throw the first failure. */
  async all(): Promise<void> {
    while (this.count > 0) await this.wakeup.wait();
    if (this.failure) throw this.failure.error;
  }
}

/** The per-run settings putTree and getTree both take from their options. */
export interface TreeSettings {
  symlinks: SymlinkMode;
  /** symlinks: 'follow' — copy what links point at (loops are found by identity). */
  follow: boolean;
  preserve: boolean;
  fsync: boolean;
  /** Per-file atomic/resume: each file goes through the client's own put()/get(). */
  perFile: { atomic?: boolean; resume?: boolean } | undefined;
  /** Local small-file I/O: synchronous while fast. */
  gate: SyncGate;
}

export function treeSettings(opts: TreeOptions): TreeSettings {
  const symlinks = opts.symlinks ?? 'copy';
  if (symlinks !== 'copy' && symlinks !== 'follow' && symlinks !== 'skip') {
    throw new TypeError(`symlinks must be 'copy', 'follow' or 'skip', got ${String(symlinks)}`);
  }
  return {
    symlinks,
    follow: symlinks === 'follow',
    preserve: opts.preserve ?? false,
    fsync: opts.fsync ?? false,
    perFile: opts.atomic || opts.resume ? { atomic: opts.atomic, resume: opts.resume } : undefined,
    gate: new SyncGate(),
  };
}
