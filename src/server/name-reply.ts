import { AttrFlags, LENGTH_PREFIX, PacketType as T } from '../protocol/constants.js';
import { longnamePrefix } from '../protocol/longname.js';
import type { FileStats } from './fs/file-system.js';
import type { WireReply } from './wire-reply.js';

/** Length prefix, type, id and count: what precedes a NAME reply's entries. */
export const NAME_HEADER = LENGTH_PREFIX + 1 + 4 + 4;
/** The attributes every listed entry carries: flags, size, uid, gid, permissions, atime, mtime. */
export const ENTRY_ATTRS_BYTES = 4 + 8 + 4 + 4 + 4 + 4 + 4;
const ENTRY_FLAGS = AttrFlags.SIZE | AttrFlags.UIDGID | AttrFlags.PERMISSIONS | AttrFlags.ACMODTIME;

const U32_MAX = 0xffffffff;
const u32 = (v: number): number => (v >= 0 ? (v <= U32_MAX ? Math.floor(v) : U32_MAX) : 0);

/** Owner and group names for longnames (undefined: shown as the number). */
export interface OwnerNames {
  userName?(uid: number): string | undefined;
  groupName?(gid: number): string | undefined;
}

/**
 * One NAME reply written entry by entry straight into its wire buffer: the bytes encodePacket gives
 * for the same entries (attributes as attrsFromStats makes them, longname as formatLongname does),
 * without building an entry object, a longname string with the filename in it, or measuring each
 * string twice. Entries are added while they fit in `budget` bytes (the whole packet) and number
 * fewer than `maxNames`; the first one is always taken, whatever its size.
 */
export class NameReplyWriter {
  private buf: Buffer;
  private pos = NAME_HEADER;
  /** Entries written. */
  count = 0;
  private readonly now = Date.now() / 1000;
  private readonly users = new Map<number, string>();
  private readonly groups = new Map<number, string>();

  constructor(
    private readonly id: number,
    private readonly budget: number,
    private readonly maxNames: number,
    private readonly names: OwnerNames,
  ) {
    this.buf = Buffer.allocUnsafe(budget);
  }

  /** True when no entry can be added any more (the count is reached). */
  get full(): boolean {
    return this.count >= this.maxNames;
  }

  /** Add an entry when it fits; false (nothing written) when it does not. */
  add(filename: string, st: FileStats): boolean {
    if (this.count >= this.maxNames) return false;
    const prefix = longnamePrefix(
      st.mode >>> 0,
      st.nlink,
      this.owner(this.users, st.uid, this.names.userName),
      this.owner(this.groups, st.gid, this.names.groupName),
      st.size,
      u32(st.mtime),
      this.now,
    );
    // at most 3 bytes per UTF-16 unit: when even that fits, nothing needs measuring
    let room = 8 + 3 * (2 * filename.length + prefix.length) + ENTRY_ATTRS_BYTES;
    if (this.pos + room > this.budget) {
      const n = Buffer.byteLength(filename);
      room = 8 + 2 * n + Buffer.byteLength(prefix) + ENTRY_ATTRS_BYTES;
      if (this.count > 0 && this.pos + room > this.budget) return false;
      if (this.pos + room > this.buf.length) this.grow(this.pos + room);
    }
    const b = this.buf;
    let at = this.pos;
    const nameAt = at + 4;
    const n = b.write(filename, nameAt, 'utf8');
    b.writeUInt32BE(n, at);
    at = nameAt + n;
    const p = b.write(prefix, at + 4, 'utf8');
    b.copyWithin(at + 4 + p, nameAt, nameAt + n);
    b.writeUInt32BE(p + n, at);
    at += 4 + p + n;
    b.writeUInt32BE(ENTRY_FLAGS, at);
    const size = st.size;
    b.writeUInt32BE(Math.floor(size / 0x100000000), at + 4);
    b.writeUInt32BE(size % 0x100000000, at + 8);
    b.writeUInt32BE(st.uid >>> 0, at + 12);
    b.writeUInt32BE(st.gid >>> 0, at + 16);
    b.writeUInt32BE(st.mode >>> 0, at + 20);
    b.writeUInt32BE(u32(st.atime), at + 24);
    b.writeUInt32BE(u32(st.mtime), at + 28);
    this.pos = at + ENTRY_ATTRS_BYTES;
    this.count++;
    return true;
  }

  /** The reply: header filled in, the buffer cut to what was written. */
  finish(): WireReply {
    const b = this.buf;
    b.writeUInt32BE(this.pos - LENGTH_PREFIX, 0);
    b[LENGTH_PREFIX] = T.NAME;
    b.writeUInt32BE(this.id >>> 0, LENGTH_PREFIX + 1);
    b.writeUInt32BE(this.count, LENGTH_PREFIX + 5);
    return { wire: b.subarray(0, this.pos) };
  }

  /** An owner's name (or number) padded to 8 columns, remembered for the rest of the reply. */
  private owner(
    cache: Map<number, string>,
    id: number,
    lookup: ((id: number) => string | undefined) | undefined,
  ): string {
    let s = cache.get(id);
    if (s === undefined) {
      s = (lookup?.call(this.names, id) ?? String(id)).padEnd(8);
      cache.set(id, s);
    }
    return s;
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
