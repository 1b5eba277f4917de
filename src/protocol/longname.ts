import { FileType } from './constants.js';
import type { Attrs } from './attrs.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function typeChar(mode: number): string {
  switch (mode & FileType.MASK) {
    case FileType.DIRECTORY: return 'd';
    case FileType.SYMLINK: return 'l';
    case FileType.CHAR: return 'c';
    case FileType.BLOCK: return 'b';
    case FileType.FIFO: return 'p';
    case FileType.SOCKET: return 's';
    default: return '-';
  }
}

/** `rwxr-xr-x`-style permission string (with setuid/setgid/sticky), as `ls -l` prints it. */
export function modeString(mode: number): string {
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  const chars = s.split('');
  if (mode & 0o4000) chars[2] = chars[2] === 'x' ? 's' : 'S';
  if (mode & 0o2000) chars[5] = chars[5] === 'x' ? 's' : 'S';
  if (mode & 0o1000) chars[8] = chars[8] === 'x' ? 't' : 'T';
  return typeChar(mode) + chars.join('');
}

/**
 * The `ls -l` line a v3 server puts in NAME's longname, in the layout OpenSSH's sftp-server uses,
 * which its client shows as is. `now` decides between the time and the year column.
 */
export function formatLongname(
  filename: string,
  attrs: Attrs,
  opts: { user?: string; group?: string; links?: number; now?: number } = {},
): string {
  const mode = modeString(attrs.permissions ?? 0);
  const user = (opts.user ?? String(attrs.uid ?? 0)).padEnd(8);
  const group = (opts.group ?? String(attrs.gid ?? 0)).padEnd(8);
  const links = String(opts.links ?? 1).padStart(3);
  const size = String(attrs.size ?? 0).padStart(8);
  const mtime = attrs.mtime ?? 0;
  const d = new Date(mtime * 1000);
  const now = opts.now ?? Date.now() / 1000;
  const recent = mtime <= now + 3600 && now - mtime < 182 * 24 * 3600;
  const day = String(d.getUTCDate()).padStart(2);
  const when = recent
    ? `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`
    : String(d.getUTCFullYear()).padStart(5);
  return `${mode} ${links} ${user} ${group} ${size} ${MONTHS[d.getUTCMonth()]} ${day} ${when.padStart(5)} ${filename}`;
}
