import type { Dirent, Stats } from 'node:fs';
import { lstat, opendir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDirectory, isSymlink, StatusCode, SftpError, type Attrs } from '../../protocol/index.js';
import type { TransferHost } from '../core/remote.js';
import { preservedAttrs, put, resolveUpload } from '../file/transfer.js';
import { TreeDir } from './dirs.js';
import { closeFd, openSource, readAt, Slab } from './local-io.js';
import { childRel, remoteJoin } from './names.js';
import { closeHandle as closeRemote } from '../core/close-handle.js';
import { transferOneFile } from './one-file.js';
import { isSessionFailure, Pending, TreeRun, TreeStopped, treeSettings, type TreeSettings } from './run.js';
import type { TreeOptions, TreeResult } from './types.js';
import { localError } from '../core/local-error.js';

interface PutContext extends TreeSettings {
  run: TreeRun;
  client: TransferHost;
  chunkSize: number;
  slab: Slab;
}

function statAttrs(st: Stats): Attrs {
  return { permissions: st.mode, atime: Math.floor(st.atimeMs / 1000), mtime: Math.floor(st.mtimeMs / 1000) };
}

/**
 * putTree(client, localDir, remoteDir): copy the contents of a local directory into `remoteDir`
 * (created when missing; an existing directory is fine and files in it are replaced).
 *
 * The local tree is walked as a stream (fs.opendir), one directory at a time; every directory's
 * MKDIR goes out as soon as the walk meets it, pipelined with everything else. Many files are open
 * at once (up to `maxOpenFiles`), all sharing one window of requests and bytes: while earlier files'
 * WRITEs and CLOSEs are in flight, later files' OPENs already go out, and a small file's WRITE(s)
 * and CLOSE are sent back to back as soon as its handle arrives (CLOSE does not wait for the WRITE
 * replies; a failed WRITE still makes that file an error).
 *
 * Errors are collected per entry (`result.errors`) and the copy goes on, unless `stopOnError`. An
 * aborted `signal` stops sending, closes every open handle, and rejects with an AbortError.
 */
export async function putTree(
  client: TransferHost,
  localDir: string,
  remoteDir: string,
  opts: TreeOptions = {},
): Promise<TreeResult> {
  const run = new TreeRun(client, opts, 'putTree', false);
  const ctx: PutContext = {
    run,
    client,
    chunkSize: resolveUpload(client, { chunkSize: opts.chunkSize }).chunkSize,
    ...treeSettings(opts),
    slab: new Slab(),
  };
  const rootSt = await stat(localDir);
  if (!rootSt.isDirectory()) throw localError('ENOTDIR', 'not a directory', localDir);
  if (run.stopped) return run.finish();
  const root = new TreeDir(
    undefined,
    '',
    localDir,
    remoteDir,
    statAttrs(rootSt),
    (d) => completeDir(ctx, d),
    ctx.follow ? `${rootSt.dev}:${rootSt.ino}` : undefined,
  );
  const rootError: { error?: unknown } = {};
  root.setReady(makeRemoteDir(ctx, root, rootError));
  if (!(await run.untilStopped(root.ready, false))) {
    if (run.stopped) return run.finish();
    throw rootError.error;
  }
  run.spawn(() => walk(ctx, root));
  return run.finish();
}

/**
 * MKDIR `dir` (as soon as it is met: its parent's MKDIR may still be in flight). A server that runs
 * requests out of order may answer "no such file" when the parent was not there yet: then it is asked
 * again once the parent exists. An existing directory is fine.
 */
async function makeRemoteDir(ctx: PutContext, dir: TreeDir, rootError?: { error?: unknown }): Promise<boolean> {
  const { run, client } = ctx;
  const mode = ((dir.attrs.permissions ?? 0o755) & 0o777) | 0o700;
  const parentKnown = dir.parent === undefined || dir.parent.readyState === true;
  const mkdir = () =>
    run
      .send(0, () => client.mkdir(dir.dst, { permissions: mode }), true)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
  const first = mkdir();
  if (dir.parent && !(await dir.parent.ready)) return false; // the parent's error is the one reported
  let err = await first;
  if (err !== undefined && !parentKnown && err instanceof SftpError && err.status === StatusCode.NO_SUCH_FILE)
    err = await mkdir();
  if (err === undefined) {
    dir.created = true;
    run.result.directories++;
    return true;
  }
  if (!(err instanceof TreeStopped) && !isSessionFailure(err)) {
    // Already there? (OpenSSH answers a plain FAILURE for EEXIST.)
    const attrs = await run.send(0, () => client.stat(dir.dst)).catch(() => undefined);
    if (attrs && isDirectory(attrs)) {
      run.result.directories++;
      return true;
    }
  }
  if (rootError) rootError.error = err;
  else run.fail(dir.rel, err);
  return false;
}

