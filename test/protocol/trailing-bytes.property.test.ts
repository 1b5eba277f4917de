/**
 * What a packet carries past its last field is ignored, requests and replies alike (as OpenSSH's
 * sftp-server and sftp client do); what a length or count promises is still held to the packet's end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packet } from './arbitraries.js';
import { bytes } from './bytes-literal.js';
import { PacketType as T } from '../../src/protocol/constants.js';
import { decodePacket, encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { SftpProtocolError } from '../../src/protocol/errors.js';

const payloadOf = (p: Packet) => encodePacketToBuffer(p).subarray(4);
/** Types whose last field is "the rest of the packet": bytes appended to them are data, not trailing. */
const openEnded = new Set<number>([T.INIT, T.VERSION, T.EXTENDED, T.EXTENDED_REPLY]);
const fixedLayout = packet.filter((p) => !openEnded.has(p.type));
const extra = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((u) => Buffer.from(u));

describe('trailing bytes after the last field', () => {
  it('any fixed-layout packet with random trailing bytes decodes to the same fields', () => {
    fc.assert(
      fc.property(fixedLayout, extra, (p, tail) => {
        const plain = payloadOf(p);
        assert.deepEqual(decodePacket(Buffer.concat([plain, tail])), decodePacket(plain));
      }),
      { numRuns: 1000 },
    );
  });

  it('a WRITE whose packet is longer than its declared data yields exactly the declared data', () => {
    // The shape pkg/sftp 1.13.5 sends: 4 declared bytes, then 28672 more in the same packet.
    const payload = Buffer.concat([
      bytes`
        06                  # SSH_FXP_WRITE
        00000007            # id
        00000002 6831       # handle "h1"
        0000000000008000    # offset 32768
        00000004 61626364   # data "abcd"
      `,
      Buffer.alloc(28672, 0x7a),
    ]);
    assert.deepEqual(decodePacket(payload), {
      type: T.WRITE,
      id: 7,
      handle: Buffer.from('h1'),
      offset: 32768,
      data: Buffer.from('abcd'),
    });
  });

  it('a STATUS with bytes after its language tag keeps its code, message and tag', () => {
    const payload = bytes`
      65 00000003 00000002   # STATUS id 3, NO_SUCH_FILE
      00000002 6e6f          # message "no"
      00000002 656e          # lang "en"
      ffff                   # trailing
    `;
    assert.deepEqual(decodePacket(payload), { type: T.STATUS, id: 3, code: 2, message: 'no', lang: 'en' });
  });
});

describe('lengths still keep their promise', () => {
  it('a WRITE whose data length runs past the packet fails, whatever follows the short data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.uint8Array({ maxLength: 16 }),
        (data, over, tail) => {
          const p = payloadOf({ type: T.WRITE, id: 1, handle: Buffer.from('h'), offset: 0, data: Buffer.from(data) });
          const lengthAt = p.length - data.length - 4;
          const bad = Buffer.concat([p, Buffer.from(tail)]);
          bad.writeUInt32BE(data.length + tail.length + over, lengthAt);
          assert.throws(
            () => decodePacket(bad),
            (e: unknown) => e instanceof SftpProtocolError && /points past the end/.test(e.message),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any fixed-layout packet cut anywhere before its last field ends fails', () => {
    fc.assert(
      fc.property(fixedLayout, (p) => {
        const full = payloadOf(p);
        // STATUS may end after its code or its message; every other cut must fail.
        const mayEnd = new Set<number>();
        if (p.type === T.STATUS) {
          mayEnd.add(9);
          mayEnd.add(13 + Buffer.byteLength(p.message));
        }
        for (let k = 0; k < full.length; k++) {
          if (mayEnd.has(k)) continue;
          assert.throws(() => decodePacket(full.subarray(0, k)), SftpProtocolError, `cut at ${k}/${full.length}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a NAME whose count promises more entries than the packet holds fails, trailing bytes or not', () => {
    const payload = bytes`
      68 00000001 00000002                     # NAME id 1, count 2
      00000001 61 00000001 61 00000000         # one entry: "a", "a", no attrs
      00000000 00                              # 5 bytes: too short to be the second entry
    `;
    assert.throws(() => decodePacket(payload), SftpProtocolError);
  });
});
