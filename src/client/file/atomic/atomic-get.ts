import { constants as fsc } from 'node:fs';
import { open as openLocal, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { TransferHost } from '../../core/remote.js';
import { verifySizes, writeModeOf } from './write-mode.js';
import { resolveLocalEntry, resolveLocalTarget, type ResolvedTarget } from './atomic-target.js';
import { sizeMismatch, verifyCopy, VerifyError } from './atomic-verify.js';
import { trackLocalTemp, untrackLocalTemp } from './local-temps.js';
import { atomicTempName, resumePartialMatcher, resumePartialName } from './partial-names.js';
import { Checkpointer, downloadCheckpointPath, readCheckpoint, type CheckpointKey } from './resume-checkpoint.js';
import { planResume } from './resume-plan.js';
import { closeHandle } from '../../core/close-handle.js';
import { localReader, remoteReader, verifiedPrefix } from './resume-verify.js';
import { downloadHandle, fileSink, finishLocalFile, openForRead, type DownloadSink } from '../download.js';
import { piecesLength } from '../../../protocol/framing-pieces.js';
import { resolveDownload, type TransferOptions, type TransferResult } from '../transfer-options.js';
import { localError } from '../../core/local-error.js';

/**
 * Downloads with `atomic`, `resume` and/or `verify`:
 * - atomic: into `.NAME.TAG.part` (exclusive create) in the local destination's folder, renamed onto
 *   the destination when whole; removed on failure.
 * - resume: into `.NAME.HASH.resume` (HASH from destination and the remote file's path, size and mtime)
 *   with a sidecar checkpoint `<partial>.ckpt`; both kept on failure. The next attempt verifies the
 *   bytes before the resume point against the remote file (check-file-handle where offered, else a
 *   tail window read back) and continues from the verified offset.
 * - verify alone: the destination is written in place and checked before it is closed.
 *
 * Temporary files and partials are opened with O_NOFOLLOW (and created with O_EXCL): a symlink planted
 * under their name is never written through. The commit is rename(2), which replaces the destination
 * entry. With `noFollow` (tree downloads) a destination that is a symlink is an error (ELOOP) instead
 * of being followed.
 */
export async function atomicGet(
  client: TransferHost,
  remotePath: string,
  localPath: string,
  opts: TransferOptions,
  policy: { noFollow?: boolean } = {},
): Promise<TransferResult> {
  const mode = writeModeOf(opts);
  const t = resolveDownload(client, opts);
  const signal = t.signal;
  const { window, sample, checkpointEvery } = verifySizes(opts, t);
  const { handle, attrs } = await openForRead(client, remotePath, signal);
  let remoteOpen = true; // see get(): never ask pathOf, handle strings are reused
  let fh: FileHandle | undefined;
  let writePath: string | undefined;
  let checkpointer: Checkpointer | undefined;
  let committed = false;
  let target: ResolvedTarget | undefined;
  try {
    const S = attrs.size;
    if (mode === 'resume' && S === undefined) {
      throw localError(
        'ERR_SFTP_NO_SIZE',
        'cannot resume: the server does not report the size of the source',
        remotePath,
      );
    }
    target = policy.noFollow ? await resolveLocalEntry(localPath) : await resolveLocalTarget(localPath);
    const createMode = attrs.permissions !== undefined ? attrs.permissions & 0o777 : 0o666;
    let R = 0;
    if (mode === 'direct') {
      fh = await openLocal(
        target.path,
        policy.noFollow ? fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW : 'w+',
        createMode,
      );
      writePath = target.path;
    } else if (mode === 'atomic') {
      const temp = join(target.dir, atomicTempName(target.base));
      fh = await openLocal(temp, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, createMode);
      writePath = temp;
      trackLocalTemp(temp); // removed even if the process exits before this call settles
    } else {
      const identity = { path: remotePath, size: S!, mtime: attrs.mtime ?? 0 };
      const name = resumePartialName(target.base, target.path, identity);
      const partial = join(target.dir, name);
      await removeStaleLocalPartials(target, name);
      fh = await openPartial(partial, createMode);
      writePath = partial;
      const key: CheckpointKey = { partial, destination: target.path, source: identity };
      const sidecar = downloadCheckpointPath(partial);
      const P = (await fh.stat()).size;
      const plan = planResume({
        sourceSize: S!,
        partialSize: P,
        checkpoint: await readCheckpoint(sidecar, key),
        window,
        sample,
      });
      if (plan.kind === 'verify') {
        const remote = remoteReader(client, handle, signal);
        const local = localReader(fh);
        R = await verifiedPrefix({
          client,
          handle,
          remote,
          local,
          source: remote,
          partial: local,
          from: plan.verifyFrom,
          to: plan.verifyTo,
          chunk: t.chunkSize,
          sample,
          signal,
        });
      }
      if (P > R) await fh.truncate(R);
      checkpointer = new Checkpointer(sidecar, key, R, checkpointEvery);
    }
    const file = fileSink(fh);
    const ck = checkpointer;
    const sink: DownloadSink = ck
      ? {
          async write(offset, data) {
            await file.write(offset, data);
            ck.update(offset + data.length); // the sink receives bytes in order: this is contiguous
          },
          async writev(offset, data) {
            await file.writev!(offset, data);
            ck.update(offset + piecesLength(data));
          },
        }
      : file;
    const bytes = await downloadHandle(client, handle, sink, {
      ...t,
      start: R,
      expectSize: S,
      onProgress: opts.onProgress,
      path: remotePath,
    });
    const expected = S ?? R + bytes;
    const size = (await fh.stat()).size;
    if (size !== expected) throw sizeMismatch(writePath, expected, size);
    if (mode !== 'direct' && !opts.preserve && target.existing?.permissions !== undefined) {
      await fh.chmod(target.existing.permissions & 0o7777); // the rename replaces the file: keep its mode
    }
    if (opts.verify) {
      await verifyCopy({
        mode: opts.verify,
        client,
        handle,
        remote: remoteReader(client, handle, signal),
        local: localReader(fh),
        size: expected,
        window,
        chunk: t.chunkSize,
        path: writePath,
        signal,
      });
    }
    const preserved = await finishLocalFile(fh, attrs, opts);
    fh = undefined;
    // Close the remote handle before the commit: a get that rejects never changed the destination.
    remoteOpen = false;
    await closeHandle(client, handle, signal);
    if (mode !== 'direct') {
      await rename(writePath, target.path);
      committed = true;
      if (mode === 'atomic') untrackLocalTemp(writePath);
      if (opts.fsync) await syncDir(target.dir);
      await checkpointer?.remove();
    }
    return {
      bytes,
      size: expected,
      chunkSize: t.chunkSize,
      requests: t.requests,
      fsynced: !!opts.fsync,
      preserved,
      atomic: mode !== 'direct',
      replaced: mode !== 'direct' && target.existing !== undefined ? 'atomic' : false,
      resumedFrom: R,
      verified: opts.verify || false,
    };
  } catch (err) {
    if (fh) await fh.close().catch(() => {});
    if (mode === 'atomic' && writePath && !committed) {
      await rm(writePath, { force: true }).catch(() => {});
      untrackLocalTemp(writePath);
    }
    if (mode === 'resume') {
      if (err instanceof VerifyError && writePath) {
        // The partial is not what the source is, though it looked so: never continue it again.
        await rm(writePath, { force: true }).catch(() => {});
        await checkpointer?.remove();
      } else await checkpointer?.flush();
    }
    throw err;
  } finally {
    if (remoteOpen) await closeHandle(client, handle, signal).catch(() => {});
  }
}

/** Make a rename durable: fsync the folder (best effort: not every platform allows it). */
async function syncDir(dir: string): Promise<void> {
  let d: FileHandle | undefined;
  try {
    d = await openLocal(dir, 'r');
    await d.sync();
  } catch {
    // ignored
  } finally {
    await d?.close().catch(() => {});
  }
}

/** Remove local resume partials (and sidecars) of the same destination made for another source identity. */
async function removeStaleLocalPartials(target: ResolvedTarget, keep: string): Promise<void> {
  const matcher = resumePartialMatcher(target.base);
  if (!matcher) return;
  let names: string[];
  try {
    names = await readdir(target.dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n === keep || !matcher.test(n)) continue;
    const p = join(target.dir, n);
    await rm(p, { force: true }).catch(() => {});
    await rm(downloadCheckpointPath(p), { force: true }).catch(() => {});
  }
}

/**
 * Open (or create) a local resume partial without following a symlink at its name: created with
 * O_EXCL, or reopened with O_NOFOLLOW and checked to be a regular file.
 */
async function openPartial(partial: string, createMode: number): Promise<FileHandle> {
  try {
    return await openLocal(partial, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, createMode);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  let fh: FileHandle;
  try {
    fh = await openLocal(partial, fsc.O_RDWR | fsc.O_NOFOLLOW);
  } catch (err) {
    if ((err as { code?: string }).code === 'ELOOP') throw notOurPartial(partial, 'a symbolic link');
    throw err;
  }
  if (!(await fh.stat()).isFile()) {
    await fh.close().catch(() => {});
    throw notOurPartial(partial, 'not a regular file');
  }
  return fh;
}

function notOurPartial(partial: string, what: string): Error {
  return localError('ELOOP', `the resume partial is ${what}: not written through (remove it)`, partial);
}