/**
 * A directory whose contents are all done: its mode (and times, with preserve) are set last. The
 * local walk does not wait for MKDIR replies, so a directory with nothing to upload in it (empty, or
 * only empty directories below) is walked before its MKDIR is answered: wait for that answer here,
 * or the tree would be reported done (and the parent's mode set) while the MKDIR is still in flight.
 * A stop (abort, lost session) ends the wait at once.
 */
function completeDir(ctx: PutContext, dir: TreeDir): void {
  const { run, client } = ctx;
  run.spawn(async () => {
    try {
      if (!(await run.untilStopped(dir.ready, false)) || run.stopped) return;
      const created = dir.created;
      let attrs: Attrs = {};
      if (ctx.preserve) attrs = preservedAttrs(dir.attrs);
      else if (created && dir.attrs.permissions !== undefined && (dir.attrs.permissions & 0o700) !== 0o700) {
        attrs = { permissions: dir.attrs.permissions & 0o777 }; // it was created writable for its contents
      }
      if (Object.keys(attrs).length > 0) await run.send(0, () => client.setstat(dir.dst, attrs));
    } catch (err) {
      run.fail(dir.rel, err);
    } finally {
      dir.parent?.release();
    }
  });
}

type Kind = 'file' | 'dir' | 'link' | 'other';

function direntKind(e: Dirent): Kind | undefined {
  if (e.isFile()) return 'file';
  if (e.isDirectory()) return 'dir';
  if (e.isSymbolicLink()) return 'link';
  if (e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice()) return 'other';
  return undefined; // the file system did not say: lstat
}

function statKind(st: Stats): Kind {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
}

/** Walk the local tree depth first, one directory listing open at a time, streaming its entries. */
async function walk(ctx: PutContext, root: TreeDir): Promise<void> {
  const { run } = ctx;
  const stack: TreeDir[] = [root];
  while (stack.length > 0 && !run.stopped) {
    const dir = stack.pop()!;
    try {
      if (dir.readyState === false) continue; // its MKDIR failed: nothing below it can be copied
      const d = await opendir(dir.src, { bufferSize: 256 });
      for await (const ent of d) {
        if (run.stopped) break;
        await visit(ctx, dir, ent, stack);
      }
    } catch (err) {
      run.fail(dir.rel, err);
    } finally {
      dir.release();
    }
  }
  run.walkEnded();
}

async function visit(ctx: PutContext, dir: TreeDir, ent: Dirent, stack: TreeDir[]): Promise<void> {
  const { run } = ctx;
  const name = ent.name;
  const src = join(dir.src, name);
  const rel = childRel(dir.rel, name);
  const dst = remoteJoin(dir.dst, name);
  let kind = direntKind(ent);
  let st: Stats | undefined;
  try {
    if (kind === undefined) {
      st = await lstat(src);
      kind = statKind(st);
    }
    if (kind === 'link') {
      if (ctx.symlinks === 'skip') {
        run.result.skipped++;
        return;
      }
      if (ctx.symlinks === 'copy') {
        await ctx.run.startTask(dir, () => copyLink(ctx, dir, rel, src, dst));
        return;
      }
      st = await stat(src); // follow (a dangling link is this entry's error)
      kind = statKind(st);
      if (kind === 'dir' && dir.isLoop(`${st.dev}:${st.ino}`))
        throw localError('ELOOP', 'symbolic link loops back to a directory being copied', src);
    }
  } catch (err) {
    run.fail(rel, err);
    return;
  }
  if (kind === 'file') {
    run.noteFile();
    await ctx.run.startTask(dir, () =>
      ctx.perFile ? putOneFile(ctx, dir, rel, src, dst) : uploadFile(ctx, dir, rel, src, dst),
    );
  } else if (kind === 'dir') {
    try {
      st ??= ctx.follow ? await stat(src) : await lstat(src);
    } catch (err) {
      run.fail(rel, err);
      return;
    }
    const child = new TreeDir(
      dir,
      rel,
      src,
      dst,
      statAttrs(st),
      (d) => completeDir(ctx, d),
      ctx.follow ? `${st.dev}:${st.ino}` : undefined,
    );
    dir.hold();
    child.setReady(makeRemoteDir(ctx, child));
    stack.push(child);
  } else run.result.skipped++;
}

