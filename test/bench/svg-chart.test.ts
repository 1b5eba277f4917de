import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderLineChart, niceTicks, escapeXml, MIN_TICK_STEP } from '../../bench/lib/svg-chart.js';

function polylines(svg: string): { name: string; points: [number, number][] }[] {
  return [...svg.matchAll(/<polyline class="series" data-name="([^"]*)"[^>]*points="([^"]*)"/g)].map((m) => ({
    name: m[1]!,
    points: m[2]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]),
  }));
}

test('a line chart has one polyline per series, a legend entry per name, and a title', () => {
  const svg = renderLineChart({
    title: 'LARGE up <RTT 20 ms>',
    xLabel: 'requests in flight',
    yLabel: 'MiB/s',
    xScale: 'log2',
    series: [
      {
        name: '32 KiB',
        points: [
          { x: 1, y: 10 },
          { x: 4, y: 40 },
          { x: 16, y: 90 },
        ],
      },
      {
        name: '256 KiB',
        points: [
          { x: 1, y: 50 },
          { x: 4, y: 120 },
          { x: 16, y: 200 },
        ],
      },
    ],
    reference: { y: 250, label: 'raw channel' },
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('LARGE up &lt;RTT 20 ms&gt;'), 'title is escaped');
  const lines = polylines(svg);
  assert.deepEqual(
    lines.map((l) => l.name),
    ['32 KiB', '256 KiB'],
  );
  assert.ok(svg.includes('class="reference"'));
  // log2 x: 1, 4, 16 are evenly spaced
  const xs = lines[0]!.points.map((p) => p[0]);
  assert.ok(Math.abs(xs[1]! - xs[0]! - (xs[2]! - xs[1]!)) < 0.2);
  // higher y is drawn higher (smaller SVG y), within one series and across series
  const ys = lines[0]!.points.map((p) => p[1]);
  assert.ok(ys[0]! > ys[1]! && ys[1]! > ys[2]!);
  assert.ok(lines[1]!.points[2]![1] < lines[0]!.points[2]![1]);
});

/**
 * Doubles a chart may be handed, subnormals drawn explicitly: fast-check's fc.double reaches them only
 * now and then, which made a hang in niceTicks show up in about one run in three.
 */
const SUBNORMAL_MAX = 2.2250738585072014e-308; // the smallest normal double; below it, subnormals
const subnormal = fc.oneof(
  fc.constantFrom(
    Number.MIN_VALUE,
    2 * Number.MIN_VALUE,
    1e-320,
    1e-310,
    SUBNORMAL_MAX / 2,
    SUBNORMAL_MAX - Number.MIN_VALUE,
  ),
  fc
    .double({ min: Number.MIN_VALUE, max: SUBNORMAL_MAX, noNaN: true, noDefaultInfinity: true })
    .filter((x) => x < SUBNORMAL_MAX),
);
const anyDouble = fc.oneof(
  subnormal,
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    -1,
    -Number.MIN_VALUE,
    Number.MAX_VALUE,
    1e308,
    1.5e308,
    1e-300,
    1e-301,
  ),
);

test('the subnormal arbitrary really draws subnormals', () => {
  const drawn = fc.sample(subnormal, 200);
  assert.ok(
    drawn.every((x) => x > 0 && x < SUBNORMAL_MAX),
    'every value is subnormal',
  );
  assert.ok(new Set(drawn).size > 10, 'and many different ones');
});

