import { OpenFlags, PacketType as T, StatusCode } from '../../protocol/constants.js';
import { assertOpenableWithSlash, endsInSlash } from '../fs/trailing-slash.js';
import type { Attrs } from '../../protocol/attrs.js';
import type { OpenOptions, SetStats } from '../fs/file-system.js';
import type { FileHandleEntry } from '../handle-table.js';
import type { ReadRequest, WriteRequest } from '../io-batch.js';
import { dataFrame, frameData, okStatusesWire, type Reply } from '../wire-reply.js';
import type { FramePool } from '../frame-pool.js';
import { StatusError, badHandle } from '../status-error.js';
import { attrsFromStats, attrsReply, okStatus, statusReply, type Handler, type SessionContext } from '../context.js';
import { countRead, countWritten } from '../transfer-report.js';
import { SplitWrite, writeLength, writePieces } from '../split-write.js';

export function openOptions(pflags: number, attrs: Attrs): OpenOptions {
  const write = (pflags & OpenFlags.WRITE) !== 0;
  const read = (pflags & OpenFlags.READ) !== 0 || !write;
  return {
    read,
    write,
    append: (pflags & OpenFlags.APPEND) !== 0,
    create: (pflags & OpenFlags.CREAT) !== 0,
    truncate: (pflags & OpenFlags.TRUNC) !== 0,
    exclusive: (pflags & OpenFlags.EXCL) !== 0,
    mode: attrs.permissions !== undefined ? attrs.permissions & 0o7777 : undefined,
  };
}

export function setStatsFromAttrs(a: Attrs): SetStats {
  return { size: a.size, mode: a.permissions, uid: a.uid, gid: a.gid, atime: a.atime, mtime: a.mtime };
}

const WRITE_OPEN = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC | OpenFlags.APPEND;

/**
 * An OPEN with these pflags opens for writing: WRITE, or CREAT, TRUNC or APPEND, which make no sense
 * to open(2) without it either (OpenSSH treats them the same way).
 */
export const opensForWriting = (pflags: number): boolean => (pflags & WRITE_OPEN) !== 0;

export const open: Handler<typeof T.OPEN> = async (req, ctx) => {
  ctx.handles.assertRoom();
  const path = ctx.path(req.path);
  const opts = openOptions(req.pflags, req.attrs);
  opts.write = opensForWriting(req.pflags);
  if (endsInSlash(req.path)) await assertOpenableWithSlash(ctx.fs, path, opts.create);
  const upload = await ctx.uploads.begin(path, opts);
  const file = upload ? upload.file : await ctx.fs.open(path, opts);
  const entry: FileHandleEntry = { kind: 'file', path, file, readable: opts.read, writable: opts.write, upload };
  try {
    return { type: T.HANDLE, id: req.id, handle: ctx.handles.add(entry) };
  } catch (err) {
    await closeFileEntry(entry, ctx, false).catch(() => undefined);
    throw err;
  }
};

/**
 * Close a file handle; an atomic upload commits when `commit` is true and nothing failed,
 * otherwise it is abandoned (removed, or kept as a partial in atomic-resume mode).
 */
export async function closeFileEntry(entry: FileHandleEntry, ctx: SessionContext, commit: boolean): Promise<void> {
  const u = entry.upload;
  if (!u) return entry.file.close();
  let closeError: unknown;
  try {
    await entry.file.close();
  } catch (err) {
    closeError = err;
  }
  if (commit && !u.failed && !u.discarded && closeError === undefined) {
    try {
      await ctx.uploads.commit(u);
      return;
    } catch (err) {
      await ctx.uploads.abandon(u);
      throw err;
    }
  }
  await ctx.uploads.abandon(u);
  if (closeError !== undefined) throw closeError;
  if (commit && u.failed)
    throw new StatusError(StatusCode.FAILURE, 'EIO: a write to this file failed; the upload was not committed');
}

export const close: Handler<typeof T.CLOSE> = async (req, ctx) => {
  const entry = ctx.handles.take(req.handle);
  if (!entry) throw badHandle();
  if (entry.kind === 'dir') await entry.dir.close();
  else {
    await closeFileEntry(entry, ctx, true);
    ctx.onFileClosed?.(entry);
  }
  return okStatus(req.id);
};

/** The file entry of `handle` when it was opened for reading. */
export function readableEntry(handle: Buffer, ctx: SessionContext): FileHandleEntry {
  const entry = ctx.handles.file(handle);
  if (!entry.readable) throw new StatusError(StatusCode.PERMISSION_DENIED, 'EBADF: handle not open for reading');
  return entry;
}

export const read: Handler<typeof T.READ> = async (req, ctx) => {
  const entry = readableEntry(req.handle, ctx);
  const length = Math.min(req.length, ctx.limits.maxRead);
  const data = length === 0 ? Buffer.alloc(0) : await entry.file.read(req.offset, length);
  if (data.length === 0 && length > 0) return statusReply(req.id, StatusCode.EOF, 'End of file');
  countRead(entry, data.length);
  return { type: T.DATA, id: req.id, data };
};

function writableEntry(handle: Buffer, ctx: SessionContext): FileHandleEntry {
  const entry = ctx.handles.file(handle);
  if (!entry.writable) throw new StatusError(StatusCode.PERMISSION_DENIED, 'EBADF: handle not open for writing');
  if (entry.upload?.failed) throw new StatusError(StatusCode.FAILURE, 'EIO: an earlier write to this file failed');
  return entry;
}

/**
 * Write to an open file. For an atomic upload a failed write marks it failed (it can no longer
 * commit), and a successful one is recorded for the contiguous prefix.
 */
