import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseOptions, defaultOptions } from '../../bench/suite/options.js';
import {
  expectedRate,
  largePointSize,
  predecessor,
  smallPointCount,
  summarizeSweep,
  sweepPlan,
} from '../../bench/suite/sweep.js';
import {
  smallFileList,
  smallDirCount,
  generateSmallTree,
  verifyTree,
  verifyListing,
  writeSeededFile,
  verifyFile,
} from '../../bench/lib/dataset.js';
import { CONTENDERS } from '../../bench/contenders/index.js';
import { smallCountFor } from '../../bench/suite/suite.js';

const MiB = 1024 * 1024;

test('options: defaults, --quick, sizes and lists; bad flags are errors; --help is null', () => {
  const d = parseOptions([])!;
  assert.equal(d.profile, 'default');
  assert.equal(d.smallFiles, 2000);
  assert.equal(d.largeSize, 256 * MiB);
  assert.equal(d.listEntries, 100_000);
  assert.deepEqual(d.rtts, [0, 20]);
  const q = parseOptions([
    '--quick',
    '--rtt',
    '0',
    '--large-size=8m',
    '--workloads',
    'large,list',
    '-R',
    '16',
    '-B',
    '64k',
  ])!;
  assert.equal(q.profile, 'quick');
  assert.equal(q.smallFiles, 200);
  assert.equal(q.largeSize, 8 * MiB);
  assert.deepEqual(q.rtts, [0]);
  assert.deepEqual(q.workloads, ['large', 'list']);
  assert.equal(q.requests, 16);
  assert.equal(q.chunkSize, 64 * 1024);
  assert.equal(parseOptions(['--help']), null);
  assert.throws(() => parseOptions(['--frobnicate']), /unknown option/);
  assert.throws(() => parseOptions(['--workloads', 'huge']), /unknown value/);
  assert.throws(() => parseOptions(['--reps', '0']), /integer >= 1/);
  assert.throws(() => parseOptions(['--reps']), /needs a value/);
});

test('slow contenders run a reduced SMALL count only when RTT > 0', () => {
  const o = defaultOptions();
  const sftp = CONTENDERS.find((c) => c.id === 'openssh-sftp')!;
  const ours = CONTENDERS.find((c) => c.id === 'sftp-wire')!;
  const ssh2p = CONTENDERS.find((c) => c.id === 'ssh2-16')!;
  assert.equal(smallCountFor(sftp, 0, o), o.smallFiles);
  assert.equal(smallCountFor(sftp, 20, o), o.slowFiles);
  assert.equal(smallCountFor(ssh2p, 20, o), o.slowFiles * 8);
  assert.equal(smallCountFor(ours, 20, o), o.rttSmallFiles);
});

test('sweep point sizes: bounded, rounded to few distinct sizes, and growing with the expected rate', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 1e10, noNaN: true }),
      fc.integer({ min: 0, max: 64 * MiB }),
      (rate, window) => {
        const n = largePointSize(rate, 0.2, 64 * MiB, window);
        assert.ok(n >= 512 * 1024 && n <= 64 * MiB, `${n}`);
        const k = Math.log2(n);
        assert.ok(Number.isInteger(k) || Number.isInteger(Math.log2(n / 3)), `${n} is 2^k or 3 x 2^k`);
        assert.ok(largePointSize(rate * 2, 0.2, 64 * MiB, window) >= n);
      },
    ),
  );
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e5, noNaN: true }), fc.integer({ min: 1, max: 256 }), (rate, conc) => {
      const f = smallPointCount(rate, conc, 0.2, 2000);
      assert.ok(f >= 1 && f <= 2000);
      assert.ok(f >= Math.min(2000, conc), 'at least one file per lane');
      assert.ok(smallPointCount(rate * 2, conc, 0.2, 2000) >= f);
    }),
  );
});

test("sweep: the expected rate is the point's own median, else the window's, capped by the smaller window's measured rate", () => {
  const spec = { workload: 'large' as const, direction: 'up' as const, rttMs: 20, requests: 8, chunkSize: 256 * 1024 };
  // 8 x 256 KiB per 20 ms = 100 MiB/s; the 4-request point measured 20 MiB/s: at most 40 MiB/s.
  assert.equal(expectedRate(spec, {}), 100 * MiB);
  assert.equal(expectedRate(spec, { previous: { rate: 20 * MiB, width: 4 } }), 40 * MiB);
  assert.equal(expectedRate(spec, { own: 33 * MiB, previous: { rate: 20 * MiB, width: 4 } }), 33 * MiB);
  const plan = sweepPlan({
    ...defaultOptions(),
    sweepRequests: [4, 1, 2],
    sweepChunks: [32768, 65536],
    directions: ['down'],
    sweepConcurrency: [1, 8],
  });
  assert.deepEqual(
    predecessor({ workload: 'large', direction: 'down', rttMs: 20, requests: 4, chunkSize: 65536 }, plan),
    { workload: 'large', direction: 'down', rttMs: 20, requests: 2, chunkSize: 65536 },
  );
  assert.equal(
    predecessor({ workload: 'large', direction: 'down', rttMs: 20, requests: 1, chunkSize: 65536 }, plan),
    undefined,
  );
  assert.deepEqual(predecessor({ workload: 'small', direction: 'down', rttMs: 20, concurrency: 8 }, plan), {
    workload: 'small',
    direction: 'down',
    rttMs: 20,
    concurrency: 1,
  });
  // limits first, then LARGE by chunk and growing window, then SMALL
  assert.deepEqual(
    plan.map((p) => (p.workload === 'large' ? `${p.chunkSize}x${p.requests}` : p.workload)),
    ['limit', '32768x1', '32768x2', '32768x4', '65536x1', '65536x2', '65536x4', 'small', 'small'],
  );
});

