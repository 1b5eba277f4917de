import type { TransferOptions, TransferResult } from '../file/transfer.js';
import type { TreeRun } from './run.js';
import { TREE_FILE_MAX_REQUESTS } from '../defaults.js';

/** What a tree run passes on to each file it sends through the client's own put()/get(). */
export interface OneFileSettings {
  run: TreeRun;
  perFile: { atomic?: boolean; resume?: boolean } | undefined;
  preserve: boolean;
  fsync: boolean;
  chunkSize: number;
}

/**
 * One file of a tree through the client's own put() or get() — the atomic and resume modes, whose
 * per-file protocol (temporary names, verification, commit) lives there. The file gets its share of
 * the tree's window, stops with the run, and its bytes count towards the tree's progress.
 */
export async function transferOneFile(
  ctx: OneFileSettings,
  dir: { ready: Promise<boolean> },
  rel: string,
  transfer: (opts: TransferOptions) => Promise<TransferResult>,
): Promise<void> {
  const { run } = ctx;
  try {
    if (!(await run.untilStopped(dir.ready, false))) return;
    run.checkStopped();
    const ac = new AbortController();
    const forget = run.onStop(() => ac.abort());
    try {
      let done = 0;
      await transfer({
        ...ctx.perFile,
        preserve: ctx.preserve,
        fsync: ctx.fsync,
        chunkSize: ctx.chunkSize,
        requests: Math.max(1, Math.min(TREE_FILE_MAX_REQUESTS, Math.floor(run.window.maxCount / run.handles.maxCount))),
        signal: ac.signal,
        onProgress: (p) => {
          run.addBytes(p.bytes - done);
          done = p.bytes;
        },
      });
    } finally {
      forget();
    }
    run.result.files++;
    run.progress();
  } catch (err) {
    run.fail(rel, err);
  }
}
