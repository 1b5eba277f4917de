import type { FileStats, FileSystem, FsFile, OpenOptions } from '../fs/file-system.js';
import { isRegMode } from '../fs/file-system.js';
import { errnoOf } from '../fs/fs-error.js';
import { joinVirtual, normalizeVirtual, virtualBasename, virtualDirname } from '../fs/vpath.js';
import type { AtomicUploadMode } from '../options.js';
import { ContiguousTracker } from './contiguous.js';
import { gapMarkedName, isPartialName, parseUploadName, partialName, uploadName } from './hidden-names.js';
import { claimTag, ownerOf, releaseTag } from './upload-owner.js';

/** An upload that writes into a hidden file and appears under its final name only at CLOSE. */
export interface Upload {
  finalPath: string;
  tempPath: string;
  /** The owner tag in tempPath's name (see upload-owner.ts). */
  tag: string;
  file: FsFile;
  /** The OPEN had EXCL: the commit must not replace a name that appeared meanwhile. */
  exclusive: boolean;
  append: boolean;
  tracker: ContiguousTracker;
  /** A WRITE failed: the upload can no longer commit. */
  failed: boolean;
  /** Continued from a kept partial. */
  resumed: boolean;
  /** The file's name carries the gap mark: its size may not be a written prefix. */
  gapped: boolean;
  /**
   * The client said the upload was cut short (discard-handle@sftp-wire, or in atomic-resume the size
   * of an APPEND upload cut, as OpenSSH's reput does on failure): CLOSE keeps it as the partial
   * (atomic-resume) or removes it (atomic), never commits.
   */
  discarded: boolean;
}

/** Directories swept for orphaned upload files, per storage, by this process (bounded). */
const swept = new WeakMap<FileSystem, Map<string, Promise<void>>>();
const MAX_SWEPT_DIRS = 10_000;
/** Entries of one directory looked at by a sweep at most (a huge directory is swept by READDIR instead). */
const MAX_SWEEP_ENTRIES = 100_000;

/**
 * Server-side atomic uploads, one store per session. Each upload's temporary name carries a tag
 * naming its writer (upload-owner.ts), unique per upload and process, so leftovers of a dead process
 * can be told from live uploads. Kept partials (atomic-resume) are shared by all sessions under a
 * deterministic name per final path.
 */
export class UploadStore {
  constructor(
    private readonly fs: FileSystem,
    readonly mode: AtomicUploadMode,
    private readonly partialMaxAgeMs: number,
    /** A read-only server: nothing is ever removed, renamed or written (stale partials stay). */
    private readonly readOnly = false,
  ) {}

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  private partialOf(finalPath: string): string {
    return joinVirtual(virtualDirname(finalPath), partialName(virtualBasename(finalPath)));
  }

  private isStale(st: FileStats): boolean {
    return Date.now() - st.mtime * 1000 > this.partialMaxAgeMs;
  }

  /** The kept partial for a final path, when one exists and is fresh (a stale one is removed). */
  private async freshPartial(finalPath: string): Promise<{ path: string; stats: FileStats } | undefined> {
    const p = this.partialOf(finalPath);
    let stats: FileStats;
    try {
      stats = await this.fs.lstat(p);
    } catch {
      return undefined;
    }
    if (!isRegMode(stats.mode)) return undefined;
    if (this.isStale(stats)) {
      if (!this.readOnly) await this.fs.remove(p).catch(() => undefined);
      return undefined;
    }
    return { path: p, stats };
  }

  /**
   * STAT/LSTAT of a path with no file: in atomic-resume mode a kept partial answers with its size,
   * so that clients which resume from the destination's size (OpenSSH `reput`) continue it.
   */
  async statWhenMissing(path: string): Promise<FileStats | undefined> {
    if (this.mode !== 'atomic-resume') return undefined;
    const p = normalizeVirtual(path);
    await this.sweepDir(virtualDirname(p));
    return (await this.freshPartial(p))?.stats;
  }

  /** Remove stale partials seen while listing a directory. */
  expireIfStale(dirPath: string, name: string, stats: FileStats | undefined): void {
    if (this.readOnly || this.mode !== 'atomic-resume' || !stats || !isPartialName(name) || !this.isStale(stats))
      return;
    void this.fs.remove(joinVirtual(dirPath, name)).catch(() => undefined);
  }

