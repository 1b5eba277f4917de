import { PacketType as T } from '../../protocol/constants.js';
import type { FileStats } from '../fs/file-system.js';
import { errnoOf, fsError } from '../fs/fs-error.js';
import { attrsFromStats, attrsReply, okStatus, oneName, type Handler, type SessionContext } from '../context.js';
import { setStatsFromAttrs } from './file-handlers.js';
import { assertDirectoryEntry, endsInSlash, statDirectory } from '../fs/trailing-slash.js';
import { realpathWalk } from '../fs/realpath-walk.js';

/** stat/lstat, where a missing path with a kept partial upload reports the partial (atomic-resume). */
export async function statPath(ctx: SessionContext, path: string, follow: boolean): Promise<FileStats> {
  try {
    return follow ? await ctx.fs.stat(path) : await ctx.fs.lstat(path);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') {
      const partial = await ctx.uploads.statWhenMissing(path);
      if (partial) return partial;
    }
    throw err;
  }
}

export const stat: Handler<typeof T.STAT> = async (req, ctx) =>
  attrsReply(
    req.id,
    attrsFromStats(
      endsInSlash(req.path)
        ? await statDirectory(ctx.fs, ctx.path(req.path))
        : await statPath(ctx, ctx.path(req.path), true),
    ),
  );

/** lstat of "dirlink/" is the directory the link points to, as in POSIX. */
export const lstat: Handler<typeof T.LSTAT> = async (req, ctx) =>
  attrsReply(
    req.id,
    attrsFromStats(
      endsInSlash(req.path)
        ? await statDirectory(ctx.fs, ctx.path(req.path))
        : await statPath(ctx, ctx.path(req.path), false),
    ),
  );

export const setstat: Handler<typeof T.SETSTAT> = async (req, ctx) => {
  if (endsInSlash(req.path)) await statDirectory(ctx.fs, ctx.path(req.path));
  await ctx.fs.setstat(ctx.path(req.path), setStatsFromAttrs(req.attrs), { follow: true });
  return okStatus(req.id);
};

export const remove: Handler<typeof T.REMOVE> = async (req, ctx) => {
  if (endsInSlash(req.path)) {
    // "name/" is a directory (or names nothing): never unlink a file or a link through it
    await assertDirectoryEntry(ctx.fs, ctx.path(req.path));
    throw fsError('EISDIR');
  }
  await ctx.fs.remove(ctx.path(req.path));
  return okStatus(req.id);
};

export const mkdir: Handler<typeof T.MKDIR> = async (req, ctx) => {
  await ctx.fs.mkdir(ctx.path(req.path), req.attrs.permissions !== undefined ? req.attrs.permissions & 0o7777 : 0o777);
  return okStatus(req.id);
};

export const rmdir: Handler<typeof T.RMDIR> = async (req, ctx) => {
  if (endsInSlash(req.path)) await assertDirectoryEntry(ctx.fs, ctx.path(req.path));
  await ctx.fs.rmdir(ctx.path(req.path));
  return okStatus(req.id);
};

/** REALPATH, as OpenSSH's sftp-server answers it (`..` after a symlink is the parent of its target). */
export const realpath: Handler<typeof T.REALPATH> = async (req, ctx) =>
  oneName(req.id, await realpathWalk(ctx.fs, ctx.startDir, req.path));

/** SFTP v3 RENAME never replaces an existing name (posix-rename@openssh.com does). */
export const rename: Handler<typeof T.RENAME> = async (req, ctx) => {
  // "old/" or "new/": what is renamed must be a directory itself
  if (endsInSlash(req.oldPath) || endsInSlash(req.newPath)) await assertDirectoryEntry(ctx.fs, ctx.path(req.oldPath));
  await ctx.fs.rename(ctx.path(req.oldPath), ctx.path(req.newPath), { overwrite: false });
  return okStatus(req.id);
};

export const readlink: Handler<typeof T.READLINK> = async (req, ctx) =>
  oneName(req.id, await ctx.fs.readlink(ctx.path(req.path)));

/**
 * SYMLINK in the order this session's client sends it: OpenSSH's (the first string is the link's
 * target, the second the path of the new link) or the draft's (the other way round).
 */
export const symlink: Handler<typeof T.SYMLINK> = async (req, ctx) => {
  const [target, link] = ctx.symlinkTargetFirst ? [req.first, req.second] : [req.second, req.first];
  await ctx.fs.symlink(target, ctx.path(link));
  return okStatus(req.id);
};
