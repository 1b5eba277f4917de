import { constants as fsConstants } from 'node:fs';
import { chmod, lstat, mkdir, open, stat, symlink, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SftpError, StatusCode, isDirectory, isRegularFile, isSymlink, type Attrs } from '../../protocol/index.js';
import type { DirEntry, TransferHost } from '../core/remote.js';
import { downloadHandle, fileSink, openForRead, resolveDownload } from '../file/transfer.js';
import { atomicGet } from '../file/atomic/atomic-get.js';
import { symlinkDestinationError } from '../file/atomic/atomic-target.js';
import { TreeDir } from './dirs.js';
import { badNameError, childRel, isPlainName, remoteJoin } from './names.js';
import { Pending, TreeRun, treeSettings, type TreeSettings } from './run.js';
import { RemoteWalk } from './walk.js';
import { writeWhole } from './local-io.js';
import { closeHandle as closeRemote } from '../core/close-handle.js';
import { transferOneFile } from './one-file.js';
import { TREE_REFETCH_REQUESTS } from '../defaults.js';
import type { TreeOptions, TreeResult } from './types.js';
import { localError } from '../core/local-error.js';
import { writeAt } from '../engine/write-behind.js';

interface GetContext extends TreeSettings {
  run: TreeRun;
  client: TransferHost;
  chunkSize: number;
}

/** Create a local file for writing without following a link already at that name. */
const WRITE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW;

type Kind = 'file' | 'dir' | 'link' | 'other';

export function attrsKind(a: Attrs): Kind {
  return isRegularFile(a) ? 'file' : isDirectory(a) ? 'dir' : isSymlink(a) ? 'link' : 'other';
}

/**
 * getTree(client, remoteDir, localDir): copy the contents of a remote directory into `localDir`
 * (created, with its parents, when missing; files already there are replaced).
 *
 * The remote tree is listed by a RemoteWalk (walk.ts): every directory as soon as its name arrives
 * (up to `listers` at once), READDIRs pipelined, and each entry acted on as it arrives: a file's
 * download starts while its directory (and the rest of the tree) is still being listed. Downloads share one window of requests and bytes: OPEN, then as soon as the handle arrives
 * every READ of a small file and its CLOSE go out back to back (the size comes from the listing; the
 * last READ asks one byte past it, so a file that changed since is noticed and fetched again the
 * careful way). Errors are collected per entry unless `stopOnError`; an aborted `signal` stops
 * sending, closes every open handle and rejects with an AbortError.
 */
export async function getTree(
  client: TransferHost,
  remoteDir: string,
  localDir: string,
  opts: TreeOptions = {},
): Promise<TreeResult> {
  const run = new TreeRun(client, opts, 'getTree', true);
  const ctx: GetContext = {
    run,
    client,
    chunkSize: resolveDownload(client, { chunkSize: opts.chunkSize }).chunkSize,
    ...treeSettings(opts),
  };
  if (run.stopped) return run.finish();
  const walk: RemoteWalk = new RemoteWalk(run, { visit: (dir, e) => visit(ctx, dir, e, walk) });
  // The top's STAT, its OPENDIR (and REALPATH when following links) go out together.
  const identityP = ctx.follow ? client.realpath(remoteDir) : undefined;
  identityP?.catch(() => {});
  walk.openEarly(remoteDir);
  let root: TreeDir;
  try {
    const rootAttrs = await client.stat(remoteDir);
    if (!isDirectory(rootAttrs)) {
      throw new SftpError({
        status: StatusCode.FAILURE,
        code: 'ENOTDIR',
        message: 'not a directory',
        op: 'getTree',
        path: remoteDir,
      });
    }
    await mkdir(localDir, { recursive: true });
    if (!(await stat(localDir)).isDirectory()) throw localError('ENOTDIR', 'not a directory', localDir);
    const identity = await identityP;
    root = new TreeDir(undefined, '', remoteDir, localDir, rootAttrs, (d) => completeDir(ctx, d), identity);
  } catch (err) {
    await walk.dropEarly();
    throw err;
  }
  if (run.stopped) {
    await walk.dropEarly();
    return run.finish();
  }
  root.readyState = true;
  run.result.directories++;
  walk.add(root);
  return run.finish();
}

