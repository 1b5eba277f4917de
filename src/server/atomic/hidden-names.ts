import { createHash } from 'node:crypto';

/** Suffix of a temporary file an upload writes into before CLOSE renames it into place. */
export const UPLOAD_SUFFIX = '.sftp-wire-upload';
/** Suffix of a kept partial upload (atomic-resume): one deterministic name per final path. */
export const PARTIAL_SUFFIX = '.sftp-wire-partial';
const NAME_MAX = 255;

/** The base name as it appears inside a hidden name: itself, or a digest when it would not fit. */
function stem(base: string, extra: number): string {
  if (Buffer.byteLength(base) + extra <= NAME_MAX) return base;
  return 'h' + createHash('sha256').update(base).digest('hex').slice(0, 40);
}

/** Appended to an upload's tag once its file may have bytes never written before its end (see UploadStore.beforeGap). */
export const GAP_MARK = '-g';

/** `.<base>.<tag>.sftp-wire-upload`, unique per upload (room is left for GAP_MARK). */
export function uploadName(base: string, tag: string): string {
  return `.${stem(base, 2 + tag.length + GAP_MARK.length + UPLOAD_SUFFIX.length)}.${tag}${UPLOAD_SUFFIX}`;
}

/** The name of an upload file once marked as possibly holding unwritten bytes. */
export function gapMarkedName(name: string): string {
  return name.slice(0, name.length - UPLOAD_SUFFIX.length) + GAP_MARK + UPLOAD_SUFFIX;
}

/** `.<base>.sftp-wire-partial`, the same for every session. */
export function partialName(base: string): string {
  return `.${stem(base, 1 + PARTIAL_SUFFIX.length)}${PARTIAL_SUFFIX}`;
}

/** Names READDIR hides while server-side atomic uploads are on. */
export function isHiddenUploadName(name: string): boolean {
  return name.startsWith('.') && (name.endsWith(UPLOAD_SUFFIX) || name.endsWith(PARTIAL_SUFFIX));
}
export function isPartialName(name: string): boolean {
  return name.startsWith('.') && name.endsWith(PARTIAL_SUFFIX);
}

/** The base name and tag inside an upload's hidden name, or undefined for other names. */
export function parseUploadName(name: string): { stem: string; tag: string; gapped: boolean } | undefined {
  if (!name.startsWith('.') || !name.endsWith(UPLOAD_SUFFIX)) return undefined;
  const inner = name.slice(1, name.length - UPLOAD_SUFFIX.length);
  const dot = inner.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const tag = inner.slice(dot + 1);
  const gapped = tag.endsWith(GAP_MARK);
  return { stem: inner.slice(0, dot), tag: gapped ? tag.slice(0, -GAP_MARK.length) : tag, gapped };
}
