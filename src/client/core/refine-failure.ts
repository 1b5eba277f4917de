import { OpenFlags as F, SftpError, StatusCode, isDirectory, type Attrs } from '../../protocol/index.js';
import type { RequestOptions } from './session.js';

/** What a request failed at, for the follow-up look at its target. */
export type RefinableOp =
  { op: 'mkdir' } | { op: 'rmdir' } | { op: 'rename' } | { op: 'remove' } | { op: 'open'; pflags: number };

/**
 * A version 3 server answers a bare FAILURE where Node's fs would say EEXIST, ENOTEMPTY or EISDIR
 * (OpenSSH's sftp-server does for mkdir of an existing directory, rmdir of a non-empty one, a RENAME
 * onto an existing name, an exclusive OPEN of an existing file; every server tried does for a REMOVE
 * of a directory). When the message carries no errno
 * name of its own, one LSTAT of the target says which: the error comes back with that code (the status
 * and the server's message unchanged, the first error as `cause`). Anything else, or an LSTAT that
 * fails, leaves the error as it was.
 */
export async function refineFailure(
  err: unknown,
  what: RefinableOp,
  target: string,
  lstat: (path: string, opts?: RequestOptions) => Promise<Attrs>,
  opts?: RequestOptions,
): Promise<unknown> {
  if (!(err instanceof SftpError) || err.status !== StatusCode.FAILURE || err.code !== 'EIO') return err;
  if (what.op === 'open' && (what.pflags & (F.WRITE | F.CREAT)) === 0) return err;
  let attrs: Attrs;
  try {
    attrs = await lstat(target, opts);
  } catch {
    return err; // not there, or we cannot tell: nothing to add
  }
  const code = codeFor(what, attrs);
  if (code === undefined) return err;
  return new SftpError({
    status: err.status,
    message: err.serverMessage,
    op: err.op,
    path: err.path,
    code,
    cause: err,
  });
}

function codeFor(what: RefinableOp, attrs: Attrs): string | undefined {
  const dir = attrs.permissions !== undefined ? isDirectory(attrs) : undefined;
  switch (what.op) {
    case 'mkdir':
    case 'rename':
      return 'EEXIST';
    case 'rmdir':
      return dir === true ? 'ENOTEMPTY' : dir === false ? 'ENOTDIR' : undefined;
    case 'remove':
      return dir === true ? 'EISDIR' : undefined;
    case 'open':
      if (what.pflags & F.EXCL) return 'EEXIST';
      return dir === true ? 'EISDIR' : undefined;
  }
}
