import { PacketType as T, StatusCode } from '../../protocol/constants.js';
import type { NameEntry } from '../../protocol/packets.js';
import { formatLongname } from '../../protocol/longname.js';
import type { FileStats } from '../fs/file-system.js';
import { virtualDirname } from '../fs/vpath.js';
import { isHiddenUploadName } from '../atomic/hidden-names.js';
import { attrsFromStats, statusReply, type Handler, type SessionContext } from '../context.js';

/** The first READDIR of a handle answers at most this many names (like OpenSSH), so the first entries come quickly. */
export const FIRST_REPLY_NAMES = 100;
/**
 * Later NAME replies are filled up to this many bytes. OpenSSH's client refuses messages over 256 KiB
 * and older clients smaller ones; 64 KiB is a few hundred typical entries per round trip.
 */
export const NAME_REPLY_BYTES = 64 * 1024;
/** Entries asked of the directory per read while filling a reply. */
const DIR_READ = 128;
/** Length, type, id and count in front of the entries. */
const NAME_HEADER = 4 + 1 + 4 + 4;
/** The attributes attrsFromStats gives every entry: flags, size, uid, gid, permissions, atime, mtime. */
const FULL_ATTRS_BYTES = 4 + 8 + 4 + 4 + 4 + 4 + 4;

/** Bytes of one NAME reply (the whole packet, length prefix included) for the packet limit. */
export function nameReplyBudget(maxPacket: number): number {
  return Math.max(1024, Math.min(NAME_REPLY_BYTES, maxPacket));
}

function entrySize(e: NameEntry): number {
  return 8 + Buffer.byteLength(e.filename) + Buffer.byteLength(e.longname) + FULL_ATTRS_BYTES;
}

function entry(ctx: SessionContext, name: string, st: FileStats): NameEntry {
  const attrs = attrsFromStats(st);
  const longname = formatLongname(name, attrs, {
    user: ctx.fs.userName?.(st.uid),
    group: ctx.fs.groupName?.(st.gid),
    links: st.nlink,
  });
  return { filename: name, longname, attrs };
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
  const maxNames = first ? FIRST_REPLY_NAMES : Infinity;
  const budget = nameReplyBudget(ctx.limits.maxPacket);
  const entries: NameEntry[] = [];
  let bytes = NAME_HEADER;
  /** Add an entry when it fits (the first one always does). */
  const add = (e: NameEntry): boolean => {
    const size = entrySize(e);
    if (entries.length > 0 && (bytes + size > budget || entries.length >= maxNames)) return false;
    entries.push(e);
    bytes += size;
    return true;
  };
  if (!h.dotsSent) {
    h.dotsSent = true;
    // "." and ".." like OpenSSH's server; the root's ".." is the root itself.
    const [self, parent] = await Promise.all([
      ctx.fs.stat(h.path).catch(() => undefined),
      ctx.fs.stat(virtualDirname(h.path)).catch(() => undefined),
    ]);
    if (self) add(entry(ctx, '.', self));
    if (parent) add(entry(ctx, '..', parent));
  }
  const hide = ctx.uploads.enabled;
  let batch = h.carry;
  h.carry = undefined;
  for (;;) {
    if (!batch) {
      if (entries.length >= maxNames) break;
      batch = (await h.dir.read(first ? Math.max(1, maxNames - entries.length) : DIR_READ)) ?? undefined;
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
      if (e.stats && !add(entry(ctx, e.name, e.stats))) break;
    }
    if (i < batch.length) {
      h.carry = batch.slice(i);
      break;
    }
    batch = undefined;
  }
  if (entries.length === 0) return statusReply(req.id, StatusCode.EOF, 'End of directory');
  h.replies = (h.replies ?? 0) + 1;
  return { type: T.NAME, id: req.id, entries };
};
