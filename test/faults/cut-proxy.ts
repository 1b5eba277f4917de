/**
 * A fault proxy between an SFTP client and a server, on byte streams: it forwards both directions,
 * counts bytes, watches the client's WRITE/READ requests and the server's DATA replies, and can
 *  - cut the connection after N bytes (both directions counted together), at any byte — even inside
 *    a packet;
 *  - withhold chosen client packets (e.g. one WRITE) while forwarding later ones, as a server that
 *    completed WRITEs out of order before the connection dropped would leave the file.
 *
 * A cut destroys the client's end at once (its pending requests fail). The server's end gets a clean
 * end of input after everything already forwarded, and its output is drained and discarded, so the
 * server finishes what it received and exits — what a real server does when its channel closes.
 */
import type { Duplex } from 'node:stream';
import { PacketFramer, PacketType as T, decodePacket } from '../../src/protocol/index.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

export interface WriteSeen {
  offset: number;
  length: number;
}

export interface CutProxyOptions {
  /** Cut after this many bytes in both directions together (default: never). */
  cutAfter?: number;
  /**
   * Decide for each whole client packet whether it is forwarded (true) or withheld forever (false).
   * When given, client bytes are forwarded packet by packet.
   */
  forward?(payload: Buffer, index: number, proxy: CutProxy): boolean;
}

export class CutProxy {
  /** The stream to give the client. */
  readonly clientStream: Duplex;
  private readonly inner: Duplex;
  bytesUp = 0;
  bytesDown = 0;
  /** WRITE requests forwarded whole to the server, in order. */
  readonly writes: WriteSeen[] = [];
  /** Payload bytes of DATA replies forwarded whole to the client. */
  dataDown = 0;
  cutDone = false;
  private readonly cutAfter: number;
  private readonly upFramer: PacketFramer;
  private readonly downFramer: PacketFramer;
  private readonly packetFramer?: PacketFramer;
  private packetIndex = 0;

  constructor(
    private readonly server: Duplex,
    opts: CutProxyOptions = {},
  ) {
    this.cutAfter = opts.cutAfter ?? Infinity;
    const [client, inner] = memoryPair();
    this.clientStream = client;
    this.inner = inner;
    this.upFramer = new PacketFramer({ onPacket: (p) => this.seenUp(p) }, 1 << 30);
    this.downFramer = new PacketFramer({ onPacket: (p) => this.seenDown(p) }, 1 << 30);
    if (opts.forward) {
      this.packetFramer = new PacketFramer(
        {
          onPacket: (p) => {
            if (this.cutDone) return;
            if (!opts.forward!(p, this.packetIndex++, this)) return;
            const head = Buffer.alloc(4);
            head.writeUInt32BE(p.length);
            this.sendUp(Buffer.concat([head, p]));
          },
        },
        1 << 30,
      );
    }
    inner.on('data', (chunk: Buffer) => {
      if (this.cutDone) return;
      if (this.packetFramer) this.packetFramer.push(chunk);
      else this.sendUp(chunk);
    });
    inner.on('end', () => {
      if (!this.cutDone && !server.writableEnded) server.end();
    });
    server.on('data', (chunk: Buffer) => {
      if (this.cutDone) return; // drained and discarded after a cut
      const room = this.cutAfter - this.bytesUp - this.bytesDown;
      const part = room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
      this.bytesDown += part.length;
      if (part.length > 0) {
        this.downFramer.push(part);
        inner.write(part);
      }
      if (part.length < chunk.length) this.cut();
    });
    server.on('end', () => {
      if (!this.cutDone) inner.end();
    });
    server.on('error', () => this.cut());
    inner.on('error', () => {});
  }

  private sendUp(chunk: Buffer): void {
    const room = this.cutAfter - this.bytesUp - this.bytesDown;
    const part = room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
    this.bytesUp += part.length;
    if (part.length > 0) {
      this.upFramer.push(part);
      this.server.write(part);
    }
    if (part.length < chunk.length) this.cut();
  }

  private seenUp(p: Buffer): void {
    if (p[0] !== T.WRITE) return;
    const pkt = decodePacket(p);
    if (pkt.type === T.WRITE) this.writes.push({ offset: pkt.offset, length: pkt.data.length });
  }

  private seenDown(p: Buffer): void {
    if (p[0] !== T.DATA) return;
    const pkt = decodePacket(p);
    if (pkt.type === T.DATA) this.dataDown += pkt.data.length;
  }

  /** Cut now: the client's end is destroyed; the server gets end of input after what was forwarded. */
  cut(): void {
    if (this.cutDone) return;
    this.cutDone = true;
    this.inner.destroy();
    if (!this.server.writableEnded) this.server.end();
    this.server.resume();
  }

  /** Total WRITE payload bytes forwarded. */
  get writeBytes(): number {
    return this.writes.reduce((a, w) => a + w.length, 0);
  }

  /** The end of the contiguous run of forwarded WRITEs starting at `from`. */
  contiguousFrom(from: number): number {
    const ends = new Map<number, number>();
    for (const w of this.writes) ends.set(w.offset, Math.max(ends.get(w.offset) ?? 0, w.offset + w.length));
    let end = from;
    for (;;) {
      const e = ends.get(end);
      if (e === undefined || e <= end) return end;
      end = e;
    }
  }
}
