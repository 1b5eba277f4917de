import { LENGTH_PREFIX, PacketType as T, StatusCode } from '../protocol/constants.js';
import { encodePacket, type Packet } from '../protocol/packets.js';

/** A reply already in wire form, length prefix included. */
export interface WireReply {
  wire: Buffer;
  /** A pooled buffer holding `wire`, given back to its pool once the stream has sent it. */
  frame?: Buffer;
}
export type Reply = Packet | WireReply;

/** Length prefix, type, request id and the data's own length: what precedes a DATA reply's bytes. */
export const DATA_HEADER = LENGTH_PREFIX + 1 + 4 + 4;

/**
 * Room for a DATA reply of up to `length` bytes with its header in front: read the file into `body`,
 * then `frameData` writes the header, so the reply leaves as one buffer and the bytes are never copied.
 */
export function dataFrame(
  length: number,
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
): { frame: Buffer; body: Buffer } {
  const frame = alloc(DATA_HEADER + length);
  return { frame, body: frame.subarray(DATA_HEADER) };
}

/** The DATA reply for request `id` holding the first `n` bytes of the frame's body. */
export function frameData(frame: Buffer, id: number, n: number): WireReply {
  frame.writeUInt32BE(DATA_HEADER - LENGTH_PREFIX + n, 0);
  frame[LENGTH_PREFIX] = T.DATA;
  frame.writeUInt32BE(id >>> 0, LENGTH_PREFIX + 1);
  frame.writeUInt32BE(n, LENGTH_PREFIX + 5);
  return { wire: n + DATA_HEADER === frame.length ? frame : frame.subarray(0, DATA_HEADER + n) };
}

/** Length prefix, type, id, code and the message's length: what precedes a STATUS reply's message. */
const STATUS_HEAD = LENGTH_PREFIX + 1 + 4 + 4 + 4;

/** A STATUS reply in wire form (the bytes encodePacket gives, written in one pass into one buffer). */
export function statusWire(id: number, code: number, message: string, lang = ''): Buffer {
  const m = Buffer.byteLength(message);
  const l = lang.length === 0 ? 0 : Buffer.byteLength(lang);
  const b = Buffer.allocUnsafe(STATUS_HEAD + m + 4 + l);
  b.writeUInt32BE(b.length - LENGTH_PREFIX, 0);
  b[LENGTH_PREFIX] = T.STATUS;
  b.writeUInt32BE(id >>> 0, LENGTH_PREFIX + 1);
  b.writeUInt32BE(code >>> 0, LENGTH_PREFIX + 5);
  b.writeUInt32BE(m, LENGTH_PREFIX + 9);
  b.write(message, STATUS_HEAD, 'utf8');
  b.writeUInt32BE(l, STATUS_HEAD + m);
  if (l > 0) b.write(lang, STATUS_HEAD + m + 4, 'utf8');
  return b;
}

/** The OK STATUS every successful WRITE gets, as encodePacket(okStatus(0)) gives it. */
const OK_TEMPLATE = statusWire(0, StatusCode.OK, 'Success');

/** OK STATUS replies for `ids`, in order, as one buffer: a run of WRITEs answered together. */
export function okStatusesWire(ids: readonly number[]): WireReply {
  const size = OK_TEMPLATE.length;
  const b = Buffer.allocUnsafe(size * ids.length);
  for (let i = 0, at = 0; i < ids.length; i++, at += size) {
    OK_TEMPLATE.copy(b, at);
    b.writeUInt32BE(ids[i]! >>> 0, at + LENGTH_PREFIX + 1);
  }
  return { wire: b };
}

/** Parts up to this size are merged with their neighbours into one write. */
const SMALL = 16 * 1024;

/**
 * The buffers to write for a run of replies, in order: small ones (STATUS, headers) merged into one
 * buffer per run, large ones (file data) passed on as they are, never copied.
 */
export function wireBuffers(replies: readonly Reply[]): Buffer[] {
  const out: Buffer[] = [];
  const small: Buffer[] = [];
  const flush = (): void => {
    if (small.length === 1) out.push(small[0]!);
    else if (small.length > 1) out.push(Buffer.concat(small));
    small.length = 0;
  };
  for (const r of replies) {
    const parts =
      'wire' in r ? [r.wire] : r.type === T.STATUS ? [statusWire(r.id, r.code, r.message, r.lang)] : encodePacket(r);
    for (const p of parts) {
      if (p.length <= SMALL) small.push(p);
      else {
        flush();
        out.push(p);
      }
    }
  }
  flush();
  return out;
}
