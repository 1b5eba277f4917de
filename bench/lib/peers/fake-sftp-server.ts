// An in-process scripted SFTP server (a peer for client tests and bench/list-heap.ts) speaking src/protocol over one end of an in-memory duplex pair.
import { Duplex } from 'node:stream';
import {
  PacketFramer,
  PacketType as T,
  decodePacket,
  encodePacketToBuffer,
  type ExtensionPair,
  type Packet,
} from '../../../src/protocol/index.js';

export type Request = Extract<Packet, { id: number }>;

/** A server end: decodes every packet, answers INIT itself, hands requests to `onRequest`. */
export class FakeServer {
  readonly received: Request[] = [];
  readonly framer: PacketFramer;
  onRequest: (req: Request) => void = () => {};
  /** Answer INIT with this (set before the client connects). */
  version = 3;
  extensions: ExtensionPair[] = [];
  ended = false;

  constructor(readonly stream: Duplex) {
    this.framer = new PacketFramer(
      {
        onPacket: (payload) => {
          const p = decodePacket(payload);
          if (p.type === T.INIT) {
            this.send({ type: T.VERSION, version: this.version, extensions: this.extensions });
            return;
          }
          this.received.push(p as Request);
          this.onRequest(p as Request);
        },
      },
      1 << 24,
    );
    stream.on('data', (c: Buffer) => this.framer.push(c));
    stream.on('end', () => {
      this.ended = true;
      stream.end();
    });
    stream.on('error', () => {});
  }

  send(p: Packet): void {
    this.sendRaw(encodePacketToBuffer(p));
  }
  sendRaw(b: Buffer): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(b);
  }
  ok(id: number): void {
    this.send({ type: T.STATUS, id, code: 0, message: '', lang: '' });
  }
}

/** A deterministic PRNG (mulberry32) for scripted server behaviour. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
