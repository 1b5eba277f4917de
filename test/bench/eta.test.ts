import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Eta, formatEta } from '../../bench/suite/eta.js';

test('the ETA projects the phase under way from its own pace and later phases from their guess', () => {
  let now = 0;
  const eta = new Eta(
    [
      { name: 'suite', units: 10 },
      { name: 'sweep', units: 20, guessSecondsPerUnit: 0.5 },
    ],
    () => now,
  );
  assert.equal(eta.label(), 'ETA >= 10s', "the suite is not timed yet: only the sweep's guess counts");
  assert.equal(new Eta([{ name: 'x', units: 3 }], () => now).label(), 'ETA ?');
  eta.begin('suite');
  now = 4000;
  eta.tick('suite', 2);
  // 2 s a run, 8 runs left = 16 s; the sweep: 20 x 0.5 s = 10 s
  assert.deepEqual(eta.remaining(), { seconds: 26, atLeast: false });
  assert.equal(eta.label(), 'ETA 26s');
  eta.setUnits('suite', 4); // two of the planned runs were skipped
  assert.equal(eta.remaining().seconds, 2 * 2 + 10);
  now = 8000;
  eta.tick('suite', 2);
  eta.end('suite');
  eta.begin('sweep');
  now = 9000;
  eta.tick('sweep', 4);
  // 0.25 s a point measured, 16 left
  assert.equal(eta.remaining().seconds, 4);
  assert.equal(eta.label(), 'ETA 4s');
});

test('a phase without a guess makes the ETA a lower bound', () => {
  let now = 0;
  const eta = new Eta(
    [
      { name: 'a', units: 2, guessSecondsPerUnit: 30 },
      { name: 'b', units: 5 },
    ],
    () => now,
  );
  eta.begin('a');
  now = 1000;
  assert.equal(eta.label(), 'ETA >= 1m 00s');
});

test('formatEta reads as seconds, minutes or hours and never throws', () => {
  assert.equal(formatEta(0), '0s');
  assert.equal(formatEta(59.4), '59s');
  assert.equal(formatEta(185), '3m 05s');
  assert.equal(formatEta(3720), '1h 02m');
  assert.equal(formatEta(NaN), '?');
  assert.equal(formatEta(-1), '?');
  fc.assert(
    fc.property(fc.double(), (s) => {
      assert.equal(typeof formatEta(s), 'string');
    }),
  );
});
