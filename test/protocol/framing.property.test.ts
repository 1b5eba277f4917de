/** PacketFramer: the same packets under every split of the byte stream; lengths checked before allocating. */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packet, u32 } from './arbitraries.js';
import { PacketType as T, DEFAULT_MAX_PACKET } from '../../src/protocol/constants.js';
import { decodePacket, encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { PacketFramer, type OversizedPacket } from '../../src/protocol/framing.js';
import { SftpProtocolError } from '../../src/protocol/errors.js';

/** Cut `stream` at the given positions (any order, duplicates and out-of-range folded in). */
function cut(stream: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, stream.length]) {
    pieces.push(stream.subarray(prev, p)); // empty pieces included: push(empty) must be harmless
    prev = p;
  }
  return pieces;
}
const bytewise = (stream: Buffer) => Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1));

type Event = { packet: Packet } | { oversized: OversizedPacket };

function run(pieces: Buffer[], maxPacket?: number, withOversized = false): { events: Event[]; framer: PacketFramer } {
  const events: Event[] = [];
  const framer = new PacketFramer(
    {
      // copy: a view into a piece is only valid while the caller keeps that piece intact
      onPacket: (payload) => events.push({ packet: decodePacket(Buffer.from(payload)) }),
      ...(withOversized ? { onOversized: (info: OversizedPacket) => events.push({ oversized: { ...info } }) } : {}),
    },
    maxPacket,
  );
  for (const piece of pieces) framer.push(piece);
  return { events, framer };
}

const packets = fc.array(packet, { minLength: 1, maxLength: 8 });
const cutPoints = fc.array(fc.nat(), { maxLength: 20 });

describe('PacketFramer yields the same packets under every split', () => {
  it('random cut points', () => {
    fc.assert(
      fc.property(packets, cutPoints, (ps, points) => {
        const stream = Buffer.concat(ps.map(encodePacketToBuffer));
        const { events, framer } = run(cut(stream, points));
        assert.deepEqual(
          events,
          ps.map((p) => ({ packet: p })),
        );
        assert.equal(framer.pendingBytes, 0, 'nothing left over at a packet boundary');
      }),
      { numRuns: 300 },
    );
  });
  it('one byte at a time', () => {
    fc.assert(
      fc.property(packets, (ps) => {
        const stream = Buffer.concat(ps.map(encodePacketToBuffer));
        assert.deepEqual(
          run(bytewise(stream)).events,
          ps.map((p) => ({ packet: p })),
        );
      }),
      { numRuns: 100 },
    );
  });
  it('everything in one chunk', () => {
    fc.assert(
      fc.property(packets, (ps) => {
        const stream = Buffer.concat(ps.map(encodePacketToBuffer));
        assert.deepEqual(
          run([stream]).events,
          ps.map((p) => ({ packet: p })),
        );
      }),
      { numRuns: 200 },
    );
  });
  it('a cut stream reports its pending bytes and yields only the whole packets', () => {
    fc.assert(
      fc.property(packets, fc.nat(), (ps, n) => {
        const wires = ps.map(encodePacketToBuffer);
        const stream = Buffer.concat(wires);
        const end = n % stream.length; // strictly inside the stream
        const { events, framer } = run([stream.subarray(0, end)]);
        let whole = 0;
        let used = 0;
        while (whole < wires.length && used + wires[whole]!.length <= end) used += wires[whole++]!.length;
        assert.deepEqual(
          events,
          ps.slice(0, whole).map((p) => ({ packet: p })),
        );
        assert.equal(framer.pendingBytes > 0, end > used, 'pending exactly when a packet was begun');
      }),
      { numRuns: 200 },
    );
  });
  it('a packet of exactly maxPacket bytes passes; one byte more does not', () => {
    const max = 64;
    const fits = { type: T.DATA, id: 1, data: Buffer.alloc(max - 9) } as const; // 1 + 4 + 4 + data
    assert.equal(encodePacketToBuffer(fits).length - 4, max);
    assert.deepEqual(run([encodePacketToBuffer(fits)], max).events, [{ packet: fits }]);
    const over = { type: T.DATA, id: 1, data: Buffer.alloc(max - 8) } as const;
    assert.throws(() => run([encodePacketToBuffer(over)], max), SftpProtocolError);
  });
  it('an exception thrown by onPacket propagates out of push unchanged (the sessions rely on it to fail)', () => {
    const boom = new Error('handler failed');
    const framer = new PacketFramer({
      onPacket: () => {
        throw boom;
      },
    });
    assert.throws(
      () => framer.push(encodePacketToBuffer({ type: T.CLOSE, id: 1, handle: Buffer.from([1]) })),
      (e) => e === boom,
    );
  });
  it('uses DEFAULT_MAX_PACKET (256 KiB + 1024) by default', () => {
    const framer = new PacketFramer({ onPacket: () => {} });
    assert.equal(framer.maxPacket, DEFAULT_MAX_PACKET);
    assert.equal(DEFAULT_MAX_PACKET, 256 * 1024 + 1024);
  });
});

