/**
 * decodeIo, the server's direct decoder of READ and WRITE, agrees with decodePacket: on every packet
 * it decodes it gives decodePacket's object, and it leaves to decodePacket (undefined) every packet
 * that is not a READ or WRITE or that decodePacket refuses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packet, packetByType, u64big } from '../protocol/arbitraries.js';
import { PacketType as T } from '../../src/protocol/constants.js';
import { decodePacket, encodePacketToBuffer } from '../../src/protocol/packets.js';
import { decodeIo } from '../../src/server/io-decode.js';

/** decodePacket's verdict: the packet, or the error it throws. */
function reference(payload: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: decodePacket(payload) };
  } catch {
    return { ok: false };
  }
}

function agrees(payload: Buffer): void {
  const fast = decodeIo(payload);
  const ref = reference(payload);
  if (fast === undefined) {
    // left to decodePacket: only ever for what is not a well-formed READ or WRITE with an exact offset
    if (ref.ok && (payload[0] === T.READ || payload[0] === T.WRITE)) {
      const offset = (ref.value as { offset: number }).offset;
      assert.fail(`decodeIo left a valid ${payload[0] === T.READ ? 'READ' : 'WRITE'} (offset ${offset}) undecoded`);
    }
    return;
  }
  assert.ok(ref.ok, 'decodeIo decoded a packet decodePacket refuses');
  assert.deepStrictEqual(fast, ref.value);
  if (fast.type === T.WRITE) assert.equal(fast.data.buffer, payload.buffer, 'data is a view of the payload');
}

describe('decodeIo agrees with decodePacket', () => {
  it('every READ and WRITE, including trailing bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(packetByType[T.READ], packetByType[T.WRITE]),
        fc.uint8Array({ maxLength: 8 }),
        (p, extra) => {
          const payload = Buffer.concat([encodePacketToBuffer(p).subarray(4), Buffer.from(extra)]);
          assert.ok(decodeIo(payload), 'decoded directly');
          agrees(payload);
        },
      ),
      { numRuns: 500 },
    );
  });
  it('every other packet is left to decodePacket', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const payload = encodePacketToBuffer(p).subarray(4);
        if (p.type !== T.READ && p.type !== T.WRITE) assert.equal(decodeIo(payload), undefined);
        agrees(payload);
      }),
      { numRuns: 500 },
    );
  });
  it('truncated, corrupted and out-of-range READ/WRITE payloads: the same verdict', () => {
    fc.assert(
      fc.property(
        fc.oneof(packetByType[T.READ], packetByType[T.WRITE]),
        fc.nat(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        u64big,
        (p, cut, flips, offset) => {
          const payload = Buffer.from(encodePacketToBuffer(p).subarray(4));
          const hl = payload.readUInt32BE(5);
          // any uint64 offset, beyond 2^53-1 included
          payload.writeBigUInt64BE(offset, 9 + hl);
          for (const [at, v] of flips) payload[at % payload.length] = v;
          agrees(payload.subarray(0, 1 + (cut % payload.length)));
          agrees(payload);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
