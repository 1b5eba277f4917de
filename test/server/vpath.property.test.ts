import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import path from 'node:path';
import { normalizeVirtual } from '../../src/server/fs/vpath.js';

/** The rule written out the slow way: normalise "/" + p, one leading slash, no trailing one. */
function reference(p: string): string {
  if (p.includes('\0')) throw Object.assign(new Error('NUL'), { code: 'EINVAL' });
  const s = path.posix.normalize('/' + p).replace(/^\/+/, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

const pathText = fc
  .array(fc.constantFrom('/', '.', '..', 'a', 'b.', '.c', '\0', ' ', '…'), { maxLength: 12 })
  .map((parts) => parts.join(''));

describe('normalizeVirtual', () => {
  it('gives what normalising "/" + p gives, for every path (its shortcut for normal paths included)', () => {
    fc.assert(
      fc.property(fc.oneof(pathText, fc.string()), (p) => {
        let want: string | undefined;
        try {
          want = reference(p);
        } catch {
          assert.throws(() => normalizeVirtual(p), { code: 'EINVAL' });
          return;
        }
        assert.equal(normalizeVirtual(p), want);
        assert.equal(normalizeVirtual(want), want);
      }),
      { numRuns: 5000 },
    );
  });
});
