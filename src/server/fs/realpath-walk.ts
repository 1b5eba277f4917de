import type { FileSystem } from './file-system.js';
import { fsError } from './fs-error.js';
import { joinVirtual, normalizeVirtual, virtualDirname } from './vpath.js';

/**
 * REALPATH of a path as a client sent it, the way OpenSSH's sftp-server answers it: `..` goes to the
 * parent of the directory actually reached, not of the name written before it. So `link/..` is the
 * parent of where the symlink leads, and every name before a `..` must exist (`dir/missing/..` is
 * ENOENT); a file before `..` is not checked to be a directory (`dir/file/..` is `dir`), as OpenSSH's
 * own walk does not check it either. After the last `..` the file system's realpath does the rest:
 * only the last name may be missing there.
 *
 * `startDir` is where a relative path starts (a path inside the served tree). Paths without `..` cost
 * one realpath, as before; each name before a `..` costs a stat and a realpath.
 */
export async function realpathWalk(fs: FileSystem, startDir: string, wirePath: string): Promise<string> {
  if (wirePath.includes('\0')) throw fsError('EINVAL', 'path contains a NUL byte');
  const start = wirePath.startsWith('/') ? '/' : startDir;
  const parts = wirePath.split('/');
  const lastUp = parts.lastIndexOf('..');
  if (lastUp < 0) return fs.realpath(normalizeVirtual(`${start}/${wirePath}`));
  let reached = await fs.realpath(normalizeVirtual(start));
  for (const name of parts.slice(0, lastUp + 1)) {
    if (name === '' || name === '.') continue;
    if (name === '..') {
      reached = virtualDirname(reached);
      continue;
    }
    const next = joinVirtual(reached, name);
    await fs.stat(next); // it must exist; a symlink's target must
    reached = await fs.realpath(next);
  }
  return fs.realpath(normalizeVirtual(`${reached}/${parts.slice(lastUp + 1).join('/')}`));
}
