// The session gathers small packets written in one tick into one stream write, keeps wire order with
// large WRITEs in between, and still honours the stream's backpressure.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import {
  PacketFramer,
  PacketType as T,
  StatusCode,
  decodePacket,
  encodePacketToBuffer,
  type Packet,
} from '../../src/protocol/index.js';
import { Session } from '../../src/client/index.js';

/** A stream that records each write the session makes and answers every request with STATUS OK. */
class RecordingPeer extends Duplex {
  readonly writes: Buffer[] = [];
  readonly packets: Packet[] = [];
  private readonly framer = new PacketFramer({ onPacket: (p) => this.onPacket(p) }, 1 << 20);
  constructor(writableHighWaterMark?: number) {
    super({ writableHighWaterMark });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes.push(Buffer.from(chunk));
    this.framer.push(chunk);
    // Answer on a later turn, so the session sees backpressure build up when the buffer is small.
    setImmediate(cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.push(null); // the session ended its side: end ours, as a server would
    cb();
  }
  private onPacket(payload: Buffer): void {
    const p = decodePacket(payload);
    this.packets.push(p);
    if (p.type === T.INIT) this.push(encodePacketToBuffer({ type: T.VERSION, version: 3, extensions: [] }));
    else if ('id' in p)
      this.push(encodePacketToBuffer({ type: T.STATUS, id: p.id, code: StatusCode.OK, message: '', lang: '' }));
  }
}

async function ready(peer: RecordingPeer): Promise<Session> {
  const s = new Session(peer);
  await s.init();
  peer.writes.length = 0;
  peer.packets.length = 0;
  return s;
}

const handle = Buffer.from('h1');

describe('session write gathering', () => {
  test('small requests made in one tick leave in one stream write, in order', async () => {
    const peer = new RecordingPeer();
    const s = await ready(peer);
    const paths = Array.from({ length: 20 }, (_, i) => `/d/file-${i}`);
    await Promise.all(paths.map((path) => s.request({ type: T.REMOVE, path }, 'remove')));
    assert.equal(peer.writes.length, 1, 'one write for the whole burst');
    assert.deepEqual(
      peer.packets.map((p) => (p.type === T.REMOVE ? p.path : '?')),
      paths,
    );
    await s.end();
  });

  test('a large WRITE flushes what was gathered with its header, then its payload uncopied; order kept', async () => {
    const peer = new RecordingPeer();
    const s = await ready(peer);
    const big = Buffer.alloc(200 * 1024, 7);
    const done = [
      s.request({ type: T.REMOVE, path: '/before' }, 'remove'),
      s.request({ type: T.WRITE, handle, offset: 0, data: big }, 'write'),
      s.request({ type: T.REMOVE, path: '/after' }, 'remove'),
    ];
    await Promise.all(done);
    assert.deepEqual(
      peer.packets.map((p) => p.type),
      [T.REMOVE, T.WRITE, T.REMOVE],
    );
    const w = peer.packets[1]!;
    assert.ok(w.type === T.WRITE && w.data.equals(big));
    // [REMOVE + WRITE header], [payload], [REMOVE]
    assert.equal(peer.writes.length, 3);
    assert.equal(peer.writes[1]!.length, big.length);
    await s.end();
  });

  test('a burst larger than one flush goes out in several writes, bytes and order intact', async () => {
    const peer = new RecordingPeer();
    const s = await ready(peer);
    const n = 2000;
    await Promise.all(Array.from({ length: n }, (_, i) => s.request({ type: T.STAT, path: `/p/${i}` }, 'stat')));
    assert.ok(peer.writes.length > 1 && peer.writes.length < n / 10, `${peer.writes.length} writes for ${n} requests`);
    assert.deepEqual(
      peer.packets.map((p) => (p.type === T.STAT ? p.path : '?')),
      Array.from({ length: n }, (_, i) => `/p/${i}`),
    );
    await s.end();
  });

  test('property: any mix of small and large requests arrives whole and in the order made, under backpressure', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 60_000, max: 140_000 })), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.constantFrom(1024, 16 * 1024, 1 << 20),
        async (sizes, hwm) => {
          const peer = new RecordingPeer(hwm);
          const s = new Session(peer, { maxRequests: 16 });
          await s.init();
          peer.packets.length = 0;
          await Promise.all(
            sizes.map((n, i) =>
              s.request({ type: T.WRITE, handle, offset: i, data: Buffer.alloc(n, i & 0xff) }, 'write'),
            ),
          );
          assert.equal(peer.packets.length, sizes.length);
          peer.packets.forEach((p, i) => {
            assert.ok(p.type === T.WRITE);
            assert.equal(p.offset, i);
            assert.equal(p.data.length, sizes[i]);
            assert.ok(p.data.every((b) => b === (i & 0xff)));
          });
          await s.end();
        },
      ),
      { numRuns: 40 },
    );
  });
});
