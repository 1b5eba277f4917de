import type { Attrs } from '../../protocol/index.js';

/**
 * One directory of a tree operation. It completes when its own listing has ended and every child
 * (file, link, subdirectory) has finished: then `onComplete` runs (set mode/times, RMDIR, ...), and the
 * parent learns of it only once that is done (the caller releases the parent). Nothing here holds the
 * directory's entries: only a count.
 */
export class TreeDir {
  /** The listing (1) plus children still running. */
  private pending = 1;
  /** Some child failed (rmtree: do not try to RMDIR this one). */
  childFailed = false;
  /** This operation created the destination directory (it did not exist before). */
  created = false;
  /** undefined until known: whether the destination directory exists (created or already there). */
  readyState: boolean | undefined;
  private readyPromise: Promise<boolean> = Promise.resolve(true);

  constructor(
    readonly parent: TreeDir | undefined,
    /** Path relative to the top of the tree, '/'-separated ('' for the top). */
    readonly rel: string,
    /** Where the entries come from. */
    readonly src: string,
    /** Where they go (unused by rmtree). */
    readonly dst: string,
    /** The source directory's attributes (mode and times, for preserve). */
    readonly attrs: Attrs,
    private readonly onComplete: (dir: TreeDir) => void,
    /** An identity of the real directory (dev:ino or a real path), set when links are followed, to find loops. */
    readonly identity?: string,
  ) {}

  /** Resolves true once the destination exists, false when it could not be made (error already recorded). */
  get ready(): Promise<boolean> {
    return this.readyPromise;
  }

  setReady(p: Promise<boolean>): void {
    this.readyPromise = p.then(
      (ok) => (this.readyState = ok),
      () => (this.readyState = false),
    );
  }

  /** A child starts. */
  hold(): void {
    this.pending++;
  }

  /** A child (or the listing) is done. */
  release(): void {
    if (--this.pending === 0) this.onComplete(this);
  }

  /** True when `identity` is this directory's or an ancestor's: following a link there would loop. */
  isLoop(identity: string): boolean {
    if (this.identity === identity) return true;
    for (let d = this.parent; d; d = d.parent) if (d.identity === identity) return true;
    return false;
  }
}

/**
 * The directories waiting to be listed, handed to the listers of a walk (getTree, rmtree). `next()`
 * resolves undefined when nothing is queued and no lister is busy (nothing more can come), or after close().
 */
export class DirQueue {
  private readonly items: TreeDir[] = [];
  private active = 0;
  private closed = false;
  private readonly waiters: Array<(d: TreeDir | undefined) => void> = [];

  /** Listers waiting for a directory. */
  get idleListers(): number {
    return this.waiters.length;
  }

  /** True once the walk is over (nothing queued, no lister busy) or was stopped. */
  get isClosed(): boolean {
    return this.closed;
  }

  push(d: TreeDir): void {
    if (this.closed) return;
    const w = this.waiters.shift();
    if (w) {
      this.active++;
      w(d);
    } else this.items.push(d);
  }

  /** The next directory to list (last queued first: depth first keeps the queue short). */
  next(): Promise<TreeDir | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const d = this.items.pop();
    if (d) {
      this.active++;
      return Promise.resolve(d);
    }
    if (this.active === 0) {
      this.close();
      return Promise.resolve(undefined);
    }
    return new Promise((r) => this.waiters.push(r));
  }

  /** A lister finished the directory it was given. */
  done(): void {
    this.active--;
    if (this.active === 0 && this.items.length === 0) this.close();
  }

  close(): void {
    this.closed = true;
    this.items.length = 0;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
