import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_NAME_BYTES,
  atomicTempMatcher,
  atomicTempName,
  identityHash,
  resumePartialMatcher,
  resumePartialName,
  truncateUtf8,
} from '../../src/client/file/atomic/partial-names.js';

const fileName = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 300 })
  .filter((s) => !s.includes('/') && !s.includes('\0') && s !== '.' && s !== '..');

describe('temporary and partial names', () => {
  it('are hidden, at most 255 bytes, valid UTF-8, and recognized by their matchers', () => {
    fc.assert(
      fc.property(fileName, fc.nat(), fc.nat(), (base, size, mtime) => {
        const a = atomicTempName(base);
        const r = resumePartialName(base, `dir/${base}`, { path: '/src', size, mtime });
        for (const n of [a, r]) {
          assert.ok(n.startsWith('.'));
          assert.ok(Buffer.byteLength(n) <= MAX_NAME_BYTES, n);
          assert.equal(Buffer.from(n).toString('utf8'), n); // no split character
          assert.ok(!n.includes('/'));
        }
        assert.ok(atomicTempMatcher(base).test(a));
        const m = resumePartialMatcher(base);
        if (Buffer.byteLength(base) <= 200) assert.ok(m && m.test(r) && !m.test(a));
      }),
      { numRuns: 300 },
    );
  });

  it('atomic names are unique per call; resume names are deterministic and change with the identity', () => {
    assert.notEqual(atomicTempName('f.txt'), atomicTempName('f.txt'));
    assert.match(atomicTempName('report.csv'), /^\.report\.csv\.[0-9a-f]{8}\.part$/);
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), fc.nat(), (s1, m1, s2, m2) => {
        const id1 = { path: '/a', size: s1, mtime: m1 };
        const id2 = { path: '/a', size: s2, mtime: m2 };
        assert.equal(resumePartialName('f', 'x/f', id1), resumePartialName('f', 'x/f', { ...id1 }));
        if (s1 !== s2 || m1 !== m2) assert.notEqual(identityHash('x/f', id1), identityHash('x/f', id2));
      }),
    );
    const id = { path: '/a', size: 1, mtime: 2 };
    assert.notEqual(identityHash('x/f', id), identityHash('y/f', id), 'the destination is part of the identity');
    assert.notEqual(identityHash('x/f', id), identityHash('x/f', { ...id, path: '/b' }), 'the source path too');
  });

  it('a matcher does not match other files of the folder', () => {
    const m = resumePartialMatcher('a.txt')!;
    assert.ok(!m.test('.a.txt.part'));
    assert.ok(!m.test('.ab.txt.0123abcd.resume'));
    assert.ok(!m.test('.a.txt.0123abcd.resume.ckpt'));
    assert.ok(!m.test('a.txt'));
    assert.ok(m.test('.a.txt.0123abcd.resume'));
    assert.equal(resumePartialMatcher('x'.repeat(300)), undefined, 'a shortened name never marks others stale');
  });

  it('truncateUtf8 keeps whole characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.nat(200), (s, n) => {
        const t = truncateUtf8(s, n);
        assert.ok(Buffer.byteLength(t) <= n || t === s);
        assert.ok(s.startsWith(t));
        assert.equal(Buffer.from(t).toString('utf8'), t);
      }),
    );
  });
});
