import { PacketType as T, StatusCode } from '../../protocol/constants.js';
import type { NameEntry } from '../../protocol/packets.js';
import { formatLongname } from '../../protocol/longname.js';
import type { FileStats } from '../fs/file-system.js';
import { virtualDirname } from '../fs/vpath.js';
import { isHiddenUploadName } from '../atomic/hidden-names.js';
import { attrsFromStats, statusReply, type Handler, type SessionContext } from '../context.js';

/** At most this many names per READDIR reply, fewer when the packet limit is small. */
export const MAX_NAMES_PER_READDIR = 100;
/** Upper bound of one NAME entry's encoded size: filename and longname (each up to ~330 bytes) and attrs. */
const ENTRY_BOUND = 720;

export function namesPerReply(maxPacket: number): number {
  return Math.max(1, Math.min(MAX_NAMES_PER_READDIR, Math.floor((maxPacket - 64) / ENTRY_BOUND)));
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

export const readdir: Handler<typeof T.READDIR> = async (req, ctx) => {
  const h = ctx.handles.dir(req.handle);
  const max = namesPerReply(ctx.limits.maxPacket);
  const entries: NameEntry[] = [];
  if (!h.dotsSent) {
    h.dotsSent = true;
    // "." and ".." like OpenSSH's server; the root's ".." is the root itself.
    const self = await ctx.fs.stat(h.path).catch(() => undefined);
    const parent = await ctx.fs.stat(virtualDirname(h.path)).catch(() => undefined);
    if (self) entries.push(entry(ctx, '.', self));
    if (parent) entries.push(entry(ctx, '..', parent));
  }
  const hide = ctx.uploads.enabled;
  while (entries.length < max) {
    const batch = await h.dir.read(max - entries.length);
    if (!batch) break;
    for (const e of batch) {
      if (hide && isHiddenUploadName(e.name)) {
        ctx.uploads.expireIfStale(h.path, e.name, e.stats);
        continue;
      }
      if (e.stats) entries.push(entry(ctx, e.name, e.stats));
    }
  }
  if (entries.length === 0) return statusReply(req.id, StatusCode.EOF, 'End of directory');
  return { type: T.NAME, id: req.id, entries };
};