describe('PacketFramer rejects bad lengths before allocating', () => {
  /** Spy on every Buffer allocation made while `fn` runs. */
  function allocations(fn: () => void): number[] {
    const sizes: number[] = [];
    const spies = (['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const).map((name) => {
      const original = Buffer[name].bind(Buffer) as (size: number, ...rest: unknown[]) => Buffer;
      return mock.method(Buffer, name, (size: number, ...rest: unknown[]) => {
        sizes.push(size);
        return original(size, ...rest);
      });
    });
    try {
      fn();
    } finally {
      for (const s of spies) s.mock.restore();
    }
    return sizes;
  }

  it('(control) the spy sees the one exact-size buffer a packet split over chunks is copied into', () => {
    const wire = encodePacketToBuffer({ type: T.DATA, id: 1, data: Buffer.alloc(500) });
    const framer = new PacketFramer({ onPacket: () => {} });
    const sizes = allocations(() => {
      framer.push(wire.subarray(0, 10));
      framer.push(wire.subarray(10));
    });
    assert.deepEqual(sizes, [wire.length - 4]);
  });
  it('length 0 is a typed error, whether the length arrives whole or split; the framer stays failed', () => {
    for (const pieces of [[Buffer.alloc(4)], [Buffer.alloc(2), Buffer.alloc(2)], bytewise(Buffer.alloc(4))]) {
      const framer = new PacketFramer({ onPacket: () => assert.fail('no packet') });
      const sizes = allocations(() => {
        assert.throws(
          () => pieces.forEach((p) => framer.push(p)),
          (e: unknown) => {
            assert.ok(e instanceof SftpProtocolError);
            assert.match(e.message, /length 0/);
            return true;
          },
        );
      });
      assert.deepEqual(sizes, []);
      assert.throws(
        () => framer.push(encodePacketToBuffer({ type: T.INIT, version: 3, extensions: [] })),
        SftpProtocolError,
      );
    }
  });
  it('length above the maximum, without onOversized: typed error, and no allocation of that size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1025, max: 0xffffffff }), fc.boolean(), (len, split) => {
        const framer = new PacketFramer({ onPacket: () => assert.fail('no packet') }, 1024);
        const head = Buffer.alloc(9);
        head.writeUInt32BE(len, 0);
        head[4] = T.WRITE;
        const sizes = allocations(() => {
          assert.throws(
            () => (split ? bytewise(head) : [head]).forEach((p) => framer.push(p)),
            (e: unknown) => {
              assert.ok(e instanceof SftpProtocolError);
              assert.match(e.message, new RegExp(`length ${len} exceeds the maximum of 1024`));
              return true;
            },
          );
        });
        assert.ok(
          sizes.every((s) => s < 1024),
          `allocated ${sizes}`,
        );
      }),
      { numRuns: 50 },
    );
  });
  it('a length of 2^32-1 with onOversized: skipped in constant memory while its bytes stream past', () => {
    const seen: OversizedPacket[] = [];
    const framer = new PacketFramer(
      { onPacket: () => assert.fail('no packet'), onOversized: (i) => seen.push(i) },
      1024,
    );
    const chunk = Buffer.alloc(64 * 1024, 0xee);
    const sizes = allocations(() => {
      framer.push(Buffer.from([0xff, 0xff, 0xff, 0xff, T.WRITE, 0, 0, 0, 42]));
      for (let i = 0; i < 64; i++) framer.push(chunk); // 4 MiB of the declared 4 GiB
    });
    assert.deepEqual(sizes, []);
    assert.deepEqual(seen, [], 'not reported before its last byte has passed');
    assert.ok(framer.pendingBytes > 0);
  });
});

