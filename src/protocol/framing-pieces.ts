import { DEFAULT_MAX_PACKET, LENGTH_PREFIX } from './constants.js';
import { SftpProtocolError } from './errors.js';

/**
 * The most pieces one packet is handed in. Each piece costs a small object and keeps its chunk: a
 * peer that sends a large packet in crumbs gets it copied once, as a small packet is, and the memory
 * held for a packet stays within its size plus this many chunk ends.
 */
export const MAX_PIECES = 64;

export interface PieceFramerHandlers {
  /** A whole packet payload (type byte first, length prefix removed), as one buffer. */
  onPacket(payload: Buffer): void;
  /**
   * A packet of at least `piecesFrom` bytes that was spread over several chunks (at most MAX_PIECES):
   * its payload as views of those chunks, in order (`length` bytes in all, none empty), never copied.
   */
  onPieces(pieces: Buffer[], length: number): void;
}

/**
 * Splits a byte stream into packets like PacketFramer (same checks, same errors, no oversized
 * skipping: a packet over `maxPacket` is an error), but a large packet spread over several chunks is
 * handed on as the list of its pieces instead of being copied into a buffer of its own. Over SSH a
 * 256 KiB DATA reply arrives in eight channel packets: its receiver can write the pieces to a file
 * with one writev, and no memory is allocated or copied for it. Smaller packets spread over chunks
 * are copied once into a buffer of their exact size; a packet within one chunk is a view of it.
 *
 * The pieces are views of the chunks pushed: whoever keeps them keeps those chunks alive (at most the
 * packet's own bytes and the two chunks at its ends).
 */
export class PieceFramer {
  private readonly lenBuf = Buffer.alloc(LENGTH_PREFIX);
  private lenHave = 0;
  /** The packet being gathered: its length, the bytes so far, and its pieces or its copy buffer. */
  private len = 0;
  private have = 0;
  private pieces: Buffer[] | null = null;
  private body: Buffer | null = null;
  private inBody = false;
  private failed: SftpProtocolError | null = null;

  constructor(
    private readonly handlers: PieceFramerHandlers,
    readonly maxPacket: number = DEFAULT_MAX_PACKET,
    /** Packets at least this long are handed as pieces when they span chunks. */
    readonly piecesFrom: number = 16 * 1024,
  ) {}

  /** Bytes of packets begun but not finished. */
  get pendingBytes(): number {
    return this.inBody ? LENGTH_PREFIX + this.have : this.lenHave;
  }

  /** Feed a chunk. Throws SftpProtocolError on a zero length or a packet over the maximum. */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    try {
      this.consume(chunk);
    } catch (err) {
      // A throwing handler would otherwise lose the rest of this chunk silently: stay failed instead.
      this.failed ??=
        err instanceof SftpProtocolError
          ? err
          : new SftpProtocolError(`packet handler failed: ${String((err as Error)?.message ?? err)}`);
      throw err;
    }
  }

  private consume(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (!this.inBody) {
        // Fast path: a whole packet in what is left of this chunk.
        if (this.lenHave === 0 && end - pos >= LENGTH_PREFIX) {
          const len = chunk.readUInt32BE(pos);
          if (len >= 1 && len <= this.maxPacket && end - pos - LENGTH_PREFIX >= len) {
            const start = pos + LENGTH_PREFIX;
            pos = start + len;
            this.handlers.onPacket(chunk.subarray(start, pos));
            continue;
          }
        }
        const take = Math.min(LENGTH_PREFIX - this.lenHave, end - pos);
        chunk.copy(this.lenBuf, this.lenHave, pos, pos + take);
        this.lenHave += take;
        pos += take;
        if (this.lenHave < LENGTH_PREFIX) break;
        this.lenHave = 0;
        this.startPacket(this.lenBuf.readUInt32BE(0));
        continue;
      }
      const take = Math.min(this.len - this.have, end - pos);
      if (this.have === 0 && take === this.len) {
        // The whole body is here: a view, whatever its size.
        this.finish();
        this.handlers.onPacket(chunk.subarray(pos, pos + take));
        pos += take;
        continue;
      }
      if (this.pieces && this.pieces.length >= MAX_PIECES) this.toCopy();
      if (this.pieces) this.pieces.push(chunk.subarray(pos, pos + take));
      else chunk.copy(this.body!, this.have, pos, pos + take);
      this.have += take;
      pos += take;
      if (this.have === this.len) {
        const { pieces, body, len } = this;
        this.finish();
        if (pieces) this.handlers.onPieces(pieces, len);
        else this.handlers.onPacket(body!);
      }
    }
  }

  private startPacket(len: number): void {
    if (len === 0) {
      this.failed = new SftpProtocolError('packet length 0: a packet needs at least a type byte');
      throw this.failed;
    }
    if (len > this.maxPacket) {
      this.failed = new SftpProtocolError(`packet length ${len} exceeds the maximum of ${this.maxPacket}`);
      throw this.failed;
    }
    this.inBody = true;
    this.len = len;
    this.have = 0;
    // Allocated only after the length passed the check above, and only for a small packet.
    if (len >= this.piecesFrom) this.pieces = [];
    else this.body = Buffer.allocUnsafe(len);
  }

  /** Too many pieces (a peer sending crumbs): gather the rest of this packet in a copy, as for a small one. */
  private toCopy(): void {
    const body = Buffer.allocUnsafe(this.len);
    let at = 0;
    for (const p of this.pieces!) at += p.copy(body, at);
    this.body = body;
    this.pieces = null;
  }

  private finish(): void {
    this.inBody = false;
    this.pieces = null;
    this.body = null;
    this.have = 0;
  }
}

/**
 * `length` bytes from byte `from` of a packet given as pieces: views of the pieces (none copied, none
 * empty). The caller checks that the pieces hold that many bytes.
 */
export function slicePieces(pieces: readonly Buffer[], from: number, length: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = from;
  let left = length;
  for (const p of pieces) {
    if (left === 0) break;
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    const n = Math.min(p.length - skip, left);
    out.push(skip === 0 && n === p.length ? p : p.subarray(skip, skip + n));
    left -= n;
    skip = 0;
  }
  return out;
}

/** The first `n` bytes of a packet given as pieces, copied into a small buffer (for its header). */
export function piecesHead(pieces: readonly Buffer[], n: number): Buffer {
  if (pieces.length > 0 && pieces[0]!.length >= n) return pieces[0]!.subarray(0, n);
  const head = Buffer.alloc(n);
  let at = 0;
  for (const p of pieces) {
    if (at >= n) break;
    at += p.copy(head, at, 0, Math.min(p.length, n - at));
  }
  return head.subarray(0, at);
}
