import fs, { constants as C } from 'node:fs';

/** Linux's O_PATH: an fd that names a file without opening it for I/O. */
export const O_PATH = 0o10000000;

/** Directories held at once: a turn that names more closes the oldest (a turn may hold thousands of requests). */
export const MAX_TURN_PINS = 16;

/** Close a descriptor this holds; an error (none is expected) must not escape a nextTick callback. */
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to do: the descriptor is not used again either way
  }
}

/**
 * Directories pinned by the jail's fast path (see Jail.at), shared by the requests of one turn of the
 * event loop: a pipelined burst of OPENs in one directory opens and closes it once, not once each.
 * Every use still asks /proc for the descriptor's name and takes it only when that is the lexical path
 * asked for (the kernel's name of an open directory never holds a symlink), exactly the check of a
 * directory pinned anew; a directory renamed, removed or replaced since fails it, is closed, and the
 * path is pinned again (or not, and the caller takes the full walk). At most MAX_TURN_PINS are held,
 * the oldest closed first. Nothing outlives the turn: every descriptor is closed on the next tick,
 * when the turn's callbacks and promise jobs have run, so no directory is held open once the requests
 * of a turn are answered.
 */
export class TurnPins {
  /** Lexical real path -> the pinned descriptor. */
  private readonly pins = new Map<string, number>();
  private releaseQueued = false;
  private readonly release = (): void => {
    this.releaseQueued = false;
    for (const fd of this.pins.values()) closeQuietly(fd);
    this.pins.clear();
  };

  /** `fdPath`: the /proc path of a descriptor (see Jail.fdPath). */
  constructor(private readonly fdPath: (fd: number) => string) {}

  /**
   * The /proc path of the directory `lexical` names now, when no component of it is a symlink (nor
   * missing); undefined otherwise. Synchronous calls only: a readlink, and on a miss an open.
   */
  dirPath(lexical: string): string | undefined {
    const held = this.pins.get(lexical);
    if (held !== undefined) {
      const p = this.fdPath(held);
      if (this.names(p, lexical)) return p;
      this.pins.delete(lexical);
      closeQuietly(held);
    }
    let fd: number;
    try {
      fd = fs.openSync(lexical, O_PATH | C.O_DIRECTORY);
    } catch {
      return undefined;
    }
    const p = this.fdPath(fd);
    if (!this.names(p, lexical)) {
      fs.closeSync(fd);
      return undefined;
    }
    if (this.pins.size >= MAX_TURN_PINS) {
      // the oldest is not in use: every use is synchronous and over before the next dirPath
      const [oldest, oldFd] = this.pins.entries().next().value as [string, number];
      this.pins.delete(oldest);
      closeQuietly(oldFd);
    }
    this.pins.set(lexical, fd);
    if (!this.releaseQueued) {
      this.releaseQueued = true;
      process.nextTick(this.release);
    }
    return p;
  }

  /** Does /proc name the descriptor at `p` by `lexical`? */
  private names(p: string, lexical: string): boolean {
    try {
      return fs.readlinkSync(p) === lexical;
    } catch {
      return false;
    }
  }

  /** Descriptors held now (for tests). */
  get size(): number {
    return this.pins.size;
  }
}
