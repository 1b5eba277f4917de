import { isDirectory, isSymlink, type Attrs } from '../../protocol/index.js';
import type { DirEntry, TransferHost } from '../core/remote.js';
import { TreeDir } from './dirs.js';
import { badNameError, childRel, isPlainName, remoteJoin } from './names.js';
import { TreeRun } from './run.js';
import { RemoteWalk } from './walk.js';
import { TreeError, type RmtreeOptions, type TreeResult } from './types.js';

/**
 * rmtree(client, remotePath): remove a remote directory and everything in it (or a single file or
 * link). Directories are listed by a RemoteWalk (walk.ts: each as soon as its name arrives, READDIRs
 * pipelined), and every file and link is REMOVEd as soon as its entry arrives (pipelined through the shared request window, not after the listing
 * ends); each directory is RMDIRed once its listing has ended and all its entries are gone, so the
 * tree goes away bottom-up. Symbolic links are removed, never followed.
 *
 * Resolves with the counts when everything is gone. When something could not be removed it goes on
 * with the rest (unless `stopOnError`), then rejects with a TreeError listing what failed (its
 * directories are left in place). An aborted `signal` stops sending and rejects with an AbortError.
 */
export async function rmtree(client: TransferHost, remotePath: string, opts: RmtreeOptions = {}): Promise<TreeResult> {
  const run = new TreeRun(client, opts, 'rmtree', true);
  if (run.stopped) return run.finish();
  const walk: RemoteWalk = new RemoteWalk(run, {
    visit: (dir, e) => visit(run, dir, e, walk),
    listingFailed: (dir) => {
      dir.childFailed = true;
    },
  });
  // The top's LSTAT and its OPENDIR go out together; a top that is not a directory drops the listing.
  walk.openEarly(remotePath);
  let top: Attrs;
  try {
    top = await client.lstat(remotePath);
  } catch (err) {
    await walk.dropEarly();
    throw err;
  }
  if (run.stopped || !isDirectory(top)) await walk.dropEarly();
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
  walk.add(root);
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

async function visit(run: TreeRun, dir: TreeDir, e: DirEntry, walk: RemoteWalk): Promise<void> {
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
    walk.add(child);
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