  /**
   * Decide at OPEN whether this open becomes an atomic upload, and if so open its hidden file.
   * Returns undefined for opens that go to the file itself: reads, edits of an existing file
   * without TRUNC, directories, symlinks and other non-regular files.
   */
  async begin(path: string, opts: OpenOptions): Promise<Upload | undefined> {
    if (this.mode === 'off' || !opts.write) return undefined;
    const finalPath = normalizeVirtual(path);
    if (finalPath === '/') return undefined;
    let current: FileStats | undefined;
    try {
      current = await this.fs.lstat(finalPath);
    } catch (err) {
      const code = errnoOf(err);
      if (code !== 'ENOENT') return undefined; // let the plain open report it
    }
    if (current && !isRegMode(current.mode)) return undefined;
    if (current && opts.create && opts.exclusive) return undefined; // EEXIST from the plain open
    await this.sweepDir(virtualDirname(finalPath));

    if (!opts.truncate) {
      if (current) return undefined; // an in-place edit of an existing file
      if (this.mode === 'atomic-resume') {
        const resumed = await this.continuePartial(finalPath, opts);
        if (resumed) return resumed;
      }
      if (!opts.create) return undefined; // ENOENT from the plain open
    }
    if (!current && !opts.create) return undefined;

    // A fresh upload into a new hidden file. A replaced file keeps its permission bits.
    const { tempPath, tag } = this.newTemp(finalPath);
    const mode = current ? current.mode & 0o7777 : opts.mode;
    let file: FsFile;
    try {
      file = await this.fs.open(tempPath, { ...opts, create: true, exclusive: true, truncate: false, mode });
    } catch (err) {
      releaseTag(tag);
      throw err;
    }
    if (current) await file.setstat({ mode: current.mode & 0o7777 }).catch(() => undefined);
    return {
      finalPath,
      tempPath,
      tag,
      file,
      exclusive: opts.create && opts.exclusive,
      append: opts.append,
      tracker: new ContiguousTracker(0),
      failed: false,
      resumed: false,
      gapped: false,
      discarded: false,
    };
  }

  private newTemp(finalPath: string): { tempPath: string; tag: string } {
    const tag = claimTag();
    return { tag, tempPath: joinVirtual(virtualDirname(finalPath), uploadName(virtualBasename(finalPath), tag)) };
  }

  /**
   * Upload files whose writer is gone (a killed server) in `dir`, looked for once per directory by
   * this process, before its first upload or resume there (READDIR sweeps what it lists, see
   * sweepListed). atomic: they are removed. atomic-resume: each becomes its path's kept partial, as
   * if its session had ended (writes on a handle land in order, so its size is a written prefix).
   */
  private sweepDir(dir: string): Promise<void> {
    if (this.readOnly || this.mode === 'off') return Promise.resolve();
    let done = swept.get(this.fs);
    if (!done) swept.set(this.fs, (done = new Map()));
    let run = done.get(dir);
    if (!run) {
      if (done.size >= MAX_SWEPT_DIRS) done.clear();
      run = this.sweepNow(dir).catch(() => undefined);
      done.set(dir, run);
    }
    return run;
  }

  private async sweepNow(dir: string): Promise<void> {
    const d = await this.fs.opendir(dir);
    const found: { name: string; stats?: FileStats }[] = [];
    try {
      for (let seen = 0; seen < MAX_SWEEP_ENTRIES;) {
        const batch = await d.read(256);
        if (!batch) break;
        seen += batch.length;
        for (const e of batch) if (parseUploadName(e.name)) found.push(e);
      }
    } finally {
      await d.close().catch(() => undefined);
    }
    for (const e of found) await this.sweepOne(dir, e.name, e.stats);
  }

  /** An upload file seen in a listing: swept when it is an orphan. */
  private async sweepOne(dir: string, name: string, stats: FileStats | undefined): Promise<void> {
    const parsed = parseUploadName(name);
    if (!parsed || !stats || !isRegMode(stats.mode)) return;
    const owner = ownerOf(parsed.tag);
    if (owner === 'owned' || (owner === 'unknown' && !this.isStale(stats))) return;
    const path = joinVirtual(dir, name);
    // a base too long for the name was replaced by its digest: its partial cannot be named
    // and a file whose bytes may not all have been written (gap mark) is no prefix to resume from
    const keepable =
      this.mode === 'atomic-resume' && !parsed.gapped && !/^h[0-9a-f]{40}$/.test(parsed.stem) && !this.isStale(stats);
    if (keepable) {
      const partial = joinVirtual(dir, partialName(parsed.stem));
      const other = await this.fs.lstat(partial).catch(() => undefined);
      if (!other || other.mtime <= stats.mtime) {
        await this.fs.rename(path, partial, { overwrite: true }).catch(() => undefined);
        return;
      }
    }
    await this.fs.remove(path).catch(() => undefined);
  }

