/**
 * Hostile input: every truncation, corruption or random payload decodes to a valid packet or fails with
 * SftpProtocolError — never a RangeError, TypeError or any other exception — and absurd counts and
 * lengths fail at the field that declares them, before anything is sized by them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allPacketTypes, extensionReplies, extensionRequests, packet } from './arbitraries.js';
import { bytes } from './bytes-literal.js';
import { PacketType as T } from '../../src/protocol/constants.js';
import {
  decodePacket,
  encodePacket,
  encodePacketToBuffer,
  peekHeader,
  type Packet,
} from '../../src/protocol/packets.js';
import { SftpProtocolError } from '../../src/protocol/errors.js';
import {
  decodeExtensionReply,
  decodeExtensionRequest,
  encodeExtensionReply,
  encodeExtensionRequest,
  type ExtensionKey,
} from '../../src/protocol/extensions.js';

/** Decode, and insist that any failure is an SftpProtocolError; a success must be a packet we can encode again. */
function decodeOrTypedError(payload: Buffer): Packet | SftpProtocolError {
  let p: Packet;
  try {
    p = decodePacket(payload);
  } catch (e) {
    if (e instanceof SftpProtocolError) {
      assert.equal(e.code, 'ERR_SFTP_PROTOCOL');
      if (e.offset !== undefined)
        assert.ok(e.offset >= 0 && e.offset <= payload.length, `offset ${e.offset} inside the packet`);
      return e;
    }
    assert.fail(
      `decodePacket threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} for ${payload.toString('hex')}`,
    );
  }
  encodePacket(p); // a decoded packet is always well-formed enough to encode
  return p;
}
function typedOrValid<R>(fn: () => R, what: string): R | SftpProtocolError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SftpProtocolError) return e;
    assert.fail(`${what} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
}

const payloadOf = (p: Packet) => encodePacketToBuffer(p).subarray(4);
/** Types whose body ends in "the rest of the packet" or optional fields, so some prefixes are valid packets. */
const prefixTolerant = new Set<number>([T.INIT, T.VERSION, T.STATUS, T.EXTENDED, T.EXTENDED_REPLY]);

describe('truncation', () => {
  it('every prefix of a valid payload is a typed error (or, for open-ended types, a valid packet)', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const full = payloadOf(p);
        for (let k = 0; k < full.length; k++) {
          const r = decodeOrTypedError(full.subarray(0, k));
          if (k === 0 || !prefixTolerant.has(p.type)) {
            assert.ok(r instanceof SftpProtocolError, `prefix of ${k}/${full.length} bytes must not decode`);
          }
          if (r instanceof SftpProtocolError && k > 0) {
            assert.match(r.message, /truncated|past the end|cannot fit/);
            assert.equal(r.packetType, p.type, 'the error names the packet type');
          }
        }
      }),
      { numRuns: 300 },
    );
  });
  it('(coverage) the packet arbitrary reaches all 27 types, so the truncation property covers each', () => {
    const samples = fc.sample(packet, { numRuns: 400, seed: 42 });
    for (const type of allPacketTypes)
      assert.ok(
        samples.some((p) => p.type === type),
        `sample covers type ${type}`,
      );
  });
});

describe('corruption', () => {
  it('random byte changes give a valid packet or a typed error', () => {
    fc.assert(
      fc.property(
        packet,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (p, edits) => {
          const buf = Buffer.from(payloadOf(p));
          for (const [pos, v] of edits) buf[pos % buf.length] = v;
          decodeOrTypedError(buf);
        },
      ),
      { numRuns: 1000 },
    );
  });
  it('length fields set to large values give a typed error', () => {
    fc.assert(
      fc.property(packet, fc.nat(), fc.constantFrom(0xffffffff, 0x80000000, 0x7fffffff, 0x10000), (p, at, v) => {
        const buf = Buffer.from(payloadOf(p));
        if (buf.length < 4) return;
        buf.writeUInt32BE(v, at % (buf.length - 3));
        decodeOrTypedError(buf);
      }),
      { numRuns: 500 },
    );
  });
  it('random payloads starting with a known type byte give a valid packet or a typed error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...allPacketTypes), fc.uint8Array({ maxLength: 80 }), (type, tail) => {
        decodeOrTypedError(Buffer.concat([Buffer.from([type]), tail]));
      }),
      { numRuns: 1000 },
    );
  });
  it('fully random payloads, and peekHeader on them, never throw anything but a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
        const buf = Buffer.from(u);
        decodeOrTypedError(buf);
        const head = peekHeader(buf);
        assert.equal(head.type, buf.length > 0 ? buf[0] : -1);
      }),
      { numRuns: 500 },
    );
  });
  it('an unknown type byte is a typed error that names it', () => {
    const known = new Set<number>(allPacketTypes);
    for (let type = 0; type < 256; type++) {
      if (known.has(type)) continue;
      const r = decodeOrTypedError(Buffer.from([type, 0, 0, 0, 1]));
      assert.ok(r instanceof SftpProtocolError);
      assert.match(r.message, new RegExp(`unknown packet type ${type}\\b`));
    }
  });
  it('an empty payload is a typed error', () => {
    assert.ok(decodeOrTypedError(Buffer.alloc(0)) instanceof SftpProtocolError);
  });
});

describe('absurd counts and lengths fail at the field that declares them', () => {
  it('NAME with count 2^32-1 fails at the count (byte 5), before reading or allocating entries', () => {
    const r = decodeOrTypedError(bytes`68 00000001 ffffffff 00000001 "a" 00000000 00000000`);
    assert.ok(r instanceof SftpProtocolError);
    assert.equal(r.offset, 5);
    assert.match(r.message, /name count 4294967295 cannot fit/);
  });
  it('NAME: any count larger than the bytes left can hold fails at the count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (count, rest) => {
        fc.pre(count * 12 > rest.length);
        const head = Buffer.alloc(9);
        head[0] = T.NAME;
        head.writeUInt32BE(count, 5);
        const r = decodeOrTypedError(Buffer.concat([head, rest]));
        assert.ok(r instanceof SftpProtocolError);
        assert.equal(r.offset, 5);
      }),
      { numRuns: 300 },
    );
  });
  it('ATTRS extended_count 2^32-1 fails at the count', () => {
    const r = decodeOrTypedError(bytes`69 00000001 80000000 ffffffff 00000001 "x" 00000000`);
    assert.ok(r instanceof SftpProtocolError);
    assert.equal(r.offset, 9);
    assert.match(r.message, /attrs extended count/);
  });
  it('a string length of 2^32-1 fails at that length field, naming the field', () => {
    const r = decodeOrTypedError(bytes`03 00000001 ffffffff "/tmp"`);
    assert.ok(r instanceof SftpProtocolError);
    assert.equal(r.offset, 5);
    assert.match(r.message, /path length 4294967295 points past the end/);
  });
  it('ATTRS flags with bits version 3 does not define are a typed error', () => {
    const r = decodeOrTypedError(bytes`69 00000001 00000010`);
    assert.ok(r instanceof SftpProtocolError);
    assert.match(r.message, /attrs flags 0x10/);
  });
});

describe('extension bodies under truncation and corruption', () => {
  const keys = Object.keys(extensionRequests) as ExtensionKey[];
  for (const key of keys) {
    it(`${key} request: every prefix and random edits give a value or a typed error`, () => {
      fc.assert(
        fc.property(
          extensionRequests[key] as fc.Arbitrary<object>,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          (q, edits) => {
            const data = encodeExtensionRequest(key, q as never);
            for (let k = 0; k < data.length; k++)
              typedOrValid(() => decodeExtensionRequest(key, data.subarray(0, k)), `${key} request prefix`);
            const bad = Buffer.from(data);
            for (const [pos, v] of edits) if (bad.length > 0) bad[pos % bad.length] = v;
            typedOrValid(() => decodeExtensionRequest(key, bad), `${key} request corrupted`);
            typedOrValid(
              () => decodeExtensionRequest(key, Buffer.concat([data, Buffer.from([1, 2, 3])])),
              `${key} trailing`,
            );
          },
        ),
        { numRuns: 60 },
      );
    });
  }
  for (const key of Object.keys(extensionReplies) as (keyof typeof extensionReplies)[]) {
    it(`${key} reply: every prefix and random edits give a value or a typed error`, () => {
      fc.assert(
        fc.property(
          extensionReplies[key] as fc.Arbitrary<object>,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          (rep, edits) => {
            const data = encodeExtensionReply(key, rep as never);
            for (let k = 0; k < data.length; k++)
              typedOrValid(() => decodeExtensionReply(key, data.subarray(0, k)), `${key} reply prefix`);
            const bad = Buffer.from(data);
            for (const [pos, v] of edits) if (bad.length > 0) bad[pos % bad.length] = v;
            typedOrValid(() => decodeExtensionReply(key, bad), `${key} reply corrupted`);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
  it('random bytes as any extension body give a value or a typed error', () => {
    const replyKeys = Object.keys(extensionReplies) as (keyof typeof extensionReplies)[];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (u) => {
        const data = Buffer.from(u);
        for (const key of keys) typedOrValid(() => decodeExtensionRequest(key, data), `${key} request`);
        for (const key of replyKeys) typedOrValid(() => decodeExtensionReply(key, data), `${key} reply`);
      }),
      { numRuns: 300 },
    );
  });
});