async function visit(ctx: GetContext, dir: TreeDir, e: DirEntry, walk: RemoteWalk): Promise<void> {
  const { run, client } = ctx;
  const name = e.filename;
  const rel = childRel(dir.rel, name);
  if (!isPlainName(name)) {
    run.fail(rel, badNameError(dir.src, name));
    return;
  }
  const src = remoteJoin(dir.src, name);
  const dst = join(dir.dst, name);
  let attrs = e.attrs;
  let identity: string | undefined;
  let kind: Kind;
  try {
    if (attrs.permissions === undefined) attrs = await run.send(0, () => client.lstat(src));
    kind = attrsKind(attrs);
    if (kind === 'link') {
      if (ctx.symlinks === 'skip') {
        run.result.skipped++;
        return;
      }
      if (ctx.symlinks === 'copy') {
        await ctx.run.startTask(dir, () => copyLink(ctx, dir, rel, src, dst));
        return;
      }
      attrs = await run.send(0, () => client.stat(src));
      kind = attrsKind(attrs);
      if (kind === 'dir') {
        identity = await run.send(0, () => client.realpath(src));
        if (dir.isLoop(identity)) {
          throw new SftpError({
            status: StatusCode.FAILURE,
            code: 'ELOOP',
            message: 'symbolic link loops back to a directory being copied',
            op: 'getTree',
            path: src,
          });
        }
      }
    } else if (kind === 'dir' && dir.identity !== undefined) identity = remoteJoin(dir.identity, name);
  } catch (err) {
    run.fail(rel, err);
    return;
  }
  if (kind === 'file') {
    run.noteFile(attrs.size);
    const a = attrs;
    await ctx.run.startTask(dir, (handleDone) =>
      ctx.perFile ? getOneFile(ctx, dir, rel, src, dst) : downloadFile(ctx, dir, rel, src, dst, a, handleDone),
    );
  } else if (kind === 'dir') {
    const child = new TreeDir(dir, rel, src, dst, attrs, (d) => completeDir(ctx, d), identity);
    dir.hold();
    child.setReady(makeLocalDir(ctx, child));
    walk.add(child);
  } else run.result.skipped++;
}

/** mkdir, writable by its owner until its contents are in; an existing directory (not a link) is fine. */
async function makeLocalDir(ctx: GetContext, dir: TreeDir): Promise<boolean> {
  const { run } = ctx;
  if (dir.parent && !(await dir.parent.ready)) return false;
  try {
    await mkdir(dir.dst, { mode: ((dir.attrs.permissions ?? 0o755) & 0o777) | 0o700 });
    dir.created = true;
    run.result.directories++;
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') {
      const st = await lstat(dir.dst).catch(() => undefined);
      if (st?.isDirectory()) {
        run.result.directories++;
        return true;
      }
      if (st?.isSymbolicLink()) {
        run.fail(dir.rel, symlinkDestinationError(dir.dst)); // never descended into: nothing is written through it
        return false;
      }
    }
    run.fail(dir.rel, err);
    return false;
  }
}

/** A directory whose contents are all done: its mode (and times, with preserve) are set last. */
function completeDir(ctx: GetContext, dir: TreeDir): void {
  const { run } = ctx;
  run.spawn(async () => {
    try {
      if (run.stopped || dir.readyState !== true) return;
      const perm = dir.attrs.permissions;
      const created = dir.created;
      if (ctx.preserve) {
        if (perm !== undefined) await chmod(dir.dst, perm & 0o7777);
        if (dir.attrs.atime !== undefined && dir.attrs.mtime !== undefined)
          await utimes(dir.dst, dir.attrs.atime, dir.attrs.mtime);
      } else if (created && perm !== undefined && (perm & 0o700) !== 0o700) await chmod(dir.dst, perm & 0o777);
    } catch (err) {
      run.fail(dir.rel, err);
    } finally {
      dir.parent?.release();
    }
  });
}