/** One file, pipelined: OPEN; WRITE(s), FSETSTAT, CLOSE sent as the window allows, without waiting for replies. */
async function uploadFile(ctx: PutContext, dir: TreeDir, rel: string, src: string, dst: string): Promise<void> {
  const { run, client, chunkSize } = ctx;
  let fd = -1;
  let handle: Buffer | undefined;
  const pending = new Pending();
  try {
    if (dir.readyState !== true && !(await run.untilStopped(dir.ready, false))) return;
    run.checkStopped();
    // A small file is read whole here (synchronously while that is fast); a larger one's first
    // chunk is read while the OPEN is in flight.
    const local = await openSource(ctx.gate, ctx.slab, src, chunkSize);
    fd = local.fd;
    const st = local.stats;
    const size = st.size;
    run.noteSize(size);
    const firstLen = Math.min(size, chunkSize);
    let first: Promise<Buffer> | undefined;
    if (local.data === undefined) {
      first = readAt(fd, src, size, 0, firstLen, firstLen === size);
      first.catch(() => {});
    }
    handle = await run.send(0, () => client.open(dst, 'w', { permissions: st.mode & 0o777 }));
    const h = handle;
    const data0 = local.data ?? (await first!);
    if (firstLen > 0) {
      const w = run.acquire(firstLen, true);
      if (w) await w;
      pending.add(run.issued(firstLen, client.write(h, 0, data0)).then(() => run.addBytes(firstLen)));
    }
    for (let pos = firstLen; pos < size && !pending.failed;) {
      // Larger files: the slot is taken before the chunk is read, so memory stays within the window.
      const len = Math.min(chunkSize, size - pos);
      const w = run.acquire(len, true);
      if (w) await w;
      let data: Buffer;
      try {
        data = await readAt(fd, src, size, pos, len, pos + len === size);
        run.checkStopped();
      } catch (err) {
        run.window.release(len);
        throw err;
      }
      const offset = pos;
      pending.add(run.issued(len, client.write(h, offset, data)).then(() => run.addBytes(len)));
      pos += len;
    }
    if (ctx.preserve) {
      const a = preservedAttrs(statAttrs(st));
      if (Object.keys(a).length > 0) pending.add(run.send(0, () => client.fsetstat(h, a), true));
    }
    if (ctx.fsync && client.supports('fsync')) pending.add(run.send(0, () => client.fsync(h), true));
    handle = undefined;
    const closing = run.closeHandle(h);
    closing.catch(() => {});
    await pending.all();
    await closing;
    run.result.files++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  } finally {
    if (handle) {
      // Not closed yet (a local read failed, or the run stopped): requests already sent go first.
      await pending.all().catch(() => {});
      await closeRemote(client, handle, run.signal).catch(() => {});
    } else await pending.all().catch(() => {});
    if (fd >= 0) await closeFd(fd).catch(() => {});
  }
}

/** One file through the client's own put() (atomic / resume): the per-file protocol of those modes. */
function putOneFile(ctx: PutContext, dir: TreeDir, rel: string, src: string, dst: string): Promise<void> {
  return transferOneFile(ctx, dir, rel, async (opts) => {
    const r = await put(ctx.client, src, dst, opts);
    ctx.run.noteSize(r.size);
    return r;
  });
}

/** A symbolic link recreated as a link (its target unchanged). An existing link of that name is replaced. */
async function copyLink(ctx: PutContext, dir: TreeDir, rel: string, src: string, dst: string): Promise<void> {
  const { run, client } = ctx;
  try {
    if (!(await run.untilStopped(dir.ready, false))) return;
    run.checkStopped();
    const target = await readlink(src);
    try {
      await run.send(0, () => client.symlink(target, dst));
    } catch (err) {
      if (err instanceof TreeStopped || isSessionFailure(err)) throw err;
      const existing = await run.send(0, () => client.lstat(dst)).catch(() => undefined);
      if (!existing || !isSymlink(existing)) throw err;
      await run.send(0, () => client.remove(dst));
      await run.send(0, () => client.symlink(target, dst));
    }
    run.result.symlinks++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  }
}
