import path from 'node:path';
import { fsError } from './fs-error.js';

/** A path that is already normal: "/" then names, none empty, "." or "..", and no NUL. */
const CANONICAL = /^(?:\/(?!\.\.?(?:\/|$))[^/\0]+)+$/;

/**
 * Paths on the wire are absolute inside the served tree: "/" is the root and a relative path is
 * taken from "/" (the home directory is the root). `..` stops at the root. The result is a
 * normalised absolute POSIX path with no trailing slash (except "/" itself).
 */
export function normalizeVirtual(p: string): string {
  if (CANONICAL.test(p)) return p;
  if (p.includes('\0')) throw fsError('EINVAL', 'path contains a NUL byte');
  const n = path.posix.normalize('/' + p);
  // normalize keeps a leading "//"; collapse it, and drop a trailing slash
  const s = n.replace(/^\/+/, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

/** The parent of a normalised virtual path ("/" for "/"). */
export function virtualDirname(p: string): string {
  return path.posix.dirname(p);
}

/** The last component of a normalised virtual path ("" for "/"). */
export function virtualBasename(p: string): string {
  return p === '/' ? '' : path.posix.basename(p);
}

export function joinVirtual(dir: string, name: string): string {
  return normalizeVirtual(dir === '/' ? '/' + name : dir + '/' + name);
}