/**
 * One file, pipelined: OPEN; then every READ (the last one a byte past the listed size) and the CLOSE
 * go out as the window allows, without waiting for replies. Bytes are written locally as they come,
 * in any order; a window slot is given back only once its bytes are on disk.
 */
async function downloadFile(
  ctx: GetContext,
  dir: TreeDir,
  rel: string,
  src: string,
  dst: string,
  attrs: Attrs,
  handleDone: () => void,
): Promise<void> {
  const { run, client, chunkSize } = ctx;
  if (attrs.size !== undefined && attrs.size < chunkSize && !ctx.fsync)
    return downloadSmall(ctx, dir, rel, src, dst, attrs, attrs.size, handleDone);
  let handle: Buffer | undefined;
  let local: Promise<FileHandle> | undefined;
  const pending = new Pending();
  try {
    if (!(await dir.ready)) return;
    run.checkStopped();
    handle = await run.send(0, () => client.open(src, 'r'));
    const h = handle;
    const opening = open(dst, WRITE_FLAGS, (attrs.permissions ?? 0o666) & 0o777);
    local = opening;
    opening.catch(() => {});
    const size = attrs.size;
    let mismatch = size === undefined;
    let counted = 0;
    if (size !== undefined) {
      for (let off = 0; off <= size && !pending.failed && !mismatch; off += chunkSize) {
        const len = Math.min(chunkSize, size + 1 - off);
        const expect = Math.min(len, size - off);
        const w = run.acquire(len, true);
        if (w) await w;
        const o = off;
        const release = () => run.window.release(len);
        pending.add(
          client
            .read(h, o, len)
            .then(async (buf) => {
              if (buf.length !== expect) {
                mismatch = true; // changed since the listing, or a short read: fetch it again below
                return;
              }
              if (buf.length === 0) return;
              await writeAt(await opening, buf, o);
              counted += buf.length;
              run.addBytes(buf.length);
            })
            .finally(release),
        );
      }
    }
    handle = undefined;
    const closing = run.closeHandle(h);
    closing.catch(() => {});
    await pending.all();
    await closing;
    const fh = await opening;
    let final = attrs;
    if (mismatch) {
      run.result.bytes -= counted;
      final = await refetch(ctx, src, fh);
    }
    if (ctx.preserve) {
      if (final.permissions !== undefined) await fh.chmod(final.permissions & 0o7777);
      if (final.atime !== undefined && final.mtime !== undefined) await fh.utimes(final.atime, final.mtime);
    }
    if (ctx.fsync) await fh.sync();
    run.result.files++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  } finally {
    await pending.all().catch(() => {});
    if (handle) await closeRemote(client, handle, run.signal).catch(() => {});
    if (local) await (await local.catch(() => undefined))?.close().catch(() => {});
  }
}

/**
 * A file that fits in one READ (the listed size plus the byte past it): OPEN, READ, CLOSE back to back;
 * the local file is created and written in one go once the bytes are here (synchronously while that
 * is fast). Once the CLOSE is answered the handle slot goes to the next file while the bytes are
 * written, when the run's write backlog has room for them (else the slot is kept until they are on
 * disk, as the handle cap then bounds what waits for a slow disk). A size other than the listed one
 * is fetched again the careful way.
 */
