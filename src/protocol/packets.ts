import { PacketType as T, packetTypeName } from './constants.js';
import { Reader, Writer } from './bytes.js';
import { readAttrs, writeAttrs, type Attrs } from './attrs.js';
import { SftpProtocolError } from './errors.js';

/** A name/data pair of INIT or VERSION. */
export interface ExtensionPair {
  name: string;
  data: Buffer;
}
export interface NameEntry {
  filename: string;
  longname: string;
  attrs: Attrs;
}

type WithId<K extends number, B> = { type: K; id: number } & B;
type PathBody = { path: string };
type HandleBody = { handle: Buffer };

/** Every SFTP v3 packet, discriminated by its type number. */
export type Packet =
  | { type: typeof T.INIT; version: number; extensions: ExtensionPair[] }
  | { type: typeof T.VERSION; version: number; extensions: ExtensionPair[] }
  | WithId<typeof T.OPEN, { path: string; pflags: number; attrs: Attrs }>
  | WithId<typeof T.CLOSE, HandleBody>
  | WithId<typeof T.READ, HandleBody & { offset: number; length: number }>
  | WithId<typeof T.WRITE, HandleBody & { offset: number; data: Buffer }>
  | WithId<typeof T.LSTAT, PathBody>
  | WithId<typeof T.FSTAT, HandleBody>
  | WithId<typeof T.SETSTAT, PathBody & { attrs: Attrs }>
  | WithId<typeof T.FSETSTAT, HandleBody & { attrs: Attrs }>
  | WithId<typeof T.OPENDIR, PathBody>
  | WithId<typeof T.READDIR, HandleBody>
  | WithId<typeof T.REMOVE, PathBody>
  | WithId<typeof T.MKDIR, PathBody & { attrs: Attrs }>
  | WithId<typeof T.RMDIR, PathBody>
  | WithId<typeof T.REALPATH, PathBody>
  | WithId<typeof T.STAT, PathBody>
  | WithId<typeof T.RENAME, { oldPath: string; newPath: string }>
  | WithId<typeof T.READLINK, PathBody>
  /**
   * The two paths in wire order. The draft puts the link path first; OpenSSH (and so every
   * common server and client) puts the target first. Naming them by position keeps the codec honest:
   * the client and server decide which is which.
   */
  | WithId<typeof T.SYMLINK, { first: string; second: string }>
  | WithId<typeof T.STATUS, { code: number; message: string; lang: string }>
  | WithId<typeof T.HANDLE, HandleBody>
  | WithId<typeof T.DATA, { data: Buffer }>
  | WithId<typeof T.NAME, { entries: NameEntry[] }>
  | WithId<typeof T.ATTRS, { attrs: Attrs }>
  | WithId<typeof T.EXTENDED, { request: string; data: Buffer }>
  | WithId<typeof T.EXTENDED_REPLY, { data: Buffer }>;

export type PacketOf<K extends Packet['type']> = Extract<Packet, { type: K }>;
/** The packet types a server answers a request with. */
export type ReplyType =
  typeof T.STATUS | typeof T.HANDLE | typeof T.DATA | typeof T.NAME | typeof T.ATTRS | typeof T.EXTENDED_REPLY;
/** The packet types a client sends with a request id: every packet but the replies and INIT/VERSION. */
export type RequestType = Exclude<Packet['type'], ReplyType | typeof T.INIT | typeof T.VERSION>;
export type RequestPacket = PacketOf<RequestType>;
/** A packet body without its type, as a caller builds it. */
export type BodyOf<K extends Packet['type']> = Omit<PacketOf<K>, 'type'>;

/**
 * One codec per packet type: write the fields after the type byte (and id), read them back.
 * `write` may return a payload buffer that goes on the wire after the header without being copied.
 */
interface Codec<P> {
  write(w: Writer, p: P): Buffer | void;
  read(r: Reader): Omit<P, 'type' | 'id'>;
}
type CodecTable = { [K in Packet['type']]: Codec<PacketOf<K>> };

