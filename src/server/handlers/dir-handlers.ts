import { PacketType as T, StatusCode } from '../../protocol/constants.js';
import { virtualDirname } from '../fs/vpath.js';
import { isHiddenUploadName } from '../atomic/hidden-names.js';
import { statusReply, type Handler } from '../context.js';
import { NameReplyWriter } from '../name-reply.js';

/** The first READDIR of a handle answers at most this many names (like OpenSSH), so the first entries come quickly. */
export const FIRST_REPLY_NAMES = 100;
/**
 * Later NAME replies are filled up to this many bytes. OpenSSH's client refuses messages over 256 KiB
 * and older clients smaller ones; 64 KiB is a few hundred typical entries per round trip.
 */
export const NAME_REPLY_BYTES = 64 * 1024;
/** Entries asked of the directory per read while filling a reply. */
const DIR_READ = 128;

/** Bytes of one NAME reply (the whole packet, length prefix included) for the packet limit. */
export function nameReplyBudget(maxPacket: number): number {
  return Math.max(1024, Math.min(NAME_REPLY_BYTES, maxPacket));
}

export const opendir: Handler<typeof T.OPENDIR> = async (req, ctx) => {
  ctx.handles.assertRoom();
  const path = ctx.path(req.path);
  const dir = await ctx.fs.opendir(path);
  try {
    return { type: T.HANDLE, id: req.id, handle: ctx.handles.add({ kind: 'dir', path, dir, dotsSent: false }) };
  } catch (err) {
    await dir.close().catch(() => undefined);
    throw err;
  }
};

/**
 * READDIR: the next entries, as many as fit in one reply (FIRST_REPLY_NAMES for the first one; up to
 * nameReplyBudget bytes after that); entries read that do not fit are kept for the next READDIR.
 */
export const readdir: Handler<typeof T.READDIR> = async (req, ctx) => {
  const h = ctx.handles.dir(req.handle);
  const first = (h.replies ?? 0) === 0;
  const out = new NameReplyWriter(
    req.id,
    nameReplyBudget(ctx.limits.maxPacket),
    first ? FIRST_REPLY_NAMES : Infinity,
    ctx.fs,
  );
  if (!h.dotsSent) {
    h.dotsSent = true;
    // "." and ".." like OpenSSH's server; the root's ".." is the root itself.
    const [self, parent] = await Promise.all([
      ctx.fs.stat(h.path).catch(() => undefined),
      ctx.fs.stat(virtualDirname(h.path)).catch(() => undefined),
    ]);
    if (self) out.add('.', self);
    if (parent) out.add('..', parent);
  }
  const hide = ctx.uploads.enabled;
  let batch = h.carry;
  h.carry = undefined;
  for (;;) {
    if (!batch) {
      if (out.full) break;
      batch = (await h.dir.read(first ? Math.max(1, FIRST_REPLY_NAMES - out.count) : DIR_READ)) ?? undefined;
      if (!batch) break;
    }
    let i = 0;
    for (; i < batch.length; i++) {
      const e = batch[i]!;
      if (hide && isHiddenUploadName(e.name)) {
        ctx.uploads.expireIfStale(h.path, e.name, e.stats);
        ctx.uploads.sweepListed(h.path, e.name, e.stats);
        continue;
      }
      if (e.stats && !out.add(e.name, e.stats)) break;
    }
    if (i < batch.length) {
      h.carry = batch.slice(i);
      break;
    }
    batch = undefined;
  }
  if (out.count === 0) return statusReply(req.id, StatusCode.EOF, 'End of directory');
  h.replies = (h.replies ?? 0) + 1;
  return out.finish();
};
