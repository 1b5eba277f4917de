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
  const handleLength = p.readUInt32BE(5);
  if (handleLength > p.length - HEAD - TAIL) return undefined;
  const at = HEAD + handleLength;
  const high = p.readUInt32BE(at);
  if (high > MAX_SAFE_HIGH) return undefined;
  const offset = high * 0x100000000 + p.readUInt32BE(at + 4);
  const n = p.readUInt32BE(at + 8);
  const id = p.readUInt32BE(1);
  const handle = p.subarray(HEAD, at);
  if (type === T.READ) return { type, id, handle, offset, length: n };
  const start = at + TAIL;
  if (n > p.length - start) return undefined;
  return { type, id, handle, offset, data: p.subarray(start, start + n) };
}
