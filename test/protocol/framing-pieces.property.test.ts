/**
 * PacketFramer with onSplitPacket (how the client session takes large replies): under every split of
 * the byte stream, the same packets as without it — a large packet spread over chunks comes as its
 * pieces (views, none empty, the packet's bytes in order, at most 64), any other as one buffer — and
 * the same errors for a zero or oversized length. And the helpers for packets given as pieces.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packet } from './arbitraries.js';
import { PacketType as T } from '../../src/protocol/constants.js';
import { decodePacket, encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { PacketFramer } from '../../src/protocol/framing.js';
import { piecesHead, slicePieces } from '../../src/protocol/framing-pieces.js';

/** The most pieces PacketFramer hands one packet in. */
const MAX_PIECES = 64;

/** A framer that hands packets of at least `piecesFrom` bytes spread over chunks to `onPieces`. */
function splitFramer(
  h: { onPacket(p: Buffer): void; onPieces(pieces: Buffer[], length: number): void },
  maxPacket?: number,
  piecesFrom = 16 * 1024,
): PacketFramer {
  return new PacketFramer({ onPacket: h.onPacket, onSplitPacket: h.onPieces, splitFrom: piecesFrom }, maxPacket);
}
import { SftpProtocolError } from '../../src/protocol/errors.js';

