import { realpath, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { OpenFlags as F, SftpError, StatusCode, type Attrs } from '../../../protocol/index.js';
import type { TransferHost } from '../../core/remote.js';
import { resolveRemoteTarget, type ResolvedTarget } from './atomic-target.js';
import { sizeMismatch, verifyCopy, VerifyError } from './atomic-verify.js';
import { atomicTempName, resumePartialMatcher, resumePartialName, type SourceIdentity } from './partial-names.js';
import { forgetTemp, markOrphan, startTemp, sweepOrphans } from './partial-orphans.js';
import {
  Checkpointer,
  defaultStateDir,
  readCheckpoint,
  uploadCheckpointPath,
  type CheckpointKey,
} from './resume-checkpoint.js';
import { ContiguousTracker, planResume, type RangeReader } from './resume-plan.js';
import { localReader, bufferReader, verifiedPrefix } from './resume-verify.js';
import { abortGraceOf, closeHandle, untilAborted } from '../../core/close-handle.js';
import { resolveUpload, type TransferOptions, type TransferResult } from '../transfer-options.js';
import { uploadWith, withLocalSource, type UploadHooks, type UploadSourceInfo, type UploadTarget } from '../upload.js';
import { verifySizes, writeModeOf } from './write-mode.js';
import { BufferSource } from '../../engine/write-chunks.js';
import { withVerifyReadHandle } from './verify-read-handle.js';

/**
 * Uploads with `atomic`, `resume` and/or `verify` (docs/design.md, "Atomic transfers" and "Resume"):
 *
 * - atomic: write `.NAME.TAG.part` (CREAT|EXCL) next to the destination, check its size (FSTAT),
 *   verify if asked, fsync/preserve if asked, CLOSE (checked), then rename it onto the destination
 *   (posix-rename@openssh.com when advertised; else RENAME, which fails when the destination exists
 *   unless `allowNonAtomicReplace`). On failure the temporary file is removed; when the connection is
 *   gone, it is recorded locally and removed by the next atomic upload to the same destination.
 * - resume: the same, but into `.NAME.HASH.resume` (HASH from destination and source identity), kept
 *   on failure; the next attempt verifies its bytes and continues from the last verified offset.
 * - verify alone: the destination is written in place (opened READ|WRITE) and checked before CLOSE.
 */

/** What an upload reads from. */
export interface AtomicSource {
  info: UploadSourceInfo;
  /** Range reads of the source, for verification. */
  reader: RangeReader;
  /** Needed for resume. */
  identity?: SourceIdentity;
}

/**
 * Whether a failed OPEN surely created nothing: the server answered it with a STATUS, or it was never
 * sent (the session was closed). A lost connection or an abort leaves it unknown.
 */
function answeredByServer(err: unknown): boolean {
  return err instanceof SftpError && err.status !== StatusCode.CONNECTION_LOST;
}

function isNotFound(err: unknown): boolean {
  return (
    (err as { code?: string }).code === 'ENOENT' || (err as { status?: number }).status === StatusCode.NO_SUCH_FILE
  );
}

/**
 * Rename `from` onto `to`. Returns whether it was done atomically. With posix-rename the replace is
 * atomic; with plain RENAME a failure where `to` exists is reported clearly (EEXIST), or, when
 * `allowNonAtomic`, done as REMOVE + RENAME.
 */
export async function commitRename(
  client: TransferHost,
  from: string,
  to: string,
  allowNonAtomic: boolean,
  signal?: AbortSignal,
): Promise<'atomic' | 'non-atomic'> {
  if (client.supports('posixRename')) {
    await client.posixRename(from, to, { signal });
    return 'atomic';
  }
  try {
    await client.rename(from, to, { signal });
    return 'atomic';
  } catch (err) {
    let exists: boolean;
    try {
      await client.lstat(to, { signal });
      exists = true;
    } catch (e) {
      if (!isNotFound(e)) throw err;
      exists = false;
    }
    if (!exists) throw err;
    if (!allowNonAtomic) {
      throw new SftpError({
        status: StatusCode.FAILURE,
        code: 'EEXIST',
        message:
          'EEXIST: the destination exists and the server cannot replace it atomically (no posix-rename@openssh.com); ' +
          'set allowNonAtomicReplace to REMOVE it and RENAME',
        op: 'rename',
        path: to,
        cause: err,
      });
    }
    await client.remove(to, { signal });
    await client.rename(from, to, { signal });
    return 'non-atomic';
  }
}

/** Upload `src` to `remotePath` with the atomic/resume/verify options. */
export async function uploadAtomic(
  client: TransferHost,
  src: AtomicSource,
  remotePath: string,
  opts: TransferOptions,
): Promise<TransferResult> {
  const mode = writeModeOf(opts);
  if (mode === 'resume' && !src.identity) {
    throw new TypeError('resume needs a source with an identity (a local file): not available for this upload');
  }
  const t = resolveUpload(client, opts);
  const stateDir = opts.stateDir ?? defaultStateDir();
  const { window, sample, checkpointEvery } = verifySizes(opts, t);
  const S = src.info.size;
  const signal = t.signal;

  let resolved = undefined as ResolvedTarget | undefined; // (cast: assigned in a hook)
  let writePath: string | undefined; // the file the handle writes (temporary, partial or destination)
  let handle: Buffer | undefined;
  let checkpointer: Checkpointer | undefined;
  let tracker: ContiguousTracker | undefined;
  let resumedFrom = 0;
  let replaced = false as 'atomic' | 'non-atomic' | false; // (cast: assigned in a hook)
  let committed = false;

  const openResumePartial = async (target: ResolvedTarget, createAttrs: Attrs): Promise<UploadTarget> => {
    const identity = src.identity!;
    const name = resumePartialName(target.base, target.path, identity);
    const partial = posix.join(target.dir, name);
    writePath = partial;
    await removeStalePartials(client, target, name, stateDir, signal);
    handle = await client.open(partial, F.READ | F.WRITE | F.CREAT, createAttrs, { signal });
    const key: CheckpointKey = { partial, destination: target.path, source: identity };
    const file = uploadCheckpointPath(stateDir, key);
    const P = (await client.fstat(handle, { signal })).size ?? 0;
    const C = await readCheckpoint(file, key);
    const plan = planResume({ sourceSize: S, partialSize: P, checkpoint: C, window, sample });
    let R = 0;
    if (plan.kind === 'verify') {
      // Read back through a read-only handle of its own (or the write handle: see verify-read-handle.ts);
      // a read that fails or ends early throws and leaves the partial as it is (only bytes seen to
      // differ shorten it).
      R = await withVerifyReadHandle(client, partial, handle, P, signal, (vh, remote) =>
        verifiedPrefix({
          client,
          handle: vh,
          remote,
          local: src.reader,
          source: src.reader,
          partial: remote,
          from: plan.verifyFrom,
          to: plan.verifyTo,
          chunk: t.chunkSize,
          sample,
          signal,
        }),
      );
    }
    if (P > R) await client.fsetstat(handle, { size: R }, { signal });
    resumedFrom = R;
    tracker = new ContiguousTracker(R);
    checkpointer = new Checkpointer(file, key, R, checkpointEvery);
    return { handle, startOffset: R };
  };

  const hooks: UploadHooks = {
    async openTarget(path, createAttrs) {
      resolved = await resolveRemoteTarget(client, path, signal);
      const target = resolved;
      if (mode === 'direct') {
        writePath = target.path;
        handle = await client.open(target.path, 'w+', createAttrs, { signal });
        return { handle, startOffset: 0 };
      }
      await sweepOrphans(stateDir, target.path, (p) => client.remove(p, { signal })).catch(() => 0);
      try {
        if (mode === 'resume') return await openResumePartial(target, createAttrs);
        const temp = posix.join(target.dir, atomicTempName(target.base));
        // Registered before the OPEN: if the connection or this process dies from here on, the file
        // is recorded and the next atomic upload to this destination removes it (partial-orphans.ts).
        startTemp(stateDir, target.path, temp);
        try {
          handle = await client.open(temp, 'wx+', createAttrs, { signal });
        } catch (err) {
          // A STATUS reply means the server did not create it; otherwise (connection lost, aborted) it may exist.
          if (answeredByServer(err)) await forgetTemp(stateDir, target.path, temp).catch(() => {});
          else await markOrphan(stateDir, target.path, temp).catch(() => {});
          throw err;
        }
        writePath = temp; // only now is it ours to remove
        return { handle, startOffset: 0 };
      } catch (err) {
        // uploadWith closes only what openTarget returned: close what was opened here.
        if (handle) await closeHandle(client, handle, signal).catch(() => {});
        handle = undefined;
        throw err;
      }
    },
    onWritten(offset, length) {
      if (tracker && checkpointer) checkpointer.update(tracker.ack(offset, length));
    },
    async beforeClose(target) {
      const size = (await client.fstat(target.handle, { signal })).size;
      if (size !== S) throw sizeMismatch(writePath, S, size);
      if (mode !== 'direct' && !opts.preserve && resolved?.existing?.permissions !== undefined) {
        // The rename replaces the file: keep the mode the destination had (as an in-place overwrite would).
        await client.fsetstat(target.handle, { permissions: resolved.existing.permissions & 0o7777 }, { signal });
      }
      const verify = opts.verify;
      if (verify) {
        // Read back through a read-only handle of its own (some servers cannot read a write handle), or
        // the write handle where the name does not show the file yet (see verify-read-handle.ts).
        await withVerifyReadHandle(client, writePath!, target.handle, S, signal, (vh, remote) =>
          verifyCopy({
            mode: verify,
            client,
            handle: vh,
            remote,
            local: src.reader,
            size: S,
            window,
            chunk: t.chunkSize,
            path: writePath,
            signal,
          }),
        );
      }
    },
    async commit() {
      if (mode === 'direct') return;
      replaced = await commitRename(
        client,
        writePath!,
        resolved!.path,
        !!opts.allowNonAtomicReplace || !opts.atomic,
        signal,
      );
      committed = true;
      if (mode === 'atomic') await forgetTemp(stateDir, resolved!.path, writePath!).catch(() => {});
      await checkpointer?.remove();
    },
    async abort(_target, err) {
      if (mode === 'resume') {
        if (err instanceof VerifyError && writePath) {
          // The partial is not what the source is, though it looked so: never continue it again.
          await untilAborted(client.remove(writePath), signal, abortGraceOf(client)).catch(() => {});
          await checkpointer?.remove();
        } else await checkpointer?.flush();
        return;
      }
      if (mode !== 'atomic' || !writePath || committed) return;
      try {
        // Not waited for long past the caller's cancellation: unconfirmed, it is recorded as an orphan below.
        await untilAborted(client.remove(writePath), signal, abortGraceOf(client));
      } catch (err) {
        if (!isNotFound(err)) await markOrphan(stateDir, resolved!.path, writePath).catch(() => {});
        else await forgetTemp(stateDir, resolved!.path, writePath).catch(() => {});
        return;
      }
      await forgetTemp(stateDir, resolved!.path, writePath).catch(() => {});
    },
  };

  const r = await uploadWith(client, src.info, remotePath, opts, hooks);
  const existed = resolved?.existing !== undefined;
  return {
    ...r,
    atomic: mode !== 'direct' && replaced === 'atomic',
    replaced: existed && mode !== 'direct' ? replaced : false,
    resumedFrom,
    verified: opts.verify || false,
  };
}

/** Remove resume partials of the same destination made for another source identity (and their checkpoints). */
async function removeStalePartials(
  client: TransferHost,
  target: ResolvedTarget,
  keep: string,
  stateDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const matcher = resumePartialMatcher(target.base);
  if (!matcher) return;
  const stale: string[] = [];
  try {
    for await (const e of client.scandir(target.dir, { signal })) {
      if (e.filename !== keep && matcher.test(e.filename)) stale.push(posix.join(target.dir, e.filename));
    }
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') throw err;
    return; // an unreadable directory: nothing to clean
  }
  for (const p of stale) {
    await client.remove(p, { signal }).catch(() => {});
    await rm(uploadCheckpointPath(stateDir, { destination: target.path, partial: p }), { force: true }).catch(() => {});
  }
}

/** put(localPath, remotePath, { atomic / resume / verify }). */
export async function atomicPut(
  client: TransferHost,
  localPath: string,
  remotePath: string,
  opts: TransferOptions,
): Promise<TransferResult> {
  return withLocalSource(client, localPath, opts, async (info, fh, st) =>
    uploadAtomic(
      client,
      {
        info,
        reader: localReader(fh),
        identity: { path: await realpath(localPath), size: st.size, mtime: Math.floor(st.mtimeMs) },
      },
      remotePath,
      opts,
    ),
  );
}

/** writeFile(remotePath, data, { atomic / verify }) (resume needs a source identity: not for Buffers). */
export async function atomicWriteFile(
  client: TransferHost,
  remotePath: string,
  data: Buffer,
  opts: TransferOptions,
): Promise<TransferResult> {
  return uploadAtomic(
    client,
    { info: { source: new BufferSource(data), size: data.length, attrs: {} }, reader: bufferReader(data) },
    remotePath,
    opts,
  );
}
