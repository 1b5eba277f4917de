// Replies in wire form: DATA framed in place around the file's bytes, small replies merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import {
  dataFrame,
  frameData,
  okStatusesWire,
  statusWire,
  wireBuffers,
  type Reply,
} from '../../src/server/wire-reply.js';
import { okStatus } from '../../src/server/context.js';

test('property: a DATA reply framed in place has the bytes encodePacket gives', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(3000), fc.nat(0xffffffff), (bytes, spare, id) => {
      const { frame, body } = dataFrame(bytes.length + spare);
      body.set(bytes);
      const wire = frameData(frame, id, bytes.length).wire;
      assert.deepEqual(wire, encodePacketToBuffer({ type: T.DATA, id, data: Buffer.from(bytes) }));
    }),
  );
});

test('property: wireBuffers carries every reply in order, merging only small parts and never copying large data', () => {
  const reply = fc.oneof(
    fc
      .record({ id: fc.nat(1000), code: fc.constantFrom(StatusCode.OK, StatusCode.EOF, StatusCode.FAILURE) })
      .map(({ id, code }): Reply => ({ type: T.STATUS, id, code, message: 'm', lang: '' })),
    fc
      .record({ id: fc.nat(1000), n: fc.integer({ min: 0, max: 40_000 }) })
      .map(({ id, n }): Reply => ({ type: T.DATA, id, data: Buffer.alloc(n, id & 0xff) })),
    fc.record({ id: fc.nat(1000), n: fc.integer({ min: 0, max: 40_000 }) }).map(({ id, n }): Reply => {
      const { frame, body } = dataFrame(n);
      body.fill(id & 0xff);
      return frameData(frame, id, n);
    }),
  );
  fc.assert(
    fc.property(fc.array(reply, { maxLength: 12 }), (replies) => {
      const bufs = wireBuffers(replies);
      const expected = Buffer.concat(replies.map((r) => ('wire' in r ? r.wire : encodePacketToBuffer(r as Packet))));
      assert.deepEqual(Buffer.concat(bufs), expected);
      for (let i = 1; i < bufs.length; i++)
        assert.ok(
          bufs[i - 1]!.length > 16 * 1024 || bufs[i]!.length > 16 * 1024,
          'neighbouring small parts are merged',
        );
      for (const r of replies) {
        const big = 'wire' in r ? r.wire : r.type === T.DATA ? r.data : undefined;
        if (big && big.length > 16 * 1024) assert.ok(bufs.includes(big), 'large data passed on as it is');
      }
    }),
  );
});

test('property: statusWire gives the bytes encodePacket gives for any STATUS', () => {
  fc.assert(
    fc.property(
      fc.nat(0xffffffff),
      fc.nat(0xffffffff),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'binary', maxLength: 8 }),
      (id, code, message, lang) => {
        assert.deepEqual(
          statusWire(id, code, message, lang),
          encodePacketToBuffer({ type: T.STATUS, id, code, message, lang }),
        );
      },
    ),
  );
});

test('property: okStatusesWire is the OK STATUS of each id, in order, in one buffer', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(0xffffffff), { maxLength: 70 }), (ids) => {
      const { wire } = okStatusesWire(ids);
      assert.deepEqual(wire, Buffer.concat(ids.map((id) => encodePacketToBuffer(okStatus(id)))));
    }),
  );
});