async function downloadSmall(
  ctx: GetContext,
  dir: TreeDir,
  rel: string,
  src: string,
  dst: string,
  attrs: Attrs,
  size: number,
  handleDone: () => void,
): Promise<void> {
  const { run, client } = ctx;
  let handle: Buffer | undefined;
  let reading: Promise<Buffer> | undefined;
  /** Bytes counted in the write backlog (0: none). */
  let backlog = 0;
  try {
    if (dir.readyState !== true && !(await dir.ready)) return;
    run.checkStopped();
    handle = await run.send(0, () => client.open(src, 'r'));
    const h = handle;
    const len = size + 1;
    const w = run.acquire(len, true);
    if (w) await w;
    reading = run.issued(len, client.read(h, 0, len));
    reading.catch(() => {});
    handle = undefined;
    const closing = run.closeHandle(h);
    closing.catch(() => {});
    const data = await reading;
    await closing;
    const mode = (attrs.permissions ?? 0o666) & 0o777;
    if (data.length === size) {
      if (run.writeBacklog.tryAcquire(size)) {
        backlog = size;
        handleDone();
      }
      await writeWhole(ctx.gate, dst, WRITE_FLAGS, mode, data, ctx.preserve ? preservedLocal(attrs) : undefined);
      run.addBytes(size);
    } else {
      const fh = await open(dst, WRITE_FLAGS, mode);
      try {
        const final = await refetch(ctx, src, fh);
        if (ctx.preserve) {
          if (final.permissions !== undefined) await fh.chmod(final.permissions & 0o7777);
          if (final.atime !== undefined && final.mtime !== undefined) await fh.utimes(final.atime, final.mtime);
        }
      } finally {
        await fh.close().catch(() => {});
      }
    }
    run.result.files++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  } finally {
    // Not closed yet (the run stopped before the READ went out): close it now.
    if (handle) await closeRemote(client, handle, run.signal).catch(() => {});
    else await reading?.catch(() => {});
    if (backlog > 0) run.writeBacklog.release(backlog);
  }
}

function preservedLocal(a: Attrs): { chmod?: number; atime?: number; mtime?: number } {
  return { chmod: a.permissions !== undefined ? a.permissions & 0o7777 : undefined, atime: a.atime, mtime: a.mtime };
}

/** The careful way, for a file that changed since it was listed: OPEN, FSTAT, read to the end. */
async function refetch(ctx: GetContext, src: string, fh: FileHandle): Promise<Attrs> {
  const { run, client } = ctx;
  run.checkStopped();
  const { handle, attrs } = await openForRead(client, src);
  let open = true;
  try {
    let last = 0;
    const n = await downloadHandle(client, handle, fileSink(fh), {
      chunkSize: ctx.chunkSize,
      requests: TREE_REFETCH_REQUESTS,
      expectSize: attrs.size,
      path: src,
      onProgress: (p) => {
        run.addBytes(p.bytes - last);
        last = p.bytes;
      },
    });
    await fh.truncate(n);
    open = false;
    await closeRemote(client, handle, run.signal);
    return attrs;
  } finally {
    if (open) await closeRemote(client, handle, run.signal).catch(() => {});
  }
}

/** One file through the client's own atomic/resume download; a symlink at `dst` is an error, never followed. */
function getOneFile(ctx: GetContext, dir: TreeDir, rel: string, src: string, dst: string): Promise<void> {
  return transferOneFile(ctx, dir, rel, (opts) => atomicGet(ctx.client, src, dst, opts, { noFollow: true }));
}

/** A remote symbolic link recreated locally as a link; an existing link of that name is replaced. */
async function copyLink(ctx: GetContext, dir: TreeDir, rel: string, src: string, dst: string): Promise<void> {
  const { run, client } = ctx;
  try {
    if (!(await dir.ready)) return;
    run.checkStopped();
    const target = await run.send(0, () => client.readlink(src));
    try {
      await symlink(target, dst);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      const st = await lstat(dst);
      if (!st.isSymbolicLink()) throw err;
      await unlink(dst);
      await symlink(target, dst);
    }
    run.result.symlinks++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  }
}
