import fsp from 'node:fs/promises';
import fs, { constants as C, existsSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fsError, errnoOf } from './fs-error.js';
import { normalizeVirtual, virtualBasename, virtualDirname } from './vpath.js';
import { SyncBudget } from './sync-budget.js';
import { O_PATH, TurnPins } from './turn-pins.js';

export { O_PATH };
const MAX_SYMLINK_HOPS = 40;

const outsideError = (): Error => fsError('EACCES', 'path leads outside the served root');

/** What lstat found at the end of a path (undefined: nothing there), and where a symlink leads. */
interface Step {
  stats?: Stats;
  /** The virtual path a symlink points to. */
  next?: string;
}

/**
 * This process's directory in /proc as the mounted /proc names it: /proc/PID rather than /proc/self,
 * which saves the kernel one symlink per lookup (about a tenth of an lstat through a pinned directory).
 */
function procSelfDir(): string {
  try {
    const pid = readlinkSync('/proc/self');
    if (/^\d+$/.test(pid) && existsSync(`/proc/${pid}/fd`)) return `/proc/${pid}`;
  } catch {
    // fall through
  }
  return '/proc/self';
}

/**
 * Confinement of virtual paths to a real directory. Every operation works on one name inside a
 * parent directory that was pinned with an O_PATH descriptor and checked — through /proc/self/fd —
 * to be inside the root. The operation then goes through /proc/self/fd/N/name, which the kernel
 * resolves to exactly that directory (like the *at() calls), so a directory swapped for a symlink
 * between the check and the use cannot lead outside.
 * The parent is found in one of two ways. The fast one, when its path has no symlink: opened by its
 * lexical path and accepted only when /proc names the descriptor by that very path; its calls run
 * synchronously while they are fast (SyncBudget), since a thread-pool hop costs far more than a stat.
 * Otherwise (a symlink on the way, an error, or calls found slow) the full walk: realpath, or one
 * component at a time, on the thread pool. Nothing is taken on trust from an earlier request: the
 * synchronous calls of one event-loop turn share a directory's pin (TurnPins), but each use asks /proc
 * again for its name, so a directory renamed or replaced is never taken for what now has its old name,
 * and every pin is closed once the turn is over.
 * Without /proc (not Linux) the same checks run on the realpath strings, which is weaker against races.
 */
export class Jail {
  readonly realRoot: string;
  /** True when /proc/self/fd pinning is used. */
  readonly pinned: boolean;
  private readonly proc: string;
  /** When file system calls run synchronously (see SyncBudget); shared with the files LocalFs opens. */
  readonly budget: SyncBudget;
  /** Directories pinned by the fast path for synchronous calls, shared within one event-loop turn. */
  private readonly turnPins: TurnPins;

  /** `syncBudgetMs`: see SyncBudget (0: every call on the thread pool). */
  constructor(root: string, opts: { syncBudgetMs?: number } = {}) {
    this.budget = new SyncBudget(opts.syncBudgetMs);
    this.realRoot = realpathSync(root);
    this.pinned = process.platform === 'linux' && existsSync('/proc/self/fd');
    this.proc = this.pinned ? procSelfDir() : '/proc/self';
    this.turnPins = new TurnPins((fd) => this.fdPath(fd));
  }

  /** Is a real absolute path the root or below it? */
  inside(real: string): boolean {
    return real === this.realRoot || real.startsWith(this.realRoot === '/' ? '/' : this.realRoot + '/');
  }

  /** The virtual path of a real path inside the root, else undefined. */
  toVirtual(real: string): string | undefined {
    const r = path.resolve(real);
    if (!this.inside(r)) return undefined;
    return normalizeVirtual(r.slice(this.realRoot === '/' ? 0 : this.realRoot.length));
  }

  /** The real path a virtual path names lexically (no symlinks resolved; for messages and realpath). */
  lexicalReal(vpath: string): string {
    const v = normalizeVirtual(vpath);
    if (v === '/') return this.realRoot;
    return this.realRoot === '/' ? v : this.realRoot + v;
  }

  /** Fail unless a real path is inside the root. */
  private check(real: string): void {
    if (!this.inside(real)) throw outsideError();
  }

  /**
   * The real path of a virtual path, every symlink on the way (the last component's too) resolved.
   * A path that leads outside the root at any step is EACCES, whatever exists out there: the answer
   * never tells what is outside. Paths without symlinks cost one realpath; others are walked.
   */
  async realOf(vpath: string): Promise<string> {
    const lexical = this.lexicalReal(vpath);
    let real: string;
    try {
      real = await fsp.realpath(lexical);
    } catch {
      // why it failed is told by the walk: outside (EACCES) before anything about existence
      return this.walk(vpath);
    }
    return real === lexical ? real : this.walk(vpath);
  }

  /**
   * Resolve a virtual path one component at a time from the root, as the kernel does: a symlink's
   * target continues the walk (a relative one from the link's directory, `..` going to the parent of
   * the directory actually reached). A target that is absolute and not inside the root, or `..` above
   * the root, is EACCES at once, before anything beyond it is looked at. Inside the root the errors
   * are the kernel's (ENOENT, ENOTDIR, ELOOP).
   */
  private async walk(vpath: string): Promise<string> {
    const todo = normalizeVirtual(vpath)
      .split('/')
      .filter((c) => c.length > 0);
    let cur = this.realRoot;
    let hops = 0;
    while (todo.length > 0) {
      const c = todo.shift()!;
      if (c === '.') continue;
      if (c === '..') {
        if (cur === this.realRoot) throw outsideError();
        cur = path.dirname(cur);
        continue;
      }
      const next = path.join(cur, c);
      const st = await fsp.lstat(next);
      if (st.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw fsError('ELOOP');
        const target = await fsp.readlink(next);
        if (path.isAbsolute(target)) {
          const abs = path.resolve(target);
          if (!this.inside(abs)) throw outsideError();
          cur = this.realRoot;
          todo.unshift(
            ...abs
              .slice(this.realRoot.length)
              .split('/')
              .filter((x) => x.length > 0),
          );
        } else {
          todo.unshift(...target.split('/').filter((x) => x.length > 0));
        }
        continue;
      }
      if (todo.length > 0 && !st.isDirectory()) throw fsError('ENOTDIR');
      cur = next;
    }
    return cur;
  }