const path: Codec<{ path: string }> = {
  write: (w, p) => void w.string(p.path),
  read: (r) => ({ path: r.string('path') }),
};
const handle: Codec<{ handle: Buffer }> = {
  write: (w, p) => void w.string(p.handle),
  read: (r) => ({ handle: r.bytes('handle') }),
};
const pathAttrs: Codec<{ path: string; attrs: Attrs }> = {
  write: (w, p) => (w.string(p.path), writeAttrs(w, p.attrs)),
  read: (r) => ({ path: r.string('path'), attrs: readAttrs(r) }),
};
function extensionPairs(r: Reader): ExtensionPair[] {
  const out: ExtensionPair[] = [];
  while (r.remaining > 0) out.push({ name: r.string('extension name'), data: r.bytes('extension data') });
  return out;
}
const versioned: Codec<{ version: number; extensions: ExtensionPair[] }> = {
  write: (w, p) => {
    w.u32(p.version);
    for (const e of p.extensions) w.string(e.name).string(e.data);
  },
  read: (r) => ({ version: r.u32('version'), extensions: extensionPairs(r) }),
};

const codecs: CodecTable = {
  [T.INIT]: versioned,
  [T.VERSION]: versioned,
  [T.OPEN]: {
    write: (w, p) => (w.string(p.path).u32(p.pflags), writeAttrs(w, p.attrs)),
    read: (r) => ({ path: r.string('path'), pflags: r.u32('pflags'), attrs: readAttrs(r) }),
  },
  [T.CLOSE]: handle,
  [T.READ]: {
    write: (w, p) => void w.string(p.handle).u64(p.offset).u32(p.length),
    read: (r) => ({ handle: r.bytes('handle'), offset: r.u64('offset'), length: r.u32('length') }),
  },
  [T.WRITE]: {
    write: (w, p) => (w.string(p.handle).u64(p.offset).u32(p.data.length), p.data),
    read: (r) => ({ handle: r.bytes('handle'), offset: r.u64('offset'), data: r.bytes('data') }),
  },
  [T.LSTAT]: path,
  [T.FSTAT]: handle,
  [T.SETSTAT]: pathAttrs,
  [T.FSETSTAT]: {
    write: (w, p) => (w.string(p.handle), writeAttrs(w, p.attrs)),
    read: (r) => ({ handle: r.bytes('handle'), attrs: readAttrs(r) }),
  },
  [T.OPENDIR]: path,
  [T.READDIR]: handle,
  [T.REMOVE]: path,
  [T.MKDIR]: pathAttrs,
  [T.RMDIR]: path,
  [T.REALPATH]: path,
  [T.STAT]: path,
  [T.RENAME]: {
    write: (w, p) => void w.string(p.oldPath).string(p.newPath),
    read: (r) => ({ oldPath: r.string('oldpath'), newPath: r.string('newpath') }),
  },
  [T.READLINK]: path,
  [T.SYMLINK]: {
    write: (w, p) => void w.string(p.first).string(p.second),
    read: (r) => ({ first: r.string('first path'), second: r.string('second path') }),
  },
  [T.STATUS]: {
    write: (w, p) => void w.u32(p.code).string(p.message).string(p.lang),
    // Some old servers end a STATUS after the code; accept that, but nothing else short.
    read: (r) => {
      const code = r.u32('status code');
      if (r.remaining === 0) return { code, message: '', lang: '' };
      const message = r.string('status message');
      return { code, message, lang: r.remaining === 0 ? '' : r.string('language tag') };
    },
  },
  [T.HANDLE]: handle,
  [T.DATA]: {
    write: (w, p) => (w.u32(p.data.length), p.data),
    read: (r) => ({ data: r.bytes('data') }),
  },
  [T.NAME]: {
    write: (w, p) => {
      w.u32(p.entries.length);
      for (const e of p.entries) {
        w.string(e.filename).string(e.longname);
        writeAttrs(w, e.attrs);
      }
    },
    read: (r) => {
      const n = r.count('name', 12);
      const entries: NameEntry[] = new Array(n);
      for (let i = 0; i < n; i++) {
        entries[i] = { filename: r.string('filename'), longname: r.string('longname'), attrs: readAttrs(r) };
      }
      return { entries };
    },
  },
  [T.ATTRS]: {
    write: (w, p) => writeAttrs(w, p.attrs),
    read: (r) => ({ attrs: readAttrs(r) }),
  },
  [T.EXTENDED]: {
    write: (w, p) => void w.string(p.request).raw(p.data),
    read: (r) => ({ request: r.string('extended request name'), data: r.rest() }),
  },
  [T.EXTENDED_REPLY]: {
    write: (w, p) => void w.raw(p.data),
    read: (r) => ({ data: r.rest() }),
  },
};

