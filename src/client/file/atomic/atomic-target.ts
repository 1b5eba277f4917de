import { lstat as lstatLocal, readlink as readlinkLocal } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { posix } from 'node:path';
import { SftpError, StatusCode, isDirectory, isSymlink, type Attrs } from '../../../protocol/index.js';
import type { TransferHost } from '../../core/remote.js';
import { localError } from '../../core/local-error.js';

/**
 * Where an atomic or resumable transfer really writes. Decisions (documented in the README):
 * - a destination that is a directory is an error (EISDIR): put/get take a file path, never "into";
 * - a destination that is a symlink is followed, as a plain put/get does when it opens the path: the
 *   file the link points to is replaced (its directory holds the temporary file), the link stays.
 *   A dangling link is followed too: its target is created.
 * - except inside a tree download (resolveLocalEntry): there a symlink at the destination is an error
 *   for that entry (ELOOP), never followed — the tree's own listing or an earlier run may have made it.
 */
export interface ResolvedTarget {
  /** The path that is finally renamed onto (the destination, or the end of its symlink chain). */
  path: string;
  dir: string;
  base: string;
  /** Attributes of the existing file at `path`, if any. */
  existing?: { size?: number; permissions?: number };
  /** True when the destination was a symlink (followed). */
  viaSymlink: boolean;
}

const MAX_HOPS = 32;

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOENT' || (err as { status?: number }).status === StatusCode.NO_SUCH_FILE;
}

function baseOf(path: string, sep: typeof posix | typeof nodePath, op: string): string {
  const base = sep.basename(path);
  if (base === '' || base === '.' || base === '..' || /[/]$/.test(path)) {
    throw localError('EISDIR', `${op}: not a file path`, path);
  }
  return base;
}

/** Resolve a remote destination: follows symlinks (LSTAT + READLINK), rejects a directory with EISDIR. */
export async function resolveRemoteTarget(
  client: TransferHost,
  path: string,
  signal?: AbortSignal,
): Promise<ResolvedTarget> {
  let p = path;
  let viaSymlink = false;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    let a: Attrs;
    try {
      a = await client.lstat(p, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return { path: p, dir: posix.dirname(p), base: baseOf(p, posix, 'put'), viaSymlink };
    }
    if (isSymlink(a)) {
      const target = await client.readlink(p, { signal });
      p = posix.isAbsolute(target) ? target : posix.join(posix.dirname(p), target);
      viaSymlink = true;
      continue;
    }
    if (isDirectory(a)) {
      throw new SftpError({
        status: StatusCode.FAILURE,
        code: 'EISDIR',
        message: 'EISDIR: the destination is a directory',
        op: 'put',
        path: p,
      });
    }
    return {
      path: p,
      dir: posix.dirname(p),
      base: baseOf(p, posix, 'put'),
      existing: { size: a.size, permissions: a.permissions },
      viaSymlink,
    };
  }
  throw new SftpError({
    status: StatusCode.FAILURE,
    code: 'ELOOP',
    message: 'ELOOP: too many symbolic links',
    op: 'put',
    path,
  });
}

/** Resolve a local destination the same way (lstat + readlink). */
export async function resolveLocalTarget(path: string): Promise<ResolvedTarget> {
  let p = nodePath.resolve(path);
  let viaSymlink = false;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    let st;
    try {
      st = await lstatLocal(p);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return { path: p, dir: nodePath.dirname(p), base: baseOf(p, nodePath, 'get'), viaSymlink };
    }
    if (st.isSymbolicLink()) {
      const target = await readlinkLocal(p);
      p = nodePath.resolve(nodePath.dirname(p), target);
      viaSymlink = true;
      continue;
    }
    if (st.isDirectory()) {
      throw localError('EISDIR', 'the destination is a directory', p);
    }
    return {
      path: p,
      dir: nodePath.dirname(p),
      base: baseOf(p, nodePath, 'get'),
      existing: { size: st.size, permissions: st.mode },
      viaSymlink,
    };
  }
  throw localError('ELOOP', 'too many symbolic links', path);
}

/** The error for a tree entry whose local destination is a symbolic link. */
export function symlinkDestinationError(path: string): Error {
  return localError(
    'ELOOP',
    'the destination is a symbolic link, never written through in a tree download (remove it to download the file)',
    path,
  );
}

/**
 * Resolve a local destination without following anything (tree downloads): the entry itself is the
 * target; a symlink there is ELOOP, a directory EISDIR.
 */
export async function resolveLocalEntry(path: string): Promise<ResolvedTarget> {
  const p = nodePath.resolve(path);
  const base = baseOf(p, nodePath, 'get');
  let st;
  try {
    st = await lstatLocal(p);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return { path: p, dir: nodePath.dirname(p), base, viaSymlink: false };
  }
  if (st.isSymbolicLink()) throw symlinkDestinationError(p);
  if (st.isDirectory()) throw localError('EISDIR', 'the destination is a directory', p);
  return {
    path: p,
    dir: nodePath.dirname(p),
    base,
    existing: { size: st.size, permissions: st.mode },
    viaSymlink: false,
  };
}