  /**
   * The directory a virtual directory path names, pinned with an O_PATH descriptor, when the path has
   * no symlink on it: opened by its lexical real path, and kept only when /proc says the descriptor
   * is that very path (the kernel's name of an open directory never contains a symlink, so then no
   * component was one and the directory is inside the root). Undefined otherwise — a symlink on the
   * way, something missing, a directory renamed meanwhile — and the caller takes the full walk,
   * which gives the kernel's error (or EACCES for outside) as it always did. Two synchronous calls
   * (open, readlink) and a close, in place of realpath's readlink of every component.
   */
  private pinLexical(lexical: string): number | undefined {
    let fd: number;
    try {
      fd = fs.openSync(lexical, O_PATH | C.O_DIRECTORY);
    } catch {
      return undefined;
    }
    try {
      if (fs.readlinkSync(this.fdPath(fd)) === lexical) return fd;
    } catch {
      // fall through: the walk decides
    }
    fs.closeSync(fd);
    return undefined;
  }

  /**
   * Run `fn` with a path for the last component of `vpath` inside its checked, pinned parent.
   * The final component itself is never resolved here: `fn` must not follow it (use lstat,
   * O_NOFOLLOW...), or call resolveFollow first. For "/" the name is ".".
   * `fnSync`, when given, does the same synchronously: it is used when the parent's path has no
   * symlink and synchronous calls are fast (see SyncBudget), which saves every thread-pool hop.
   */
  async at<T>(
    vpath: string,
    fn: (p: string, realDir: string) => Promise<T>,
    fnSync?: (p: string, realDir: string) => T,
  ): Promise<T> {
    const v = normalizeVirtual(vpath);
    const base = virtualBasename(v) || '.';
    const vdir = virtualDirname(v);
    if (this.pinned && this.budget.take()) {
      const t0 = performance.now();
      const realDir = this.lexicalReal(vdir);
      if (fnSync) {
        const at = this.turnPins.dirPath(realDir);
        if (at !== undefined) {
          try {
            return fnSync(`${at}/${base}`, realDir);
          } finally {
            this.budget.done(t0);
          }
        }
      } else {
        const fd = this.pinLexical(realDir);
        if (fd !== undefined) {
          try {
            this.budget.done(t0);
            return await fn(`${this.fdPath(fd)}/${base}`, realDir);
          } finally {
            fs.closeSync(fd);
          }
        }
      }
      this.budget.done(t0);
    }
    const realDir = await this.realOf(vdir);
    this.check(realDir);
    if (!this.pinned) return fn(path.join(realDir, base), realDir);
    const dir = await fsp.open(realDir, O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW);
    try {
      const at = this.fdPath(dir.fd);
      const actual = await fsp.readlink(at);
      this.check(actual);
      return await fn(`${at}/${base}`, actual);
    } finally {
      await dir.close();
    }
  }

  /** The virtual path a symlink at `p` (in real directory `realDir`) points to; EACCES when outside. */
  private linkTarget(target: string, realDir: string): string {
    const v = this.toVirtual(path.resolve(realDir, target));
    if (v === undefined) throw fsError('EACCES', 'symbolic link points outside the served root');
    return v;
  }

  /**
   * Follow symlinks at the end of `vpath` until it names something that is not a symlink (or does
   * not exist). A link whose target lies outside the root is EACCES.
   */
  async resolveFollow(vpath: string): Promise<string> {
    return (await this.resolveFollowStats(vpath)).path;
  }

  /**
   * resolveFollow, and the lstat of what the path it returns names (undefined when nothing is
   * there), taken on the way: a caller that wants stat() has it without another call.
   */
  async resolveFollowStats(vpath: string): Promise<{ path: string; stats?: Stats }> {
    let cur = normalizeVirtual(vpath);
    for (let hop = 0; hop <= MAX_SYMLINK_HOPS; hop++) {
      const step = await this.at(
        cur,
        async (p, realDir): Promise<Step> => {
          let st;
          try {
            st = await fsp.lstat(p);
          } catch (err) {
            if (errnoOf(err) === 'ENOENT') return {};
            throw err;
          }
          if (!st.isSymbolicLink()) return { stats: st };
          return { next: this.linkTarget(await fsp.readlink(p), realDir) };
        },
        (p, realDir): Step => {
          const st = fs.lstatSync(p, { throwIfNoEntry: false });
          if (st === undefined) return {};
          if (!st.isSymbolicLink()) return { stats: st };
          return { next: this.linkTarget(fs.readlinkSync(p), realDir) };
        },
      );
      if (step.next === undefined) return { path: cur, stats: step.stats };
      cur = step.next;
    }
    throw fsError('ELOOP');
  }

  /** A path through which the object behind an open fd is reached again (the fd's own magic link). */
  fdPath(fd: number): string {
    return `${this.proc}/fd/${fd}`;
  }
}
