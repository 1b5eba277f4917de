import { DEFAULT_MAX_PACKET, LENGTH_PREFIX } from './constants.js';
import { SftpProtocolError } from './errors.js';

/** A packet whose length field exceeded the maximum: its bytes were skipped, never buffered. */
export interface OversizedPacket {
  /** The declared length. */
  length: number;
  /** Its type byte, when the packet had one. */
  type?: number;
  /** Its request id, when it had one. */
  id?: number;
  /**
   * Its first bytes (type byte first), only when the handlers ask for more than the type and id with
   * `oversizedHead`: enough to read, e.g., the handle a WRITE names.
   */
  head?: Buffer;
}

export interface FramerHandlers {
  /** A whole packet payload (type byte first, length prefix removed). */
  onPacket(payload: Buffer): void;
  /**
   * A packet longer than the maximum. Without this handler an oversized packet is an error.
   * With it the framer skips the packet's bytes (never allocating for them) and reports its head, so a
   * server can answer that one request and carry on.
   */
  onOversized?(info: OversizedPacket): void;
  /** Bytes of an oversized packet's head to keep and report as `info.head` (default: only type and id, no `head`). */
  oversizedHead?: number;
  /**
   * A packet of at least `splitFrom` bytes that spans several chunks, as views of those chunks in
   * order (`length` bytes in all, type byte first), never copied. Without this handler such a packet
   * is copied into one buffer and passed to onPacket, as is one whose views would hold on to much more
   * memory than its own bytes (a peer that trickles a packet in tiny chunks).
   */
  onSplitPacket?(pieces: Buffer[], length: number): void;
  /** The smallest packet passed to onSplitPacket (default 8 KiB). */
  splitFrom?: number;
}

/** A split packet's views may hold on to at most this many times its own bytes (plus SPLIT_SLACK), and at most MAX_SPLIT_PIECES views. */
const SPLIT_PIN_FACTOR = 2;
const SPLIT_SLACK = 256 * 1024;
const MAX_SPLIT_PIECES = 64;

const enum State {
  Length,
  Body,
  Skip,
  Split,
}

/**
 * Splits a byte stream into packets, whatever the split of the chunks it is given. The length field
 * is checked against `maxPacket` before anything is allocated. A packet contained in one chunk is
 * passed on as a view of that chunk; one spread over several chunks is copied once into a buffer of
 * its exact size.
 */
export class PacketFramer {
  private state = State.Length;
  private readonly lenBuf = Buffer.alloc(LENGTH_PREFIX);
  private lenHave = 0;
  private body: Buffer | null = null;
  private bodyHave = 0;
  private skipLeft = 0;
  private skipInfo: OversizedPacket = { length: 0 };
  private readonly skipHead: Buffer;
  private skipHeadHave = 0;
  private failed: SftpProtocolError | null = null;
  /** The split packet being gathered: its views so far, their bytes, and the memory they hold on to. */
  private pieces: Buffer[] = [];
  private splitLength = 0;
  private splitHave = 0;
  private splitPinned = 0;
  private readonly splitFrom: number;
  /** Bytes of packets begun but not finished: useful to tell a clean end of stream from a cut one. */
  get pendingBytes(): number {
    if (this.state === State.Length) return this.lenHave;
    if (this.state === State.Body) return LENGTH_PREFIX + this.bodyHave;
    if (this.state === State.Split) return LENGTH_PREFIX + this.splitHave;
    return 1;
  }

  constructor(
    private readonly handlers: FramerHandlers,
    readonly maxPacket: number = DEFAULT_MAX_PACKET,
  ) {
    this.skipHead = Buffer.alloc(Math.max(5, Math.min(handlers.oversizedHead ?? 0, 64 * 1024)));
    this.splitFrom = handlers.onSplitPacket ? Math.max(1, handlers.splitFrom ?? 8 * 1024) : Infinity;
  }