test('every point lands inside the chart area, whatever the data (subnormal values included)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.array(
          fc.record({
            x: fc.integer({ min: 1, max: 1024 }),
            y: fc.oneof(subnormal, fc.double({ min: 0, max: 1e6, noNaN: true })),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        { minLength: 1, maxLength: 5 },
      ),
      (sets) => {
        const svg = renderLineChart({
          title: 't',
          xLabel: 'x',
          yLabel: 'y',
          xScale: 'log2',
          width: 600,
          height: 400,
          series: sets.map((points, i) => ({ name: `s${i}`, points })),
        });
        for (const l of polylines(svg)) {
          for (const [x, y] of l.points) {
            assert.ok(x >= 0 && x <= 600 && y >= 0 && y <= 400, `point ${x},${y} outside`);
            assert.ok(Number.isFinite(x) && Number.isFinite(y));
          }
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('a chart whose largest value is subnormal still renders', () => {
  const svg = renderLineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [
      {
        name: 's',
        points: [
          { x: 1, y: 0 },
          { x: 2, y: Number.MIN_VALUE },
        ],
      },
    ],
  });
  assert.equal(polylines(svg).length, 1);
});

test('nice ticks cover the maximum in steps of 1, 2 or 5 x 10^n', () => {
  assert.deepEqual(niceTicks(100), [0, 20, 40, 60, 80, 100]);
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 1e9, noNaN: true }), (max) => {
      const t = niceTicks(max);
      assert.equal(t[0], 0);
      assert.ok(t[t.length - 1]! >= max * 0.999);
      assert.ok(t.length >= 2 && t.length <= 12);
      const step = t[1]!;
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      assert.ok(
        [1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-9),
        `step ${step}`,
      );
    }),
  );
  assert.equal(escapeXml(`a<b & "c"`), 'a&lt;b &amp; &quot;c&quot;');
});

test('nice ticks return for any double: subnormal, zero, negative, NaN, infinite, huge', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(-5), [0, 1]);
  assert.deepEqual(niceTicks(NaN), [0, 1]);
  assert.deepEqual(niceTicks(Infinity), [0, 1]);
  assert.deepEqual(niceTicks(-Infinity), [0, 1]);
  assert.deepEqual(niceTicks(Number.MIN_VALUE), [0, MIN_TICK_STEP]);
  fc.assert(
    fc.property(anyDouble, (max) => {
      const t = niceTicks(max);
      assert.equal(t[0], 0);
      assert.ok(t.length >= 2 && t.length <= 12, `${t.length} ticks for ${max}`);
      assert.ok(
        t.every((v) => Number.isFinite(v)),
        `finite ticks for ${max}`,
      );
      for (let i = 1; i < t.length; i++) assert.ok(t[i]! > t[i - 1]!, `increasing ticks for ${max}: ${t.join(', ')}`);
      if (max > 0 && Number.isFinite(max)) assert.ok(t[t.length - 1]! >= max, `ticks cover ${max}`);
    }),
    { numRuns: 2000 },
  );
});

test("a chart note is wrapped under the title, and each point's spread is a bar from its lowest to highest run", () => {
  const note =
    "raw SSH channel = a reference, not a ceiling: sftp-wire raises its SSH receive window to 16 MiB, the raw channel keeps ssh2's 2 MiB, so downloads can read above it";
  const svg = renderLineChart({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    note,
    width: 600,
    series: [
      {
        name: 's',
        points: [
          { x: 1, y: 10, lo: 8, hi: 30 },
          { x: 2, y: 20 },
        ],
      },
    ],
    reference: { y: 15, label: 'raw SSH channel' },
  });
  const lines = [...svg.matchAll(/<text class="note"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
  assert.ok(lines.length >= 2, 'wrapped');
  assert.equal(lines.join(' ').replace(/&apos;/g, "'"), note);
  const bars = [...svg.matchAll(/<line class="spread" x1="([\d.]+)" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/g)];
  assert.equal(bars.length, 1, 'only the point with a spread');
  assert.ok(Number(bars[0]![2]) > Number(bars[0]![3]), 'lo is drawn below hi');
  // the axis reaches the highest run, not only the median
  const top = Math.max(...[...svg.matchAll(/dominant-baseline="middle">([\d.]+)<\/text>/g)].map((m) => Number(m[1])));
  assert.ok(top >= 30, `y axis up to ${top}`);
});

test('wrapText keeps every word, in order, within the width where words allow', async () => {
  const { wrapText } = await import('../../bench/lib/svg-chart.js');
  fc.assert(
    fc.property(
      fc.array(fc.stringMatching(/^[a-z]{1,15}$/), { maxLength: 40 }),
      fc.integer({ min: 5, max: 80 }),
      (words, width) => {
        const lines = wrapText(words.join(' '), width);
        assert.deepEqual(lines.join(' ').split(' ').filter(Boolean), words);
        for (const l of lines) assert.ok(l.length <= width || !l.includes(' '), l);
      },
    ),
  );
});