export async function writeToEntry(
  entry: FileHandleEntry,
  offset: number,
  data: Buffer,
  ctx: SessionContext,
): Promise<void> {
  if (entry.upload) await ctx.uploads.beforeGap(entry.upload, offset);
  try {
    await entry.file.write(offset, data);
  } catch (err) {
    if (entry.upload) entry.upload.failed = true;
    throw err;
  }
  entry.upload?.tracker.record(offset, data.length);
  countWritten(entry, data.length);
}

export const write: Handler<typeof T.WRITE> = async (req, ctx) => {
  await writeToEntry(writableEntry(req.handle, ctx), req.offset, req.data, ctx);
  return okStatus(req.id);
};

/** Answers one request on its own, errors already turned into STATUS replies. */
export type AnswerOne<R> = (req: R) => Promise<Reply>;

/**
 * Contiguous WRITEs on one handle (see IoBatch) as one vectored write, answered in order; a WRITE that
 * arrived split over several input chunks (SplitWrite) is written from those chunks, even alone. The
 * checks are those of `write` and hold for all of them alike (a failure of one is thrown for all).
 * When the file system has no writev, or the vectored write fails, each runs on its own through `one`,
 * in order, so that a failure is reported exactly as without batching (rewriting the same bytes at the
 * same offsets is harmless).
 */
export async function writeBatch(
  reqs: readonly WriteRequest[],
  ctx: SessionContext,
  one: AnswerOne<WriteRequest>,
): Promise<Reply[]> {
  const entry = writableEntry(reqs[0]!.handle, ctx);
  if ((reqs.length > 1 || reqs[0] instanceof SplitWrite) && entry.file.writev) {
    if (entry.upload) await ctx.uploads.beforeGap(entry.upload, reqs[0]!.offset);
    let ok = true;
    try {
      await entry.file.writev(reqs[0]!.offset, reqs.length === 1 ? writePieces(reqs[0]!) : reqs.flatMap(writePieces));
    } catch {
      ok = false;
    }
    if (ok) {
      for (const r of reqs) {
        const n = writeLength(r);
        entry.upload?.tracker.record(r.offset, n);
        countWritten(entry, n);
      }
      return [okStatusesWire(reqs.map((r) => r.id))];
    }
  }
  return inOrder(reqs, one);
}

/**
 * Contiguous READs on one handle (one or more) as one vectored read, answered in order: full buffers
 * as DATA, the one the end of file cut short as a shorter DATA, those past it as EOF. The file is read
 * straight into the DATA replies' wire buffers (see dataFrame).
 */
export async function readBatch(
  reqs: readonly ReadRequest[],
  ctx: SessionContext,
  one: AnswerOne<ReadRequest>,
  frames?: FramePool,
): Promise<Reply[]> {
  const entry = readableEntry(reqs[0]!.handle, ctx);
  if (!entry.file.readv) return inOrder(reqs, one);
  const alloc = frames && ((size: number): Buffer => frames.take(size));
  const bufs = reqs.map((r) => dataFrame(Math.min(r.length, ctx.limits.maxRead), alloc));
  let left = await entry.file.readv(
    reqs[0]!.offset,
    bufs.map((f) => f.body),
  );
  countRead(entry, left);
  return reqs.map((r, i): Reply => {
    const f = bufs[i]!;
    if (left === 0) {
      frames?.give(f.frame); // never filled nor handed on
      return statusReply(r.id, StatusCode.EOF, 'End of file');
    }
    const n = Math.min(left, f.body.length);
    left -= n;
    const reply = frameData(f.frame, r.id, n);
    if (frames) reply.frame = f.frame;
    return reply;
  });
}

async function inOrder<R>(reqs: readonly R[], one: AnswerOne<R>): Promise<Reply[]> {
  const out: Reply[] = [];
  for (const r of reqs) out.push(await one(r));
  return out;
}

export const fstat: Handler<typeof T.FSTAT> = async (req, ctx) => {
  const entry = ctx.handles.any(req.handle);
  const st = entry.kind === 'file' ? await entry.file.stat() : await ctx.fs.stat(entry.path);
  return attrsReply(req.id, attrsFromStats(st));
};

/**
 * An upload opened with APPEND in atomic-resume mode (OpenSSH's `reput`) whose size is then cut:
 * OpenSSH does that when a `reput` fails or is interrupted, to its own count of bytes acknowledged
 * (which 9.2 gets wrong: 0). It is an interrupted upload, not a request for a shorter file. The cut is
 * not applied (APPEND writes land one after another, so every byte written is a true prefix of the
 * source) and the upload is kept as the partial at CLOSE, never committed. Returns the size to apply.
 */
function interruptedAppend(entry: FileHandleEntry, size: number | undefined, ctx: SessionContext): number | undefined {
  const u = entry.upload;
  if (!u || size === undefined || ctx.uploads.mode !== 'atomic-resume' || !u.append) return size;
  if (size >= u.tracker.end) return size;
  u.discarded = true;
  return undefined;
}

export const fsetstat: Handler<typeof T.FSETSTAT> = async (req, ctx) => {
  const entry = ctx.handles.any(req.handle);
  const set = setStatsFromAttrs(req.attrs);
  if (entry.kind === 'file') set.size = interruptedAppend(entry, set.size, ctx);
  if (entry.kind === 'file' && entry.upload && set.size !== undefined)
    await ctx.uploads.beforeGap(entry.upload, set.size);
  if (entry.kind === 'file') await entry.file.setstat(set);
  else await ctx.fs.setstat(entry.path, set, { follow: true });
  if (entry.kind === 'file' && entry.upload && set.size !== undefined) {
    // a truncation changes what is known to be contiguous
    entry.upload.tracker.truncate(set.size);
  }
  return okStatus(req.id);
};