  /** Feed a chunk. Throws SftpProtocolError on a zero length, or on an oversized packet with no handler. */
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
      if (this.state === State.Length) {
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
      } else if (this.state === State.Body) {
        const body = this.body!;
        const take = Math.min(body.length - this.bodyHave, end - pos);
        if (this.bodyHave === 0 && take === body.length) {
          // whole body available here: hand out a view instead of the copy buffer
          this.body = null;
          this.state = State.Length;
          this.handlers.onPacket(chunk.subarray(pos, pos + take));
          pos += take;
          continue;
        }
        chunk.copy(body, this.bodyHave, pos, pos + take);
        this.bodyHave += take;
        pos += take;
        if (this.bodyHave === body.length) {
          this.body = null;
          this.state = State.Length;
          this.handlers.onPacket(body);
        }
      } else if (this.state === State.Split) {
        const take = Math.min(this.splitLength - this.splitHave, end - pos);
        if (this.splitHave === 0 && take === this.splitLength) {
          // whole packet in this chunk after all: one view, as onPacket
          this.state = State.Length;
          this.handlers.onPacket(chunk.subarray(pos, pos + take));
          pos += take;
          continue;
        }
        this.addPiece(chunk, pos, take);
        pos += take;
        if (this.state === State.Split && this.splitHave === this.splitLength) {
          const pieces = this.pieces;
          this.pieces = [];
          this.state = State.Length;
          this.handlers.onSplitPacket!(pieces, this.splitLength);
        }
      } else {
        const take = Math.min(this.skipLeft, end - pos);
        const headTake = Math.min(this.skipHead.length - this.skipHeadHave, take);
        chunk.copy(this.skipHead, this.skipHeadHave, pos, pos + headTake);
        this.skipHeadHave += headTake;
        this.skipLeft -= take;
        pos += take;
        if (this.skipLeft === 0) this.finishSkip();
      }
    }
  }

  private startPacket(len: number): void {
    if (len === 0) {
      this.failed = new SftpProtocolError('packet length 0: a packet needs at least a type byte');
      throw this.failed;
    }
    if (len > this.maxPacket) {
      if (!this.handlers.onOversized) {
        this.failed = new SftpProtocolError(`packet length ${len} exceeds the maximum of ${this.maxPacket}`);
        throw this.failed;
      }
      this.state = State.Skip;
      this.skipLeft = len;
      this.skipInfo = { length: len };
      this.skipHeadHave = 0;
      return;
    }
    if (len >= this.splitFrom) {
      this.state = State.Split;
      this.splitLength = len;
      this.splitHave = 0;
      this.splitPinned = 0;
      return;
    }
    this.state = State.Body;
    // Allocated only after the length passed the check above.
    this.body = Buffer.allocUnsafe(len);
    this.bodyHave = 0;
  }

  /**
   * Keep `take` bytes of `chunk` from `pos` as a view of the split packet; once its views would hold on
   * to too much memory (or be too many), copy what it has into one buffer and gather the rest there.
   */
  private addPiece(chunk: Buffer, pos: number, take: number): void {
    // Chunks that are views of one allocation (a stream's read buffer cut into packets) hold it once.
    const last = this.pieces[this.pieces.length - 1];
    if (last === undefined || last.buffer !== chunk.buffer) this.splitPinned += chunk.buffer.byteLength;
    if (
      this.pieces.length >= MAX_SPLIT_PIECES ||
      this.splitPinned > SPLIT_PIN_FACTOR * this.splitLength + SPLIT_SLACK
    ) {
      const body = Buffer.allocUnsafe(this.splitLength);
      let at = 0;
      for (const p of this.pieces) at += p.copy(body, at);
      this.pieces = [];
      this.body = body;
      this.bodyHave = at;
      this.state = State.Body;
      chunk.copy(body, at, pos, pos + take);
      this.bodyHave += take;
      if (this.bodyHave === body.length) {
        this.body = null;
        this.state = State.Length;
        this.handlers.onPacket(body);
      }
      return;
    }
    this.pieces.push(chunk.subarray(pos, pos + take));
    this.splitHave += take;
  }

  private finishSkip(): void {
    const info = this.skipInfo;
    if (this.skipHeadHave >= 1) info.type = this.skipHead[0];
    if (this.skipHeadHave >= 5 && info.type !== 1 && info.type !== 2) info.id = this.skipHead.readUInt32BE(1);
    if ((this.handlers.oversizedHead ?? 0) > 5) info.head = Buffer.from(this.skipHead.subarray(0, this.skipHeadHave));
    this.state = State.Length;
    this.handlers.onOversized!(info);
  }
}
