import { PacketType as T } from '../protocol/constants.js';
import type { PacketOf } from '../protocol/packets.js';

type ReadRequest = PacketOf<typeof T.READ>;
type WriteRequest = PacketOf<typeof T.WRITE>;

/** Type, id and the handle's length: what precedes the handle. */
const HEAD = 1 + 4 + 4;
/** After the handle: the offset and a uint32 (a READ's length, a WRITE's data length). */
const TAIL = 8 + 4;
/** The high half of the largest exact offset, 2^53-1. */
const MAX_SAFE_HIGH = 0x1fffff;

/**
 * A READ or WRITE decoded straight from its payload (type byte first): the same object decodePacket
 * gives (handle and data are views of the payload), for the two requests a transfer is made of, in a
 * few reads of fixed offsets. Undefined for any other packet, and for one decodePacket would refuse
 * (a field past the end, an offset beyond 2^53-1): the caller then decodes it with decodePacket,
 * which reports the error as for any packet.
 */
export function decodeIo(p: Buffer): ReadRequest | WriteRequest | undefined {
  const type = p.length >= HEAD ? p[0] : undefined;
  if (type !== T.READ && type !== T.WRITE) return undefined;
  const head = decodeIoHead(p, p.length);
  if (head === undefined) return undefined;
  const { id, handle, offset, n } = head;
  if (type === T.READ) return { type, id, handle, offset, length: n };
  const start = head.end;
  if (n > p.length - start) return undefined;
  return { type, id, handle, offset, data: p.subarray(start, start + n) };
}

/** What READ and WRITE share: id, handle (a view), offset, the uint32 after it, and where they end. */
export interface IoHead {
  id: number;
  handle: Buffer;
  offset: number;
  n: number;
  end: number;
}

/**
 * The fields a READ or WRITE packet of `length` bytes starts with, read from `p`, which holds at
 * least its first bytes (the type byte first; not checked here); undefined when they do not fit in
 * `length`, or in `p`, or the offset is beyond 2^53-1.
 */
export function decodeIoHead(p: Buffer, length: number): IoHead | undefined {
  if (p.length < HEAD) return undefined;
  const handleLength = p.readUInt32BE(5);
  if (handleLength > length - HEAD - TAIL || handleLength > p.length - HEAD - TAIL) return undefined;
  const at = HEAD + handleLength;
  const high = p.readUInt32BE(at);
  if (high > MAX_SAFE_HIGH) return undefined;
  return {
    id: p.readUInt32BE(1),
    handle: p.subarray(HEAD, at),
    offset: high * 0x100000000 + p.readUInt32BE(at + 4),
    n: p.readUInt32BE(at + 8),
    end: at + TAIL,
  };
}
