/** formatLongname remembers mode strings and time columns: the same inputs give the same line, whatever came before. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatLongname, modeString } from '../../src/protocol/longname.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The time column computed afresh with Date, independent of the module's caches. */
function expectedWhen(mtime: number, now: number): string {
  const d = new Date(mtime * 1000);
  const recent = mtime <= now + 3600 && now - mtime < 182 * 24 * 3600;
  const p = (n: number) => String(n).padStart(2, '0');
  const when = recent ? `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}` : String(d.getUTCFullYear()).padStart(5);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${when.padStart(5)}`;
}

describe('formatLongname caches', () => {
  it('one mtime shown as recent and then as old (and back) never reuses the wrong column', () => {
    const mtime = 1_700_000_000;
    for (const now of [mtime + 60, mtime + 400 * 86400, mtime + 60, mtime - 7200, mtime + 3000]) {
      const line = formatLongname('f', { permissions: 0o100644, mtime, size: 1 }, { now });
      assert.ok(line.endsWith(` ${expectedWhen(mtime, now)} f`), `${line} at ${now}`);
    }
  });
  it('for any sequence of calls with few distinct mtimes and modes, every line is as computed afresh', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            mtime: fc.constantFrom(0, 86_399, 1_700_000_000, 1_700_000_059, 1_700_000_060, 0xffffffff),
            age: fc.integer({ min: -400 * 86400, max: 400 * 86400 }),
            mode: fc.integer({ min: 0, max: 0xffffffff }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        (calls) => {
          for (const { mtime, age, mode } of calls) {
            const now = mtime + age;
            const line = formatLongname('x', { permissions: mode, mtime, size: 0 }, { now });
            assert.ok(line.startsWith(modeString(mode) + ' '));
            assert.ok(line.endsWith(` ${expectedWhen(mtime, now)} x`), line);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  it('more distinct mtimes than the cache holds still format correctly', () => {
    const now = 1_700_000_000;
    for (let i = 0; i < 2000; i++) {
      const mtime = now - i * 3607;
      assert.ok(formatLongname('y', { mtime }, { now }).endsWith(` ${expectedWhen(mtime, now)} y`));
    }
  });
});
