/** Round trips for every packet type, ATTRS and every extension body; WRITE/DATA payloads are not copied. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  allPacketTypes,
  attrs,
  blob,
  extensionReplies,
  extensionRequests,
  handle,
  packet,
  packetByType,
  u32,
  u64,
} from './arbitraries.js';
import { PacketType as T, packetTypeName } from '../../src/protocol/constants.js';
import { Reader, Writer } from '../../src/protocol/bytes.js';
import { attrsFlags, readAttrs, writeAttrs } from '../../src/protocol/attrs.js';
import {
  decodePacket,
  encodePacket,
  encodePacketToBuffer,
  hasRequestId,
  peekHeader,
  type Packet,
} from '../../src/protocol/packets.js';
import {
  decodeExtensionReply,
  decodeExtensionRequest,
  encodeExtensionReply,
  encodeExtensionRequest,
  type ExtensionKey,
} from '../../src/protocol/extensions.js';

const runs = { numRuns: 150 };

describe('round trip: decode(encode(p)) equals p', () => {
  for (const type of allPacketTypes) {
    it(packetTypeName(type), () => {
      fc.assert(
        fc.property(packetByType[type] as fc.Arbitrary<Packet>, (p) => {
          const wire = encodePacketToBuffer(p);
          assert.equal(wire.readUInt32BE(0), wire.length - 4, 'length prefix counts the bytes after it');
          assert.equal(wire[4], p.type, 'type byte');
          if (hasRequestId(p.type)) assert.equal(wire.readUInt32BE(5), (p as { id: number }).id, 'request id');
          assert.deepEqual(decodePacket(wire.subarray(4)), p);
        }),
        runs,
      );
    });
  }
  it('encodePacket parts, concatenated, are encodePacketToBuffer; peekHeader reads type and id', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const parts = encodePacket(p);
        const whole = encodePacketToBuffer(p);
        assert.deepEqual(Buffer.concat(parts), whole);
        const head = peekHeader(whole.subarray(4));
        assert.equal(head.type, p.type);
        assert.equal(head.id, 'id' in p ? p.id : undefined);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ATTRS', () => {
  it('writeAttrs/readAttrs round trip and the flags word says exactly which fields follow', () => {
    fc.assert(
      fc.property(attrs, (a) => {
        const w = new Writer(8);
        writeAttrs(w, a);
        const buf = w.finish();
        const flags = buf.readUInt32BE(0);
        assert.equal(flags, attrsFlags(a));
        let expected = 4;
        if (a.size !== undefined) expected += 8;
        if (a.uid !== undefined) expected += 8;
        if (a.permissions !== undefined) expected += 4;
        if (a.atime !== undefined) expected += 8;
        if (a.extended)
          expected += 4 + a.extended.reduce((n, e) => n + 8 + Buffer.byteLength(e.type) + e.data.length, 0);
        assert.equal(buf.length, expected, 'no byte more or less than the flags announce');
        const r = new Reader(buf);
        assert.deepEqual(readAttrs(r), a);
        r.end();
      }),
      { numRuns: 300 },
    );
  });
  it('uid without gid, or atime without mtime, is refused on encode (they share one flag)', () => {
    assert.throws(() => writeAttrs(new Writer(), { uid: 1 }), TypeError);
    assert.throws(() => writeAttrs(new Writer(), { gid: 1 }), TypeError);
    assert.throws(() => writeAttrs(new Writer(), { atime: 1 }), TypeError);
    assert.throws(() => writeAttrs(new Writer(), { mtime: 1 }), TypeError);
  });
  it('an empty extended list is not put on the wire', () => {
    assert.equal(attrsFlags({ extended: [] }), 0);
  });
});

describe('extension bodies round trip', () => {
  for (const key of Object.keys(extensionRequests) as ExtensionKey[]) {
    it(`${key} request`, () => {
      fc.assert(
        fc.property(extensionRequests[key] as fc.Arbitrary<object>, (q) => {
          const data = encodeExtensionRequest(key, q as never);
          assert.deepEqual(decodeExtensionRequest(key, data), q);
        }),
        runs,
      );
    });
  }
  for (const key of Object.keys(extensionReplies) as (keyof typeof extensionReplies)[]) {
    it(`${key} reply`, () => {
      fc.assert(
        fc.property(extensionReplies[key] as fc.Arbitrary<object>, (rep) => {
          const data = encodeExtensionReply(key, rep as never);
          assert.deepEqual(decodeExtensionReply(key, data), rep);
        }),
        runs,
      );
    });
  }
});

describe('WRITE and DATA payloads are never copied', () => {
  const payload = blob(4096).filter((d) => d.length > 0);
  it("encodePacket(WRITE) returns the header, then the caller's payload buffer itself", () => {
    fc.assert(
      fc.property(u32, handle, u64, payload, (id, h, offset, data) => {
        const parts = encodePacket({ type: T.WRITE, id, handle: h, offset, data });
        assert.equal(parts.length, 2);
        assert.equal(parts[1], data, 'same object, not a copy');
        assert.equal(parts[0]!.length, 4 + 1 + 4 + 4 + h.length + 8 + 4, 'the header holds no payload byte');
        assert.equal(parts[0]!.readUInt32BE(0), parts[0]!.length - 4 + data.length);
      }),
      runs,
    );
  });
  it("encodePacket(DATA) returns the header, then the caller's payload buffer itself", () => {
    fc.assert(
      fc.property(u32, payload, (id, data) => {
        const parts = encodePacket({ type: T.DATA, id, data });
        assert.equal(parts.length, 2);
        assert.equal(parts[1], data, 'same object, not a copy');
        assert.equal(parts[0]!.length, 4 + 1 + 4 + 4);
        assert.equal(parts[0]!.readUInt32BE(0), 9 + data.length);
      }),
      runs,
    );
  });
  it('a payload that is a view into a larger buffer is passed on as that same view', () => {
    const big = Buffer.alloc(1 << 16, 7);
    const view = big.subarray(100, 100 + 32768);
    const parts = encodePacket({ type: T.DATA, id: 1, data: view });
    assert.equal(parts[1], view);
    assert.equal(parts[1]!.buffer, big.buffer);
  });
  it('an empty payload gives a single buffer with a zero data length', () => {
    const parts = encodePacket({ type: T.DATA, id: 1, data: Buffer.alloc(0) });
    assert.equal(parts.length, 1);
    assert.equal(parts[0]!.readUInt32BE(9), 0);
  });
  it('decoding WRITE and DATA hands out views into the payload, not copies', () => {
    const wire = encodePacketToBuffer({
      type: T.WRITE,
      id: 1,
      handle: Buffer.from([1]),
      offset: 0,
      data: Buffer.alloc(64, 9),
    });
    const p = decodePacket(wire.subarray(4));
    assert.equal(p.type, T.WRITE);
    if (p.type === T.WRITE) assert.equal(p.data.buffer, wire.buffer);
  });
});