describe('PacketFramer with onOversized skips exactly the oversized packet, then carries on', () => {
  const max = 128;
  const small = packet.filter((p) => encodePacketToBuffer(p).length - 4 <= max);
  const big = fc
    .tuple(u32, fc.integer({ min: max, max: 4 * max }), fc.constantFrom(T.WRITE, T.DATA, T.EXTENDED_REPLY))
    .map(([id, n, type]): Packet => {
      const data = Buffer.alloc(n, 0x5a);
      if (type === T.WRITE) return { type, id, handle: Buffer.from([1]), offset: 0, data };
      return { type, id, data };
    });

  it('under random splits the other packets arrive in order and the big one is reported once, in its place', () => {
    fc.assert(
      fc.property(
        fc.array(small, { maxLength: 5 }),
        big,
        fc.array(small, { maxLength: 5 }),
        cutPoints,
        (before, huge, after, points) => {
          const hugeWire = encodePacketToBuffer(huge);
          assert.ok(hugeWire.length - 4 > max);
          const stream = Buffer.concat([
            ...before.map(encodePacketToBuffer),
            hugeWire,
            ...after.map(encodePacketToBuffer),
          ]);
          const { events, framer } = run(cut(stream, points), max, true);
          const expected: Event[] = [
            ...before.map((p) => ({ packet: p })),
            { oversized: { length: hugeWire.length - 4, type: huge.type, id: (huge as { id: number }).id } },
            ...after.map((p) => ({ packet: p })),
          ];
          assert.deepEqual(events, expected);
          assert.equal(framer.pendingBytes, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('one byte at a time, with two oversized packets in a row', () => {
    const a: Packet = { type: T.WRITE, id: 7, handle: Buffer.from([1]), offset: 0, data: Buffer.alloc(200) };
    const b: Packet = { type: T.DATA, id: 8, data: Buffer.alloc(300) };
    const c: Packet = { type: T.CLOSE, id: 9, handle: Buffer.from([1]) };
    const stream = Buffer.concat([a, b, c].map(encodePacketToBuffer));
    const { events } = run(bytewise(stream), max, true);
    assert.deepEqual(events, [
      { oversized: { length: 1 + 4 + 5 + 8 + 4 + 200, type: T.WRITE, id: 7 } },
      { oversized: { length: 1 + 4 + 4 + 300, type: T.DATA, id: 8 } },
      { packet: c },
    ]);
  });
  it('an oversized INIT or VERSION is reported without a request id', () => {
    const v: Packet = { type: T.VERSION, version: 3, extensions: [{ name: 'x'.repeat(200), data: Buffer.alloc(0) }] };
    const { events } = run([encodePacketToBuffer(v)], max, true);
    assert.deepEqual(events, [{ oversized: { length: encodePacketToBuffer(v).length - 4, type: T.VERSION } }]);
  });
});

describe('PacketFramer with onSplitPacket: packets spanning chunks as views of them', () => {
  /** Feed `chunks`; record each packet's bytes, whether it came split, and whether every piece is a view of a chunk. */
  function runSplit(chunks: Buffer[], splitFrom: number) {
    const got: { bytes: Buffer; split: boolean; views: boolean }[] = [];
    const isView = (p: Buffer) => chunks.some((c) => c.buffer === p.buffer);
    const framer = new PacketFramer({
      onPacket: (payload) => got.push({ bytes: Buffer.from(payload), split: false, views: isView(payload) }),
      onSplitPacket: (pieces, length) => {
        assert.equal(
          pieces.reduce((n, p) => n + p.length, 0),
          length,
        );
        got.push({ bytes: Buffer.concat(pieces), split: true, views: pieces.every(isView) });
      },
      splitFrom,
    });
    for (const c of chunks) framer.push(c);
    return { got, framer };
  }
  /** Each chunk in its own memory (as a socket delivers them), so that a view can be told from a copy. */
  const own = (chunks: Buffer[]) => chunks.map((c) => Buffer.from(c));

  it('the same packets, in order, under every split; split ones only from splitFrom bytes, and never copied', () => {
    fc.assert(
      fc.property(packets, cutPoints, fc.integer({ min: 1, max: 64 }), (ps, points, splitFrom) => {
        const wires = ps.map(encodePacketToBuffer);
        const { got, framer } = runSplit(own(cut(Buffer.concat(wires), points)), splitFrom);
        assert.deepEqual(
          got.map((g) => g.bytes),
          wires.map((w) => w.subarray(4)),
        );
        for (const g of got) {
          if (g.split) {
            assert.ok(g.bytes.length >= splitFrom, 'a packet under splitFrom is never split');
            assert.ok(g.views, 'split pieces are views of the chunks, not copies');
          }
        }
        assert.equal(framer.pendingBytes, 0);
      }),
      { numRuns: 300 },
    );
  });
  it('a large WRITE cut in a few chunks arrives split, in pieces that are views of each chunk', () => {
    const wire = encodePacketToBuffer({
      type: T.WRITE,
      id: 7,
      handle: Buffer.from('h'),
      offset: 0,
      data: Buffer.alloc(200 * 1024, 5),
    });
    const chunks = own([wire.subarray(0, 1000), wire.subarray(1000, 70000), wire.subarray(70000)]);
    const { got } = runSplit(chunks, 8 * 1024);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.split && got[0]!.views);
    assert.deepEqual(got[0]!.bytes, wire.subarray(4));
  });
  it('a packet trickled in tiny chunks is gathered by copying (its views would hold far more memory than its bytes)', () => {
    const wire = encodePacketToBuffer({
      type: T.WRITE,
      id: 1,
      handle: Buffer.from('h'),
      offset: 0,
      data: Buffer.alloc(20 * 1024, 9),
    });
    // every 100-byte piece in its own 64 KiB allocation, as socket reads of a slow sender could be
    const chunks: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 100) {
      const mem = Buffer.alloc(64 * 1024);
      const n = wire.copy(mem, 0, at, Math.min(wire.length, at + 100));
      chunks.push(mem.subarray(0, n));
    }
    const { got } = runSplit(chunks, 8 * 1024);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.split, false, 'delivered whole through onPacket');
    assert.deepEqual(got[0]!.bytes, wire.subarray(4));
  });
});