/** True for every packet type except INIT and VERSION, which carry a version instead of an id. */
export function hasRequestId(type: number): boolean {
  return type !== T.INIT && type !== T.VERSION;
}

export function isKnownPacketType(type: number): type is Packet['type'] {
  return Object.prototype.hasOwnProperty.call(codecs, type);
}

/**
 * Encode a packet with its length prefix. Returns one buffer, or two when the packet carries a
 * WRITE/DATA payload: the header, then the caller's payload itself (never copied).
 */
export function encodePacket(p: Packet): Buffer[] {
  const w = new Writer(64, 4);
  w.u8(p.type);
  if ('id' in p) w.u32(p.id);
  const codec = codecs[p.type] as Codec<Packet>;
  const tail = codec.write(w, p);
  const tailLength = tail ? tail.length : 0;
  w.patchU32(0, w.pos - 4 + tailLength);
  const head = w.finish();
  return tail && tailLength > 0 ? [head, tail] : [head];
}

/** Encode into one buffer (copies a payload; for tests and small packets). */
export function encodePacketToBuffer(p: Packet): Buffer {
  const parts = encodePacket(p);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Decode one packet from its payload (the bytes after the length prefix, starting with the type).
 * Byte-string fields (handles, data) are views into `payload`. Any violation is an SftpProtocolError.
 *
 * What a packet carries after its last field is ignored, for every type, requests and replies alike.
 * Only lengths are held to their promise: a field (or a count of fields) that runs past the end of
 * the packet is still an error. The packet's own length prefix frames it, so ignored bytes can never
 * shift the next packet; they only go unread.
 * - Requests (OPEN ... SYMLINK, EXTENDED's name): OpenSSH's sftp-server skips whatever a request
 *   leaves unread, and real clients depend on it (some send WRITEs whose packet is longer than the
 *   data they declare; the declared bytes are what gets written).
 * - STATUS: OpenSSH's client reads the code alone; we read the message and language tag when they
 *   are there (old servers end after the code) and ignore anything after them.
 * - HANDLE, DATA, NAME, ATTRS: OpenSSH's client parses each reply from its own buffer and never
 *   looks at what is left after the fields it needs; we do the same. A DATA reply yields exactly the
 *   bytes its length declares.
 * - INIT, VERSION: the extension pairs run to the end of the packet, so nothing trails them; a pair
 *   cut short is an error (OpenSSH's client fails on it too).
 * - EXTENDED's data and EXTENDED_REPLY: the rest of the packet is the data, so nothing trails them.
 */
export function decodePacket(payload: Buffer): Packet {
  if (payload.length === 0) throw new SftpProtocolError('empty packet: no type byte', 0);
  const r = new Reader(payload);
  const type = r.u8('packet type');
  if (!isKnownPacketType(type)) throw new SftpProtocolError(`unknown packet type ${type}`, 0);
  r.packetType = type;
  const id = hasRequestId(type) ? r.u32('request id') : undefined;
  const body = (codecs[type] as Codec<Packet>).read(r);
  return (id === undefined ? { type, ...body } : { type, id, ...body }) as Packet;
}

/** Peek the type and request id of a packet payload without decoding the rest. */
export function peekHeader(payload: Buffer): { type: number; id?: number } {
  const type = payload.length > 0 ? payload[0]! : -1;
  const id = hasRequestId(type) && payload.length >= 5 ? payload.readUInt32BE(1) : undefined;
  return { type, id };
}

export { packetTypeName };
