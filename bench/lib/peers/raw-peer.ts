/** A raw SFTP peer built from src/protocol only: sends whatever bytes it is told, records every reply. */
import type { Duplex } from 'node:stream';
import {
  PacketFramer,
  PacketType as T,
  decodePacket,
  encodePacketToBuffer,
  type Packet,
} from '../../../src/protocol/index.js';

export type Reply = Exclude<Packet, { type: typeof T.INIT }>;

export class RawPeer {
  /** Every packet received, decoded, in arrival order. */
  readonly replies: Reply[] = [];
  /** Received packets that did not decode (a server bug if ever non-empty). */
  readonly undecodable: { payload: Buffer; error: string }[] = [];
  /** Bytes received in total. */
  bytesIn = 0;
  /** True once the other side ended or closed the stream. */
  ended = false;
  readonly closed: Promise<void>;
  private readonly waiters = new Map<number, (p: Reply) => void>();
  private versionWaiter?: (p: Reply) => void;

  /**
   * `observe` sees every decoded packet as it arrives (after it is recorded); `strict` makes a packet
   * that does not decode (or an INIT from the server) throw instead of being recorded in `undecodable`.
   */
  constructor(
    readonly stream: Duplex,
    maxPacket = 64 * 1024 * 1024,
    private readonly hooks: { observe?: (p: Reply) => void; strict?: boolean } = {},
  ) {
    const framer = new PacketFramer({ onPacket: (payload) => this.onPacket(payload) }, maxPacket);
    stream.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      framer.push(chunk);
    });
    this.closed = new Promise((resolve) => {
      const done = (): void => {
        this.ended = true;
        resolve();
      };
      stream.once('end', done);
      stream.once('close', done);
      stream.on('error', done);
    });
  }

  private onPacket(payload: Buffer): void {
    let p: Packet;
    try {
      p = decodePacket(Buffer.from(payload));
    } catch (err) {
      if (this.hooks.strict) throw err;
      this.undecodable.push({ payload: Buffer.from(payload), error: (err as Error).message });
      return;
    }
    if (p.type === T.INIT) {
      if (this.hooks.strict) throw new Error('INIT sent by the server');
      this.undecodable.push({ payload: Buffer.from(payload), error: 'INIT sent by the server' });
      return;
    }
    this.replies.push(p);
    this.hooks.observe?.(p);
    if (p.type === T.VERSION) {
      this.versionWaiter?.(p);
      return;
    }
    if ('id' in p) {
      const w = this.waiters.get(p.id);
      if (w) {
        this.waiters.delete(p.id);
        w(p);
      }
    }
  }

  canWrite(): boolean {
    return !this.stream.destroyed && !this.stream.writableEnded;
  }

  send(p: Packet): void {
    this.sendRaw(encodePacketToBuffer(p));
  }

  sendRaw(bytes: Buffer): boolean {
    if (!this.canWrite()) return false;
    return this.stream.write(bytes);
  }

  /** Send INIT and wait for VERSION (or the end of the stream: then undefined). */
  async init(): Promise<Reply | undefined> {
    const got = new Promise<Reply>((r) => (this.versionWaiter = r));
    this.send({ type: T.INIT, version: 3, extensions: [] });
    return Promise.race([got, this.closed.then(() => undefined)]);
  }

  /** The reply to `id` (or undefined when the stream ends first). */
  reply(id: number): Promise<Reply | undefined> {
    const existing = this.replies.find((p) => 'id' in p && p.id === id);
    if (existing) return Promise.resolve(existing);
    const got = new Promise<Reply>((r) => this.waiters.set(id, r));
    return Promise.race([got, this.closed.then(() => undefined)]);
  }

  /** Send a request and wait for its reply. */
  async request(p: Extract<Packet, { id: number }>): Promise<Reply | undefined> {
    const r = this.reply(p.id);
    this.send(p);
    return r;
  }

  repliesTo(id: number): Reply[] {
    return this.replies.filter((p) => 'id' in p && p.id === id);
  }
}
