import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderLineChart, niceTicks, escapeXml } from '../../bench/svg-chart.js';

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
      { name: '32 KiB', points: [{ x: 1, y: 10 }, { x: 4, y: 40 }, { x: 16, y: 90 }] },
      { name: '256 KiB', points: [{ x: 1, y: 50 }, { x: 4, y: 120 }, { x: 16, y: 200 }] },
    ],
    reference: { y: 250, label: 'raw channel' },
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes('LARGE up &lt;RTT 20 ms&gt;'), 'title is escaped');
  const lines = polylines(svg);
  assert.deepEqual(lines.map((l) => l.name), ['32 KiB', '256 KiB']);
  assert.ok(svg.includes('class="reference"'));
  // log2 x: 1, 4, 16 are evenly spaced
  const xs = lines[0]!.points.map((p) => p[0]);
  assert.ok(Math.abs((xs[1]! - xs[0]!) - (xs[2]! - xs[1]!)) < 0.2);
  // higher y is drawn higher (smaller SVG y), within one series and across series
  const ys = lines[0]!.points.map((p) => p[1]);
  assert.ok(ys[0]! > ys[1]! && ys[1]! > ys[2]!);
  assert.ok(lines[1]!.points[2]![1] < lines[0]!.points[2]![1]);
});

test('every point lands inside the chart area, whatever the data', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.record({ x: fc.integer({ min: 1, max: 1024 }), y: fc.double({ min: 0, max: 1e6, noNaN: true }) }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
      (sets) => {
        const svg = renderLineChart({
          title: 't', xLabel: 'x', yLabel: 'y', xScale: 'log2', width: 600, height: 400,
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

test('nice ticks cover the maximum in steps of 1, 2 or 5 x 10^n', () => {
  assert.deepEqual(niceTicks(100), [0, 20, 40, 60, 80, 100]);
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 1e9, noNaN: true }), (max) => {
      const t = niceTicks(max);
      assert.equal(t[0], 0);
      assert.ok(t[t.length - 1]! >= max * 0.999);
      assert.ok(t.length >= 2 && t.length <= 12);
    }),
  );
  assert.equal(escapeXml(`a<b & "c"`), 'a&lt;b &amp; &quot;c&quot;');
});
