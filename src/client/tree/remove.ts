import { isDirectory, isSymlink } from '../../protocol/index.js';
import type { DirEntry, TransferHost } from '../core/remote.js';
import { DirQueue, TreeDir } from './dirs.js';
import { badNameError, childRel, isPlainName, remoteJoin } from './names.js';
import { spawnListers, TreeRun } from './run.js';
import { TreeError, type RmtreeOptions, type TreeResult } from './types.js';

/**
 * rmtree(client, remotePath): remove a remote directory and everything in it (or a single file or
 * link). Directories are listed with scandir, a few at once, and every file and link is REMOVEd as
 * soon as its entry arrives (pipelined through the shared request window, not after the listing
 * ends); each directory is RMDIRed once its listing has ended and all its entries are gone, so the
 * tree goes away bottom-up. Symbolic links are removed, never followed.
 *
 * Resolves with the counts when everything is gone. When something could not be removed it goes on
 * with the rest (unless `stopOnError`), then rejects with a TreeError listing what failed (its
 * directories are left in place). An aborted `signal` stops sending and rejects with an AbortError.
 */
export async function rmtree(client: TransferHost, remotePath: string, opts: RmtreeOptions = {}): Promise<TreeResult> {
  const run = new TreeRun(client, opts, 'rmtree', true);
  const top = await client.lstat(remotePath);
  if (run.stopped) return run.finish();
  if (!isDirectory(top)) {
    await client.remove(remotePath);
    if (isSymlink(top)) run.result.symlinks++;
    else run.result.files++;
    run.progress();
    return run.finish();
  }
  const root = new TreeDir(undefined, '', remotePath, '', top, (d) => removeDir(run, d));
  root.readyState = true;
  const queue = new DirQueue();
  queue.push(root);
  run.onStop(() => queue.close());
  spawnListers(run, () => lister(run, queue));
  const result = await run.finish();
  if (result.errors.length > 0) {
    const n = result.errors.length;
    const first = result.errors[0]!.error;
    throw new TreeError(
      `rmtree: ${n} ${n === 1 ? 'entry' : 'entries'} could not be removed: ${first instanceof Error ? first.message : String(first)}`,
      result.errors,
      result,
      { cause: first },
    );
  }
  return result;
}

async function lister(run: TreeRun, queue: DirQueue): Promise<void> {
  for (;;) {
    const dir = await queue.next();
    if (!dir) return;
    try {
      for await (const e of run.client.scandir(dir.src, { signal: run.signal })) {
        if (run.stopped) break;
        if (e.filename === '.' || e.filename === '..') continue;
        await visit(run, dir, e, queue);
      }
    } catch (err) {
      dir.childFailed = true;
      run.fail(dir.rel, err);
    } finally {
      dir.release();
      queue.done();
    }
  }
}

async function visit(run: TreeRun, dir: TreeDir, e: DirEntry, queue: DirQueue): Promise<void> {
  const { client } = run;
  const rel = childRel(dir.rel, e.filename);
  if (!isPlainName(e.filename)) {
    dir.childFailed = true;
    run.fail(rel, badNameError(dir.src, e.filename));
    return;
  }
  const path = remoteJoin(dir.src, e.filename);
  let attrs = e.attrs;
  if (attrs.permissions === undefined) {
    try {
      attrs = await run.send(0, () => client.lstat(path));
    } catch (err) {
      dir.childFailed = true;
      run.fail(rel, err);
      return;
    }
  }
  if (isDirectory(attrs)) {
    const child = new TreeDir(dir, rel, path, '', attrs, (d) => removeDir(run, d));
    child.readyState = true;
    dir.hold();
    queue.push(child);
    return;
  }
  // A file, link or anything else: REMOVE it now. Waiting for a window slot is the listing's backpressure.
  const w = run.acquire(0);
  if (w) await w;
  const link = isSymlink(attrs);
  if (!link) run.noteFile(0);
  dir.hold();
  run.spawn(async () => {
    try {
      await run.issued(0, client.remove(path));
      if (link) run.result.symlinks++;
      else run.result.files++;
      run.progress();
    } catch (err) {
      dir.childFailed = true;
      run.fail(rel, err);
    } finally {
      dir.release();
    }
  });
}

/** Everything in `dir` is gone (or failed): RMDIR it, unless something in it could not be removed. */
function removeDir(run: TreeRun, dir: TreeDir): void {
  run.spawn(async () => {
    try {
      if (run.stopped || dir.childFailed) {
        if (dir.parent) dir.parent.childFailed = true;
        return;
      }
      await run.send(0, () => run.client.rmdir(dir.src));
      run.result.directories++;
      run.progress();
    } catch (err) {
      if (dir.parent) dir.parent.childFailed = true;
      run.fail(dir.rel, err);
    } finally {
      dir.parent?.release();
    }
  });
}