test('sweep defaults: each point three times, at least three chunk sizes', () => {
  for (const o of [defaultOptions(), defaultOptions('quick')]) {
    assert.ok(o.sweepReps >= 3);
    assert.ok(o.sweepChunks.length >= 3);
  }
  assert.equal(parseOptions(['--sweep-reps', '5'])!.sweepReps, 5);
  assert.throws(() => parseOptions(['--sweep-reps', '0']), /integer >= 1/);
});

test('sweep medians: per point over its runs, with the spread and the first error', () => {
  const base = {
    workload: 'large' as const,
    direction: 'up' as const,
    rttMs: 20,
    requests: 4,
    chunkSize: 65536,
    bytes: MiB,
    files: 1,
    filesPerSecond: NaN,
  };
  const samples = [
    { ...base, rep: 0, seconds: 1, mibPerSecond: 10 },
    { ...base, rep: 1, seconds: 0.5, mibPerSecond: 30 },
    { ...base, rep: 2, seconds: 0.8, mibPerSecond: 12 },
    { ...base, requests: 8, rep: 0, seconds: NaN, mibPerSecond: NaN, error: 'boom' },
    { ...base, requests: 8, rep: 1, seconds: 0.1, mibPerSecond: 50 },
  ];
  const plan = [{ ...base }, { ...base, requests: 8 }].map(({ workload, direction, rttMs, requests, chunkSize }) => ({
    workload,
    direction,
    rttMs,
    requests,
    chunkSize,
  }));
  const [a, b] = summarizeSweep(samples, plan);
  assert.equal(a!.mibPerSecond, 12);
  assert.deepEqual(a!.spread, [10, 30]);
  assert.equal(a!.runs, 3);
  assert.equal(b!.ok, 1);
  assert.equal(b!.error, 'boom');
  assert.equal(b!.mibPerSecond, 50);
});

test('SMALL trees keep the files-per-directory ratio and verify byte for byte', () => {
  const spec = { files: 2000, dirs: 20, size: 4096 };
  assert.equal(smallDirCount(spec, 2000), 20);
  assert.equal(smallDirCount(spec, 500), 5);
  assert.equal(smallDirCount(spec, 20), 1);
  const list = smallFileList(spec, 500);
  assert.equal(list.length, 500);
  assert.equal(new Set(list.map((r) => r.split('/')[0])).size, 5);

  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-test-'));
  try {
    const files = generateSmallTree(join(dir, 'a'), 7, { files: 30, dirs: 3, size: 100 });
    assert.equal(verifyTree(join(dir, 'a'), files), 30);
    // the same seed gives the same bytes in another tree
    const again = generateSmallTree(join(dir, 'b'), 7, { files: 30, dirs: 3, size: 100 });
    assert.deepEqual(again, files);
    writeFileSync(join(dir, 'b', files[3]!.rel), Buffer.alloc(100));
    assert.throws(() => verifyTree(join(dir, 'b'), files), /differs/);
    rmSync(join(dir, 'b', files[3]!.rel));
    assert.throws(() => verifyTree(join(dir, 'b'), files), /29 files, expected 30/);
    mkdirSync(join(dir, 'a', 'extra'));
    writeFileSync(join(dir, 'a', 'extra', 'x'), 'x');
    assert.throws(() => verifyTree(join(dir, 'a'), files), /unexpected file extra\/x/);

    assert.equal(verifyListing(['.', '..', 'x', 'y'], new Set(['x', 'y'])), 2);
    assert.throws(() => verifyListing(['x', 'x'], new Set(['x', 'y'])), /repeats/);
    assert.throws(() => verifyListing(['x'], new Set(['x', 'y'])), /1 entries, expected 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('seeded LARGE files: a smaller size is a prefix of a larger one; verification catches a flipped byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-test-'));
  try {
    const small = writeSeededFile(join(dir, 's'), 99, 5 * MiB + 3);
    const big = writeSeededFile(join(dir, 'b'), 99, 9 * MiB);
    assert.notEqual(small, big);
    await verifyFile(join(dir, 's'), small, 5 * MiB + 3);
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(readFileSync(join(dir, 'b')).subarray(0, 5 * MiB + 3), readFileSync(join(dir, 's')));
    const buf = readFileSync(join(dir, 's'));
    buf.writeUInt8(buf.readUInt8(12345) ^ 1, 12345);
    writeFileSync(join(dir, 's'), buf);
    await assert.rejects(verifyFile(join(dir, 's'), small, 5 * MiB + 3), /differs/);
    await assert.rejects(verifyFile(join(dir, 'missing'), small, 1), /missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listing digests: order does not matter, a missing, extra, repeated or renamed entry does', async () => {
  const { digestNames, verifyListingDigest } = await import('../../bench/lib/dataset.js');
  const names = Array.from({ length: 500 }, (_, i) => `entry-${String(i).padStart(6, '0')}`);
  const expected = new Set(names);
  assert.equal(verifyListingDigest(digestNames(['.', ...[...names].reverse(), '..']), expected), 500);
  assert.throws(() => verifyListingDigest(digestNames(names.slice(1)), expected), /499 entries/);
  assert.throws(() => verifyListingDigest(digestNames([...names.slice(1), names[2]!]), expected), /differ/);
  assert.throws(() => verifyListingDigest(digestNames([...names.slice(1), 'entry-x']), expected), /differ/);
});
