import type { FileSystem, FileStats } from './file-system.js';
import { fsError } from './fs-error.js';

/**
 * A path ending in "/" names a directory (POSIX path resolution): "dirlink/" is the directory the
 * link points to, and "file/" names nothing (ENOTDIR). Wire paths are normalised without their
 * trailing slash before they reach the FileSystem, so requests check what the slash demanded here.
 */
export function endsInSlash(wirePath: string): boolean {
  return wirePath.endsWith('/') && wirePath.replace(/\/+$/, '') !== '';
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

function isDirectory(st: FileStats): boolean {
  return (st.mode & S_IFMT) === S_IFDIR;
}

/** The directory `path` names, following a final symlink (what stat and lstat of "path/" return). */
export async function statDirectory(fs: FileSystem, path: string): Promise<FileStats> {
  const st = await fs.stat(path);
  if (!isDirectory(st)) throw fsError('ENOTDIR');
  return st;
}

/**
 * For requests that act on the entry itself (RMDIR, RENAME): "name/" must be a directory entry, not
 * a symlink to one (rmdir("dirlink/") and rename("dirlink/", ...) fail with ENOTDIR on Linux).
 */
export async function assertDirectoryEntry(fs: FileSystem, path: string): Promise<void> {
  const st = await fs.lstat(path);
  if (!isDirectory(st)) throw fsError('ENOTDIR');
}

/**
 * OPEN of "name/": never a file. Creating through it fails with EISDIR whatever is there (as
 * open(2) with O_CREAT does on Linux); otherwise the name must be a directory (which a file open
 * then refuses).
 */
export async function assertOpenableWithSlash(fs: FileSystem, path: string, create: boolean): Promise<void> {
  if (create) throw fsError('EISDIR');
  await statDirectory(fs, path);
}