  /** READDIR saw a hidden upload name: sweep it when its writer is gone (not awaited by the listing). */
  sweepListed(dir: string, name: string, stats: FileStats | undefined): void {
    if (this.readOnly || this.mode === 'off') return;
    void this.sweepOne(dir, name, stats).catch(() => undefined);
  }

  /** Claim the kept partial (a rename, so two sessions never continue the same one) and reopen it. */
  private async continuePartial(finalPath: string, opts: OpenOptions): Promise<Upload | undefined> {
    const partial = await this.freshPartial(finalPath);
    if (!partial) return undefined;
    const { tempPath, tag } = this.newTemp(finalPath);
    try {
      await this.fs.rename(partial.path, tempPath, { overwrite: true });
    } catch {
      releaseTag(tag);
      return undefined; // another session took it
    }
    let file: FsFile;
    try {
      file = await this.fs.open(tempPath, { ...opts, create: false, exclusive: false, truncate: false });
    } catch (err) {
      releaseTag(tag); // the file is an orphan now: the next sweep keeps it as the partial again
      throw err;
    }
    const size = (await file.stat()).size;
    return {
      finalPath,
      tempPath,
      tag,
      file,
      exclusive: false,
      append: opts.append,
      tracker: new ContiguousTracker(size),
      failed: false,
      resumed: true,
      gapped: false,
      discarded: false,
    };
  }

  /**
   * atomic-resume, before a write at `from` (or a size change to `from`) on an upload: when it would
   * leave bytes never written before the file's end (a write past the contiguous prefix), the file's
   * name gets the gap mark first. Were the server killed then, the file's size would no longer be a
   * written prefix: a sweep removes a marked file instead of keeping it as the partial. (A live
   * session knows its exact prefix and keeps that.) Writes in order, as clients send them, never
   * mark anything.
   */
  async beforeGap(u: Upload, from: number): Promise<void> {
    if (this.mode !== 'atomic-resume' || u.gapped || u.append || from <= u.tracker.end) return;
    const marked = joinVirtual(virtualDirname(u.tempPath), gapMarkedName(virtualBasename(u.tempPath)));
    try {
      await this.fs.rename(u.tempPath, marked, { overwrite: false });
      u.tempPath = marked;
      u.gapped = true;
    } catch {
      // left unmarked: were the server killed, this one file might be kept with a hole
    }
  }

  /** CLOSE without error: rename the hidden file into place. Throws when the commit fails. */
  async commit(u: Upload): Promise<void> {
    await this.fs.rename(u.tempPath, u.finalPath, { overwrite: !u.exclusive });
    releaseTag(u.tag);
    if (this.mode === 'atomic-resume' && !u.resumed) {
      // an older partial of this path is now obsolete
      await this.fs.remove(this.partialOf(u.finalPath)).catch(() => undefined);
    }
  }

  /**
   * The upload ended without a commit (a failed write, a failed commit, or the session ended before
   * CLOSE). atomic: the hidden file is removed. atomic-resume: it is cut to its contiguous prefix and
   * kept as the path's partial, replacing an older one. The file must be closed already.
   */
  async abandon(u: Upload): Promise<void> {
    try {
      await this.abandonFile(u);
    } finally {
      releaseTag(u.tag);
    }
  }

  private async abandonFile(u: Upload): Promise<void> {
    if (this.mode === 'atomic-resume') {
      try {
        const st = await this.fs.lstat(u.tempPath);
        const keep = u.append ? st.size : Math.min(st.size, u.tracker.end);
        if (keep < st.size) await this.fs.setstat(u.tempPath, { size: keep }, { follow: false });
        await this.fs.rename(u.tempPath, this.partialOf(u.finalPath), { overwrite: true });
        return;
      } catch {
        // fall through: never leave an unknown temporary file behind
      }
    }
    await this.fs.remove(u.tempPath).catch(() => undefined);
  }
}
