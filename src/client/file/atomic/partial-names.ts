import { createHash, randomBytes } from 'node:crypto';

/**
 * Names of the temporary files of atomic and resumable transfers. All of them live in the
 * destination's own directory, start with a dot and are at most 255 bytes long:
 *
 *   .NAME.TAG.part      an atomic transfer's temporary file; TAG is 8 random hex digits (one per attempt)
 *   .NAME.HASH.resume   a resumable transfer's partial; HASH is 8 hex digits derived from the destination
 *                       and the source's identity (path, size, mtime), so a changed source gets another name
 *
 * When NAME is too long, it is shortened (on a UTF-8 character boundary) to fit.
 */

export const MAX_NAME_BYTES = 255;
export const ATOMIC_SUFFIX = '.part';
export const RESUME_SUFFIX = '.resume';
const TAG_LEN = 8;

/** `name` cut to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** The base name as it appears inside a temporary name (shortened so that the whole fits in 255 bytes). */
export function partialStem(base: string, suffix: string): { stem: string; truncated: boolean } {
  if (base === '' || base === '.' || base === '..' || base.includes('/'))
    throw new TypeError(`not a file name: ${JSON.stringify(base)}`);
  const room = MAX_NAME_BYTES - 1 /* leading dot */ - 1 - TAG_LEN /* .TAG */ - Buffer.byteLength(suffix);
  const stem = truncateUtf8(base, room);
  return { stem, truncated: stem !== base };
}

/** A fresh random tag (8 hex digits). */
export function randomTag(): string {
  return randomBytes(4).toString('hex');
}

/** The temporary name of an atomic transfer to `base`: `.base.TAG.part`. */
export function atomicTempName(base: string, tag: string = randomTag()): string {
  return `.${partialStem(base, ATOMIC_SUFFIX).stem}.${tag}${ATOMIC_SUFFIX}`;
}

/** What identifies a source for resume: a changed path, size or mtime gives another partial. */
export interface SourceIdentity {
  /** Where the source is (local path for uploads, remote path for downloads). */
  path: string;
  size: number;
  /** Modification time as the source reports it (ms for local files, seconds for remote ones). */
  mtime: number;
}

/** 8 hex digits from the destination and the source identity. */
export function identityHash(destination: string, src: SourceIdentity): string {
  return createHash('sha256')
    .update(`sftp-wire-resume\0${destination}\0${src.path}\0${src.size}\0${src.mtime}`)
    .digest('hex')
    .slice(0, TAG_LEN);
}

/** The partial's name of a resumable transfer to `destination` (whose base name is `base`). */
export function resumePartialName(base: string, destination: string, src: SourceIdentity): string {
  return `.${partialStem(base, RESUME_SUFFIX).stem}.${identityHash(destination, src)}${RESUME_SUFFIX}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A test for names of resume partials of the same destination base name (any identity). Undefined
 * when the base name had to be shortened: then another file's partials could match, so none are
 * considered stale.
 */
export function resumePartialMatcher(base: string): RegExp | undefined {
  const { stem, truncated } = partialStem(base, RESUME_SUFFIX);
  if (truncated) return undefined;
  return new RegExp(`^\\.${escapeRegExp(stem)}\\.[0-9a-f]{${TAG_LEN}}${escapeRegExp(RESUME_SUFFIX)}$`);
}

/** A test for atomic temporary names of `base` (any tag). */
export function atomicTempMatcher(base: string): RegExp {
  const { stem } = partialStem(base, ATOMIC_SUFFIX);
  return new RegExp(`^\\.${escapeRegExp(stem)}\\.[0-9a-f]{${TAG_LEN}}${escapeRegExp(ATOMIC_SUFFIX)}$`);
}
