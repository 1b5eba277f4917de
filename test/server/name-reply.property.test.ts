/**
 * NameReplyWriter writes NAME replies straight into wire bytes: for any entries (any filenames,
 * any attributes, owner names or numbers) and any budget, its bytes are exactly what encodePacket
 * gives for the NAME packet built the plain way (attrsFromStats, formatLongname), holding the same
 * entries it accepted — and it accepts them in order while they fit, the first one always.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type NameEntry } from '../../src/protocol/packets.js';
import { formatLongname } from '../../src/protocol/longname.js';
import { attrsFromStats } from '../../src/server/context.js';
import type { FileStats } from '../../src/server/fs/file-system.js';
import { NameReplyWriter, type OwnerNames } from '../../src/server/name-reply.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const stats: fc.Arbitrary<FileStats> = fc.record({
  mode: u32,
  size: fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.maxSafeNat()),
  uid: fc.oneof(fc.integer({ min: 0, max: 5 }), u32),
  gid: fc.oneof(fc.integer({ min: 0, max: 5 }), u32),
  // seconds, fractional too, some out of uint32 range (clamped alike)
  atime: fc.oneof(fc.double({ min: -1e10, max: 1e10, noNaN: true }), fc.integer({ min: 0, max: 2e9 })),
  mtime: fc.oneof(
    fc.double({ min: -1e10, max: 1e10, noNaN: true }),
    fc.integer({ min: Math.floor(Date.now() / 1000) - 400 * 86400, max: Math.floor(Date.now() / 1000) + 7200 }),
  ),
  nlink: fc.integer({ min: 0, max: 100000 }),
  dev: fc.nat(),
  ino: fc.nat(),
});
const filename = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
);
const owners: OwnerNames = {
  userName: (uid) => (uid === 0 ? 'root' : uid === 1 ? 'ünïcode-user-longer-than-eight' : undefined),
  groupName: (gid) => (gid === 0 ? 'wheel' : gid === 2 ? 'g' : undefined),
};

function plainEntry(name: string, st: FileStats): NameEntry {
  const attrs = attrsFromStats(st);
  const longname = formatLongname(name, attrs, {
    user: owners.userName!(st.uid),
    group: owners.groupName!(st.gid),
    links: st.nlink,
  });
  return { filename: name, longname, attrs };
}

describe('NameReplyWriter', () => {
  it('writes exactly the bytes encodePacket gives for the entries it takes, in order, while they fit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(filename, stats), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 200, max: 8000 }),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 50 })),
        u32,
        (entries, budget, maxNames, id) => {
          const w = new NameReplyWriter(id, budget, maxNames, owners);
          const taken: NameEntry[] = [];
          for (const [name, st] of entries) {
            const plain = plainEntry(name, st);
            const size = encodePacketToBuffer({ type: T.NAME, id, entries: [...taken, plain] }).length;
            const fits = taken.length === 0 || (size <= budget && taken.length < maxNames);
            assert.equal(w.add(name, st), fits);
            if (!fits) break;
            taken.push(plain);
          }
          assert.equal(w.count, taken.length);
          const wire = w.finish().wire;
          assert.deepEqual(wire, encodePacketToBuffer({ type: T.NAME, id, entries: taken }));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes a first entry larger than the budget, and nothing after it', () => {
    const st: FileStats = { mode: 0o100644, size: 1, uid: 0, gid: 0, atime: 0, mtime: 0, nlink: 1, dev: 0, ino: 0 };
    const w = new NameReplyWriter(7, 100, Infinity, {});
    assert.equal(w.add('x'.repeat(500), st), true);
    assert.equal(w.add('y', st), false);
    const wire = w.finish().wire;
    assert.ok(wire.length > 1000);
    assert.deepEqual(
      wire,
      encodePacketToBuffer({
        type: T.NAME,
        id: 7,
        entries: [
          {
            filename: 'x'.repeat(500),
            longname: formatLongname('x'.repeat(500), attrsFromStats(st), { links: 1 }),
            attrs: attrsFromStats(st),
          },
        ],
      }),
    );
  });
});
