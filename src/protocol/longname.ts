import { FileType } from './constants.js';
import type { Attrs } from './attrs.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function typeChar(mode: number): string {
  switch (mode & FileType.MASK) {
    case FileType.DIRECTORY:
      return 'd';
    case FileType.SYMLINK:
      return 'l';
    case FileType.CHAR:
      return 'c';
    case FileType.BLOCK:
      return 'b';
    case FileType.FIFO:
      return 'p';
    case FileType.SOCKET:
      return 's';
    default:
      return '-';
  }
}

/** Mode strings by the bits they show (type and permission bits): at most 65,536 entries. */
const modeStrings = new Map<number, string>();

function buildModeString(mode: number): string {
  const bits = 'rwxrwxrwx';
  const chars: string[] = [];
  for (let i = 0; i < 9; i++) chars.push(mode & (1 << (8 - i)) ? bits[i]! : '-');
  if (mode & 0o4000) chars[2] = chars[2] === 'x' ? 's' : 'S';
  if (mode & 0o2000) chars[5] = chars[5] === 'x' ? 's' : 'S';
  if (mode & 0o1000) chars[8] = chars[8] === 'x' ? 't' : 'T';
  return typeChar(mode) + chars.join('');
}

/** `rwxr-xr-x`-style permission string (with setuid/setgid/sticky), as `ls -l` prints it. */
export function modeString(mode: number): string {
  const key = mode & (FileType.MASK | 0o7777);
  let s = modeStrings.get(key);
  if (s === undefined) modeStrings.set(key, (s = buildModeString(key)));
  return s;
}

/** `s` right-aligned in `width` columns (as padStart with spaces, which costs more per call). */
const SPACES = '        ';
const padLeft = (s: string, width: number): string => (s.length >= width ? s : SPACES.slice(0, width - s.length) + s);

const pad2 = (n: number, fill: string): string => (n < 10 ? fill + n : String(n));

/**
 * "Mon dd HH:MM" (recent) or "Mon dd  YYYY" for seconds since the epoch, in UTC. The last few are
 * remembered: the files of one directory often share a modification time.
 */
const whenCache = new Map<number, string>();
const WHEN_CACHE_MAX = 256;

function whenColumn(mtime: number, recent: boolean): string {
  const key = recent ? mtime : -1 - mtime;
  let s = whenCache.get(key);
  if (s !== undefined) return s;
  const d = new Date(mtime * 1000);
  const when = recent
    ? `${pad2(d.getUTCHours(), '0')}:${pad2(d.getUTCMinutes(), '0')}`
    : String(d.getUTCFullYear()).padStart(5);
  s = `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate(), ' ')} ${when.padStart(5)}`;
  if (whenCache.size >= WHEN_CACHE_MAX) whenCache.clear();
  whenCache.set(key, s);
  return s;
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
  return (
    longnamePrefix(
      attrs.permissions ?? 0,
      opts.links ?? 1,
      (opts.user ?? String(attrs.uid ?? 0)).padEnd(8),
      (opts.group ?? String(attrs.gid ?? 0)).padEnd(8),
      attrs.size ?? 0,
      attrs.mtime ?? 0,
      opts.now ?? Date.now() / 1000,
    ) + filename
  );
}

/**
 * The longname up to its filename (which follows it), from the fields themselves: `user` and `group`
 * already padded to 8 columns. formatLongname is this plus the filename.
 */
export function longnamePrefix(
  permissions: number,
  links: number,
  user: string,
  group: string,
  size: number,
  mtime: number,
  now: number,
): string {
  const recent = mtime <= now + 3600 && now - mtime < 182 * 24 * 3600;
  return `${modeString(permissions)} ${padLeft(String(links), 3)} ${user} ${group} ${padLeft(String(size), 8)} ${whenColumn(mtime, recent)} `;
}
