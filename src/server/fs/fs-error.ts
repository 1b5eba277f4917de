/** An error a FileSystem throws: a Node-style errno code and a message that names no real path. */
export class FsError extends Error {
  override readonly name = 'FsError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

const DESCRIPTIONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EINVAL: 'invalid argument',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EXDEV: 'cross-device link',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  EBUSY: 'resource busy',
  EMFILE: 'too many open files',
  EBADF: 'bad file handle',
  EFBIG: 'file too large',
  EMLINK: 'too many links',
  ENOSYS: 'operation not supported',
  ENOTSUP: 'operation not supported',
  EIO: 'input/output error',
};

/** A readable description of an errno name. */
export function describeErrno(code: string): string {
  return DESCRIPTIONS[code] ?? code.toLowerCase();
}

export function fsError(code: string, message = describeErrno(code)): FsError {
  return new FsError(code, message);
}

/** The errno name of any error (Node's fs errors, FsError), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}
