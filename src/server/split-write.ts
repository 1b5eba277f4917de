import { PacketType as T } from '../protocol/constants.js';
import type { PacketOf } from '../protocol/packets.js';
import { piecesHead, slicePieces } from '../protocol/framing-pieces.js';
import { decodeIoHead, type IoHead } from './io-decode.js';

type WritePacket = PacketOf<typeof T.WRITE>;

/** Type, id, the handle's length, then after the handle the offset and the data's length. */
const BEFORE_HANDLE = 1 + 4 + 4;
const AFTER_HANDLE = 8 + 4;

/**
 * A WRITE whose packet arrived over several input chunks: its data is kept as views of those chunks
 * (`pieces`), written to the file as they are with one vectored call, never joined. `data` joins them
 * (once) for whatever needs one buffer.
 */
export class SplitWrite implements WritePacket {
  readonly type = T.WRITE;
  private joined: Buffer | undefined;

  constructor(
    readonly id: number,
    readonly handle: Buffer,
    readonly offset: number,
    readonly pieces: readonly Buffer[],
    /** Bytes of data in all. */
    readonly length: number,
  ) {}

  get data(): Buffer {
    return (this.joined ??= Buffer.concat(this.pieces as Buffer[], this.length));
  }
}

/** A WRITE's data as buffers to write one after another (views, never copies). */
export function writePieces(r: WritePacket): readonly Buffer[] {
  return r instanceof SplitWrite ? r.pieces : [r.data];
}

/** A WRITE's data length, without joining a SplitWrite's pieces. */
export function writeLength(r: WritePacket): number {
  return r instanceof SplitWrite ? r.length : r.data.length;
}

/**
 * The WRITE held by a packet split over `pieces` (`length` bytes, type byte first), its data left in
 * place; undefined when the packet is not a WRITE or is not well formed, which the caller then handles
 * as one joined buffer, so that every error is reported exactly as for any other packet. The header is
 * read from the first piece, or, when that piece is too short to hold it, from a copy of it (a few
 * hundred bytes at most).
 */
export function splitWrite(pieces: readonly Buffer[], length: number): SplitWrite | undefined {
  if (length < BEFORE_HANDLE || pieces.length === 0 || pieces[0]![0] !== T.WRITE) return undefined;
  const head = decodeIoHead(pieces[0]!, length) ?? copiedHead(pieces, length);
  if (head === undefined || head.n > length - head.end) return undefined;
  return new SplitWrite(head.id, head.handle, head.offset, slicePieces(pieces, head.end, head.n), head.n);
}

/** The header of a split READ/WRITE whose first piece is too short to hold it, from a copy of it. */
function copiedHead(pieces: readonly Buffer[], length: number): IoHead | undefined {
  const handleLength = piecesHead(pieces, BEFORE_HANDLE).readUInt32BE(BEFORE_HANDLE - 4);
  if (handleLength > length - BEFORE_HANDLE - AFTER_HANDLE) return undefined;
  return decodeIoHead(piecesHead(pieces, BEFORE_HANDLE + handleLength + AFTER_HANDLE), length);
}