/** Cut `stream` at the given positions (empty chunks included: pushing one must be harmless). */
function cut(stream: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, stream.length]) {
    chunks.push(stream.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

/** Packets, with some large DATA replies among them (the case the pieces exist for). */
const bigData = fc
  .record({ id: fc.nat({ max: 0xffffffff }), size: fc.integer({ min: 1, max: 70_000 }), fill: fc.nat({ max: 255 }) })
  .map(({ id, size, fill }): Packet => ({ type: T.DATA, id, data: Buffer.alloc(size, fill) }));
const packets = fc.array(fc.oneof({ weight: 3, arbitrary: packet }, { weight: 1, arbitrary: bigData }), {
  minLength: 1,
  maxLength: 6,
});
const cutPoints = fc.array(fc.nat(), { maxLength: 30 });

interface Seen {
  packets: Packet[];
  /** For each packet handed as pieces: its length and its pieces' lengths. */
  pieced: Array<{ length: number; sizes: number[] }>;
}

function runPieces(chunks: Buffer[], piecesFrom: number, maxPacket?: number): { seen: Seen; framer: PacketFramer } {
  const seen: Seen = { packets: [], pieced: [] };
  const framer = splitFramer(
    {
      onPacket: (payload) => seen.packets.push(decodePacket(Buffer.from(payload))),
      onPieces: (pieces, length) => {
        seen.pieced.push({ length, sizes: pieces.map((p) => p.length) });
        seen.packets.push(decodePacket(Buffer.concat(pieces)));
      },
    },
    maxPacket,
    piecesFrom,
  );
  for (const c of chunks) framer.push(c);
  return { seen, framer };
}

describe('PacketFramer, packets as pieces', () => {
  it('yields the packets PacketFramer does, under any split; only large packets spread over chunks come as pieces', () => {
    fc.assert(
      fc.property(packets, cutPoints, fc.integer({ min: 1, max: 80_000 }), (ps, points, piecesFrom) => {
        const stream = Buffer.concat(ps.map(encodePacketToBuffer));
        const chunks = cut(stream, points);
        const { seen, framer } = runPieces(chunks, piecesFrom);
        const reference: Packet[] = [];
        const old = new PacketFramer({ onPacket: (p) => reference.push(decodePacket(Buffer.from(p))) });
        for (const c of chunks) old.push(c);
        assert.deepEqual(seen.packets, reference);
        assert.deepEqual(seen.packets, ps);
        for (const { length, sizes } of seen.pieced) {
          assert.ok(length >= piecesFrom, `a packet of ${length} bytes came in pieces (from ${piecesFrom})`);
          assert.ok(sizes.length >= 2, 'pieces only for a packet spread over chunks');
          assert.ok(
            sizes.every((n) => n > 0),
            'no empty piece',
          );
          assert.equal(
            sizes.reduce((a, b) => a + b, 0),
            length,
          );
        }
        assert.equal(framer.pendingBytes, 0, 'nothing left over at a packet boundary');
      }),
      { numRuns: 300 },
    );
  });

  it('a large DATA cut into many chunks arrives as views of those chunks, not copies', () => {
    const data = Buffer.alloc(40_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const stream = encodePacketToBuffer({ type: T.DATA, id: 9, data });
    const chunks = cut(
      stream,
      Array.from({ length: 12 }, (_, i) => 1 + i * 3500),
    );
    let got: Buffer[] = [];
    const framer = splitFramer({ onPacket: () => assert.fail('expected pieces'), onPieces: (p) => (got = p) });
    for (const c of chunks) framer.push(c);
    assert.ok(Buffer.concat(got).equals(stream.subarray(4)));
    for (const p of got)
      assert.ok(
        chunks.some((c) => c.buffer === p.buffer),
        'each piece is a view of a pushed chunk',
      );
  });

  it('a large packet sent in crumbs is copied once past MAX_PIECES pieces: never more pieces than that', () => {
    const data = Buffer.alloc(20_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    const stream = encodePacketToBuffer({ type: T.DATA, id: 3, data });
    for (const crumb of [1, 7, 300, Math.ceil(stream.length / MAX_PIECES) + 1]) {
      const got: Buffer[] = [];
      const framer = splitFramer(
        {
          onPacket: (p) => got.push(Buffer.from(p)),
          onPieces: (pieces) => {
            assert.ok(pieces.length <= MAX_PIECES, `${pieces.length} pieces`);
            got.push(Buffer.concat(pieces));
          },
        },
        undefined,
        1000,
      );
      for (let at = 0; at < stream.length; at += crumb) framer.push(stream.subarray(at, at + crumb));
      assert.equal(got.length, 1);
      assert.ok(got[0]!.equals(stream.subarray(4)), `crumbs of ${crumb}`);
    }
  });

  it('a zero length and a length over the maximum are errors, as with PacketFramer, and the framer stays failed', () => {
    for (const [bytes, message] of [
      [Buffer.from([0, 0, 0, 0, 1]), /packet length 0/],
      [Buffer.from([0, 0, 1, 1, 1]), /packet length 257 exceeds the maximum of 256/],
    ] as const) {
      const framer = splitFramer({ onPacket: () => {}, onPieces: () => {} }, 256);
      assert.throws(
        () => framer.push(bytes),
        (e: unknown) => e instanceof SftpProtocolError && message.test(e.message),
      );
      assert.throws(() => framer.push(Buffer.from([0, 0, 0, 1, 1])), SftpProtocolError);
    }
  });

  it('a throwing handler leaves the framer failed (the rest of the chunk is not silently lost)', () => {
    const framer = splitFramer({
      onPacket: () => {
        throw new Error('boom');
      },
      onPieces: () => {},
    });
    const two = Buffer.concat([Buffer.from([0, 0, 0, 1, 1]), Buffer.from([0, 0, 0, 1, 1])]);
    assert.throws(() => framer.push(two), /boom/);
    assert.throws(() => framer.push(Buffer.from([0, 0, 0, 1, 1])), /packet handler failed: boom/);
  });

  it('slicePieces and piecesHead take the same bytes as slicing the joined buffer', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ minLength: 1, maxLength: 20 }).map((u) => Buffer.from(u)),
          { maxLength: 8 },
        ),
        fc.nat(),
        fc.nat(),
        fc.nat({ max: 30 }),
        (pieces, a, b, h) => {
          const all = Buffer.concat(pieces);
          const from = a % (all.length + 1);
          const length = b % (all.length - from + 1);
          const sliced = slicePieces(pieces, from, length);
          assert.ok(Buffer.concat(sliced).equals(all.subarray(from, from + length)));
          assert.ok(sliced.every((p) => p.length > 0));
          assert.ok(piecesHead(pieces, h).equals(all.subarray(0, Math.min(h, all.length))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
