import { OpenFlags, PacketType as T, StatusCode } from '../../protocol/constants.js';
import type { Packet } from '../../protocol/packets.js';
import {
  encodeExtensionReply,
  StatVfsFlag,
  type ExtensionKey,
  type ExtensionRequest,
  type StatVfs,
} from '../../protocol/extensions.js';
import type { FileStats, FsStatVfs } from '../fs/file-system.js';
import type { FileHandleEntry } from '../handle-table.js';
import { StatusError } from '../status-error.js';
import { okStatus, oneName, type SessionContext } from '../context.js';
import { checkFile } from '../check-file.js';
import { realpathWalk } from '../fs/realpath-walk.js';
import { openOptions, readableEntry, setStatsFromAttrs, writeToEntry } from './file-handlers.js';

/** Answers one extension's request, already decoded (see the extension rows in request-table.ts). */
export type ExtHandler<K extends ExtensionKey> = (
  q: ExtensionRequest<K>,
  id: number,
  ctx: SessionContext,
) => Promise<Packet>;
type ExtTable = { [K in ExtensionKey]: ExtHandler<K> };

const reply = <K extends ExtensionKey>(
  id: number,
  key: K,
  rep: Parameters<typeof encodeExtensionReply<K>>[1],
): Packet => ({
  type: T.EXTENDED_REPLY,
  id,
  data: encodeExtensionReply(key, rep),
});

function statvfsOf(s: FsStatVfs, readOnly: boolean): StatVfs {
  const b = (n: number): bigint => BigInt(Math.max(0, Math.floor(n)));
  return {
    bsize: b(s.bsize),
    frsize: b(s.frsize),
    blocks: b(s.blocks),
    bfree: b(s.bfree),
    bavail: b(s.bavail),
    files: b(s.files),
    ffree: b(s.ffree),
    favail: b(s.favail),
    fsid: b(s.fsid),
    flag: (s.readOnly || readOnly ? StatVfsFlag.RDONLY : 0n) | StatVfsFlag.NOSUID,
    namemax: b(s.namemax),
  };
}

/** Only for a FileSystem with statvfs: the extension rows say so, and no other gets here. */
async function statvfs(ctx: SessionContext, path: string, id: number): Promise<Packet> {
  return reply(id, 'statvfs', statvfsOf(await ctx.fs.statvfs!(path), ctx.readOnly));
}

/** "~" and "~/x" (and "~user/x") are the home, which is the session's start directory. */
export function expandTilde(p: string, home = '/'): string {
  if (/^~[^/]*$/.test(p)) return home;
  const m = /^~[^/]*\/(.*)$/.exec(p);
  return m ? `${home === '/' ? '' : home}/${m[1]}` : p;
}

const COPY_CHUNK = 64 * 1024;

/** One file behind both handles: the same open file, or the same device and inode (as OpenSSH compares). */
function sameFile(a: FileHandleEntry, b: FileHandleEntry, sa: FileStats, sb: FileStats): boolean {
  if (a === b || a.file === b.file) return true;
  return sa.ino !== undefined && sa.ino === sb.ino && sa.dev === sb.dev;
}

/** One handler per extension, by key. */
export const extensionHandlers: ExtTable = {
  posixRename: async (q, id, ctx) => {
    await ctx.fs.rename(ctx.path(q.oldPath), ctx.path(q.newPath), { overwrite: true });
    return okStatus(id);
  },
  statvfs: async (q, id, ctx) => statvfs(ctx, ctx.path(q.path), id),
  fstatvfs: async (q, id, ctx) => {
    return statvfs(ctx, ctx.handles.any(q.handle).path, id);
  },
  hardlink: async (q, id, ctx) => {
    // only for a FileSystem with link: the extension rows say so, and no other gets here
    await ctx.fs.link!(ctx.path(q.oldPath), ctx.path(q.newPath));
    return okStatus(id);
  },
  fsync: async (q, id, ctx) => {
    await ctx.handles.file(q.handle).file.sync();
    return okStatus(id);
  },
  lsetstat: async (q, id, ctx) => {
    await ctx.fs.setstat(ctx.path(q.path), setStatsFromAttrs(q.attrs), { follow: false });
    return okStatus(id);
  },
  limits: async (_q, id, ctx) =>
    reply(id, 'limits', {
      maxPacketLength: ctx.limits.maxPacket,
      maxReadLength: ctx.limits.maxRead,
      maxWriteLength: ctx.limits.maxWrite,
      maxOpenHandles: ctx.limits.maxHandles,
    }),
  expandPath: async (q, id, ctx) =>
    oneName(id, await realpathWalk(ctx.fs, ctx.startDir, expandTilde(q.path, ctx.startDir))),
  copyData: async (q, id, ctx) => {
    const src = ctx.handles.file(q.readHandle);
    const dst = ctx.handles.file(q.writeHandle);
    if (!src.readable) throw new StatusError(StatusCode.PERMISSION_DENIED, 'EBADF: read handle not open for reading');
    if (!dst.writable) throw new StatusError(StatusCode.PERMISSION_DENIED, 'EBADF: write handle not open for writing');
    const [from, to] = await Promise.all([src.file.stat(), dst.file.stat()]);
    // Length 0 is "to the end of the file" as it is now: a copy that extends its own source ends.
    const total = q.readLength === 0 ? Math.max(0, from.size - q.readOffset) : q.readLength;
    if (sameFile(src, dst, from, to) && q.readOffset < q.writeOffset + total && q.writeOffset < q.readOffset + total) {
      throw new StatusError(
        StatusCode.FAILURE,
        'EINVAL: source and destination are overlapping ranges of the same file',
      );
    }
    let done = 0;
    while (done < total) {
      if (!ctx.alive) throw new StatusError(StatusCode.FAILURE, 'ECANCELED: the session ended during the copy');
      const data = await src.file.read(q.readOffset + done, Math.min(COPY_CHUNK, total - done));
      if (data.length === 0) break;
      await writeToEntry(dst, q.writeOffset + done, data, ctx);
      done += data.length;
    }
    return okStatus(id);
  },
  discardHandle: async (q, id, ctx) => {
    const entry = ctx.handles.file(q.handle);
    // Without an atomic upload the file was written in place: there is nothing to hold back.
    if (entry.upload) entry.upload.discarded = true;
    return okStatus(id);
  },
  homeDirectory: async (_q, id) => oneName(id, '/'),
  usersGroupsById: async (q, id, ctx) =>
    reply(id, 'usersGroupsById', {
      users: q.uids.map((u) => ctx.fs.userName?.(u) ?? ''),
      groups: q.gids.map((g) => ctx.fs.groupName?.(g) ?? ''),
    }),
  checkFileName: async (q, id, ctx) => {
    const file = await ctx.fs.open(ctx.path(q.target as string), openOptions(OpenFlags.READ, {}));
    try {
      return reply(id, 'checkFileName', await checkFile(file, q, ctx.limits.maxPacket - 1024));
    } finally {
      await file.close().catch(() => undefined);
    }
  },
  checkFileHandle: async (q, id, ctx) => {
    const e = readableEntry(q.target as Buffer, ctx);
    return reply(id, 'checkFileHandle', await checkFile(e.file, q, ctx.limits.maxPacket - 1024));
  },
};
