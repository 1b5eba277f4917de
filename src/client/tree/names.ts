import { localError } from '../core/local-error.js';
/** Paths inside a tree: relative names, remote joins, and names a peer must not be allowed to use. */

/** The relative path of `name` inside the directory at `rel` ('/'-separated). */
export function childRel(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/** A remote path joined with one more name (remote paths always use '/'). */
export function remoteJoin(dir: string, name: string): string {
  return dir === '' ? name : dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/**
 * True for a name that is one entry of its directory: not empty, not '.' or '..', without '/' or NUL.
 * A server listing anything else would make a download write outside its destination.
 */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** The error recorded for an entry whose name is not a plain name. */
export function badNameError(dir: string, name: string): Error {
  return localError('ERR_SFTP_BAD_NAME', `refusing the entry ${JSON.stringify(name)}: not a plain file name`, dir);
}
