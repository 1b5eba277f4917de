import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  median,
  range,
  mibPerSecond,
  perSecond,
  ratio,
  formatNumber,
  formatRatio,
  formatBytes,
  parseSize,
  MiB,
} from '../../bench/lib/stats.js';
import { Prng, seedFrom } from '../../bench/lib/prng.js';
import { renderTable, renderMarkdownTable } from '../../bench/lib/text-table.js';

test('median of odd and even lists, ignoring non-finite values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, NaN, 1, Infinity, 3]), 3);
  assert.ok(Number.isNaN(median([])));
  assert.deepEqual(range([3, NaN, 1, 7]), [1, 7]);
});

test('median lies between min and max, and is order independent', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }), {
        minLength: 1,
        maxLength: 50,
      }),
      (xs) => {
        const m = median(xs);
        assert.ok(m >= Math.min(...xs) && m <= Math.max(...xs));
        // === (not Object.is): -0 and 0 sort as equals, so either may land in the middle
        const reversed = median([...xs].reverse());
        assert.ok(reversed === m, `median of the reversed list ${reversed} != ${m}`);
        // at least half of the values are <= m and at least half are >= m
        assert.ok(xs.filter((x) => x <= m).length * 2 >= xs.length);
        assert.ok(xs.filter((x) => x >= m).length * 2 >= xs.length);
      },
    ),
  );
});

test('rates and ratios', () => {
  assert.equal(mibPerSecond(256 * MiB, 2), 128);
  assert.equal(perSecond(2000, 4), 500);
  assert.equal(ratio(90, 100), 0.9);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 3)));
  assert.ok(Number.isNaN(mibPerSecond(1, 0)));
});

test('formatting for the table', () => {
  assert.equal(formatNumber(1234.5), '1,235');
  assert.equal(formatNumber(123.4), '123');
  assert.equal(formatNumber(12.34), '12.3');
  assert.equal(formatNumber(1.234), '1.23');
  assert.equal(formatNumber(NaN), '-');
  assert.equal(formatRatio(0.934, 'percent'), '93%');
  assert.equal(formatRatio(2.5), '2.50x');
  assert.equal(formatRatio(NaN), '-');
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(256 * MiB), '256 MiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('parseSize reads k/m/g suffixes and rejects junk', () => {
  assert.equal(parseSize('4k'), 4096);
  assert.equal(parseSize('256MiB'), 256 * MiB);
  assert.equal(parseSize('32m'), 32 * MiB);
  assert.equal(parseSize('1.5k'), 1536);
  assert.equal(parseSize('100'), 100);
  assert.throws(() => parseSize('lots'));
  assert.throws(() => parseSize('-1k'));
});

test('PRNG: same seed same bytes, any split of fills gives the same stream', () => {
  fc.assert(
    fc.property(fc.integer(), fc.array(fc.nat({ max: 300 }), { maxLength: 12 }), (seed, cuts) => {
      const whole = new Prng(seed).bytes(4000);
      const parts = new Prng(seed);
      const pieced = Buffer.alloc(4000);
      let off = 0;
      for (const c of cuts) {
        const end = Math.min(4000, off + c);
        parts.fill(pieced.subarray(off, end));
        off = end;
      }
      parts.fill(pieced.subarray(off));
      assert.deepEqual(pieced, whole);
    }),
    { numRuns: 60 },
  );
  assert.notDeepEqual(new Prng(1).bytes(64), new Prng(2).bytes(64));
  assert.notEqual(seedFrom(7, 'd00/f0001'), seedFrom(7, 'd00/f0002'));
});

test('PRNG output is not trivially patterned', () => {
  const b = new Prng(12345).bytes(1 << 16);
  const counts = new Array(256).fill(0);
  for (const x of b) counts[x]++;
  // each byte value appears roughly 256 times; a broken generator (zeros, repeats) fails this
  for (const c of counts) assert.ok(c > 150 && c < 380, `byte frequency ${c}`);
});

test('text tables pad columns and align numbers right', () => {
  const t = renderTable(
    ['name', 'MiB/s'],
    [
      ['a', '1.5'],
      ['long name', '123'],
    ],
  );
  const lines = t.trimEnd().split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[0], 'name       MiB/s');
  assert.equal(lines[1], '---------  -----');
  assert.equal(lines[2], 'a            1.5');
  assert.equal(lines[3], 'long name    123');
  const md = renderMarkdownTable(['name', 'MiB/s'], [['a|b', '1']]);
  assert.equal(md, '| name | MiB/s |\n|:---|---:|\n| a\\|b | 1 |\n');
});
