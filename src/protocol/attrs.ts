import { AttrFlags, FileType } from './constants.js';
import type { Reader, Writer } from './bytes.js';

export interface ExtendedAttr {
  type: string;
  data: Buffer;
}

/**
 * File attributes (ATTRS). A field is on the wire exactly when it is defined here;
 * uid/gid and atime/mtime travel in pairs. Sizes are exact numbers (at most 2^53-1).
 */
export interface Attrs {
  size?: number;
  uid?: number;
  gid?: number;
  /** st_mode: file type bits and permission bits. */
  permissions?: number;
  /** Seconds since the epoch (uint32 on the wire). */
  atime?: number;
  mtime?: number;
  extended?: ExtendedAttr[];
}

export function attrsFlags(a: Attrs): number {
  let flags = 0;
  if (a.size !== undefined) flags |= AttrFlags.SIZE;
  if (a.uid !== undefined || a.gid !== undefined) flags |= AttrFlags.UIDGID;
  if (a.permissions !== undefined) flags |= AttrFlags.PERMISSIONS;
  if (a.atime !== undefined || a.mtime !== undefined) flags |= AttrFlags.ACMODTIME;
  if (a.extended !== undefined && a.extended.length > 0) flags |= AttrFlags.EXTENDED;
  return flags >>> 0;
}

export function writeAttrs(w: Writer, a: Attrs): void {
  const flags = attrsFlags(a);
  w.u32(flags);
  if (a.size !== undefined) w.u64(a.size);
  if (flags & AttrFlags.UIDGID) {
    if (a.uid === undefined || a.gid === undefined) throw new TypeError('attrs: uid and gid must be given together');
    w.u32(a.uid).u32(a.gid);
  }
  if (a.permissions !== undefined) w.u32(a.permissions);
  if (flags & AttrFlags.ACMODTIME) {
    if (a.atime === undefined || a.mtime === undefined)
      throw new TypeError('attrs: atime and mtime must be given together');
    w.u32(a.atime).u32(a.mtime);
  }
  if (flags & AttrFlags.EXTENDED) {
    w.u32(a.extended!.length);
    for (const e of a.extended!) w.string(e.type).string(e.data);
  }
}

const KNOWN_FLAGS =
  AttrFlags.SIZE | AttrFlags.UIDGID | AttrFlags.PERMISSIONS | AttrFlags.ACMODTIME | AttrFlags.EXTENDED;

export function readAttrs(r: Reader): Attrs {
  const at = r.pos;
  const flags = r.u32('attrs flags');
  if ((flags & ~KNOWN_FLAGS) >>> 0 !== 0)
    r.fail(`attrs flags 0x${flags.toString(16)} has bits version 3 does not define`, at);
  const a: Attrs = {};
  if (flags & AttrFlags.SIZE) a.size = r.u64('attrs size');
  if (flags & AttrFlags.UIDGID) {
    a.uid = r.u32('attrs uid');
    a.gid = r.u32('attrs gid');
  }
  if (flags & AttrFlags.PERMISSIONS) a.permissions = r.u32('attrs permissions');
  if (flags & AttrFlags.ACMODTIME) {
    a.atime = r.u32('attrs atime');
    a.mtime = r.u32('attrs mtime');
  }
  if (flags & AttrFlags.EXTENDED) {
    const n = r.count('attrs extended', 8);
    a.extended = [];
    for (let i = 0; i < n; i++) a.extended.push({ type: r.string('extended type'), data: r.bytes('extended data') });
  }
  return a;
}

export function isDirectory(a: Attrs): boolean {
  return a.permissions !== undefined && (a.permissions & FileType.MASK) === FileType.DIRECTORY;
}
export function isRegularFile(a: Attrs): boolean {
  return a.permissions !== undefined && (a.permissions & FileType.MASK) === FileType.REGULAR;
}
export function isSymlink(a: Attrs): boolean {
  return a.permissions !== undefined && (a.permissions & FileType.MASK) === FileType.SYMLINK;
}
