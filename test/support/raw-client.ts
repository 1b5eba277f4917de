import net from 'node:net';
import { socketPair } from '../../bench/lib/peers/streams.js';
import type { Duplex } from 'node:stream';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import { encodePacket, type Packet, type BodyOf, type PacketOf } from '../../src/protocol/packets.js';
import { RawPeer } from '../../bench/lib/peers/raw-peer.js';
import {
  encodeExtensionRequest,
  decodeExtensionReply,
  Extensions,
  type ExtensionKey,
  type ExtensionRequest,
  type ExtensionReply,
} from '../../src/protocol/extensions.js';
import type { Attrs } from '../../src/protocol/attrs.js';
import type { SftpServer } from '../../src/server/sftp-server.js';

type Body<K extends Packet['type']> = K extends Packet['type'] ? Omit<PacketOf<K>, 'id'> : never;
export type RequestBody = Body<Packet['type']>;

/**
 * A minimal, strict SFTP client for server tests: the raw peer (bench/lib/peers/raw-peer.ts) frames,
 * decodes and records; this layer numbers requests, hands each reply to its request, and throws on a
 * packet that does not decode or a reply without an id.
 */
export class RawClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (p: Packet) => void>();
  private versionWaiter?: (p: Packet) => void;
  /** The raw peer underneath (every reply it received, bytes in, ...). */
  readonly peer: RawPeer;
  /** Replies to ids this client did not send through request()/expect() (hand-made packets). */
  readonly unsolicited: Packet[] = [];
  /** Every reply in arrival order (ids). */
  readonly arrivals: number[] = [];
  readonly closed: Promise<void>;

  constructor(readonly stream: Duplex) {
    this.peer = new RawPeer(stream, 16 * 1024 * 1024, { strict: true, observe: (p) => this.onPacket(p) });
    this.closed = this.peer.closed;
  }

  /** True once the other side ended or closed the stream. */
  get ended(): boolean {
    return this.peer.ended;
  }

  private onPacket(p: Packet): void {
    if (p.type === T.VERSION) {
      this.versionWaiter?.(p);
      return;
    }
    if (!('id' in p)) throw new Error(`unexpected packet ${p.type}`);
    this.arrivals.push(p.id);
    const w = this.waiting.get(p.id);
    if (!w) {
      this.unsolicited.push(p);
      return;
    }
    this.waiting.delete(p.id);
    w(p);
  }

  async init(): Promise<PacketOf<typeof T.VERSION>> {
    const got = new Promise<Packet>((r) => (this.versionWaiter = r));
    this.writeRaw(Buffer.concat(encodePacket({ type: T.INIT, version: 3, extensions: [] })));
    return (await got) as PacketOf<typeof T.VERSION>;
  }

  writeRaw(b: Buffer): void {
    this.stream.write(b);
  }

  /** Send a request, returning the reply promise. */
  request(body: RequestBody): Promise<Packet> {
    const id = this.nextId++;
    const reply = new Promise<Packet>((r) => this.waiting.set(id, r));
    for (const part of encodePacket({ ...body, id } as Packet)) this.stream.write(part);
    return reply;
  }

  /** Send a request for an id the caller chose (for hand-made packets), returning the reply promise. */
  expect(id: number): Promise<Packet> {
    return new Promise<Packet>((r) => this.waiting.set(id, r));
  }
  takeId(): number {
    return this.nextId++;
  }

  async status(body: RequestBody): Promise<number> {
    const p = await this.request(body);
    if (p.type !== T.STATUS) throw new Error(`expected STATUS, got ${p.type}`);
    return p.code;
  }
  async statusOf(body: RequestBody): Promise<PacketOf<typeof T.STATUS>> {
    const p = await this.request(body);
    if (p.type !== T.STATUS) throw new Error(`expected STATUS, got ${p.type}`);
    return p;
  }
  async ok(body: RequestBody): Promise<void> {
    const p = await this.request(body);
    if (p.type !== T.STATUS || p.code !== StatusCode.OK) throw new Error(`expected OK, got ${JSON.stringify(p)}`);
  }

  async open(path: string, pflags: number, attrs: Attrs = {}): Promise<Buffer> {
    const p = await this.request({ type: T.OPEN, path, pflags, attrs });
    if (p.type !== T.HANDLE) throw new Error(`open ${path}: ${JSON.stringify(p)}`);
    return p.handle;
  }
  async opendir(path: string): Promise<Buffer> {
    const p = await this.request({ type: T.OPENDIR, path });
    if (p.type !== T.HANDLE) throw new Error(`opendir ${path}: ${JSON.stringify(p)}`);
    return p.handle;
  }
  async readAll(handle: Buffer, chunk = 32768): Promise<Buffer> {
    const parts: Buffer[] = [];
    let off = 0;
    for (;;) {
      const p = await this.request({ type: T.READ, handle, offset: off, length: chunk });
      if (p.type === T.STATUS && p.code === StatusCode.EOF) break;
      if (p.type !== T.DATA) throw new Error(`read: ${JSON.stringify(p)}`);
      parts.push(Buffer.from(p.data));
      off += p.data.length;
    }
    return Buffer.concat(parts);
  }
  async writeFile(
    path: string,
    data: Buffer,
    pflags = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
  ): Promise<void> {
    const h = await this.open(path, pflags);
    for (let off = 0; off < data.length; off += 32768) {
      await this.ok({ type: T.WRITE, handle: h, offset: off, data: data.subarray(off, off + 32768) });
    }
    await this.ok({ type: T.CLOSE, handle: h });
  }
  async readFile(path: string): Promise<Buffer> {
    const h = await this.open(path, OpenFlags.READ);
    const data = await this.readAll(h);
    await this.ok({ type: T.CLOSE, handle: h });
    return data;
  }
  async attrs(type: typeof T.STAT | typeof T.LSTAT, path: string): Promise<Attrs> {
    const p = await this.request({ type, path });
    if (p.type !== T.ATTRS) throw new Error(`stat ${path}: ${JSON.stringify(p)}`);
    return p.attrs;
  }
  async names(path: string): Promise<PacketOf<typeof T.NAME>['entries'][]> {
    const h = await this.opendir(path);
    const batches: PacketOf<typeof T.NAME>['entries'][] = [];
    for (;;) {
      const p = await this.request({ type: T.READDIR, handle: h });
      if (p.type === T.STATUS && p.code === StatusCode.EOF) break;
      if (p.type !== T.NAME) throw new Error(`readdir: ${JSON.stringify(p)}`);
      batches.push(p.entries);
    }
    await this.ok({ type: T.CLOSE, handle: h });
    return batches;
  }
  async list(path: string): Promise<string[]> {
    return (await this.names(path))
      .flat()
      .map((e) => e.filename)
      .sort();
  }
  async realpath(path: string): Promise<string> {
    const p = await this.request({ type: T.REALPATH, path });
    if (p.type !== T.NAME) throw new Error(`realpath ${path}: ${JSON.stringify(p)}`);
    return p.entries[0]!.filename;
  }
  /** An extension request; returns the raw reply packet. */
  ext<K extends ExtensionKey>(key: K, req: ExtensionRequest<K>): Promise<Packet> {
    return this.request({ type: T.EXTENDED, request: Extensions[key].name, data: encodeExtensionRequest(key, req) });
  }
  async extReply<K extends ExtensionKey>(key: K, req: ExtensionRequest<K>): Promise<ExtensionReply<K>> {
    const p = await this.ext(key, req);
    if (p.type !== T.EXTENDED_REPLY) throw new Error(`${key}: ${JSON.stringify(p)}`);
    return decodeExtensionReply(key, p.data);
  }

  end(): void {
    this.stream.end();
  }
}

/** A server session on one end of a socket pair and a RawClient (initialised) on the other. */
export async function connect(
  server: SftpServer,
): Promise<{ client: RawClient; served: Promise<void>; serverSide: net.Socket; version: PacketOf<typeof T.VERSION> }> {
  const [c, s] = await socketPair();
  const served = server.serve(s);
  const client = new RawClient(c);
  const version = await client.init();
  return { client, served, serverSide: s, version };
}

export type { BodyOf };
