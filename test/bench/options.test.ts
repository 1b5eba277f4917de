import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseOptions, defaultOptions } from '../../bench/options.js';
import { largePointSize, smallPointCount } from '../../bench/sweep.js';
import { smallFileList, smallDirCount, generateSmallTree, verifyTree, verifyListing, writeSeededFile, verifyFile } from '../../bench/dataset.js';
import { CONTENDERS } from '../../bench/contenders.js';
import { smallCountFor } from '../../bench/suite.js';

const MiB = 1024 * 1024;

test('options: defaults, --quick, sizes and lists; bad flags are errors; --help is null', () => {
  const d = parseOptions([])!;
  assert.equal(d.profile, 'default');
  assert.equal(d.smallFiles, 2000);
  assert.equal(d.largeSize, 256 * MiB);
  assert.equal(d.listEntries, 100_000);
  assert.deepEqual(d.rtts, [0, 20]);
  const q = parseOptions(['--quick', '--rtt', '0', '--large-size=8m', '--workloads', 'large,list', '-R', '16', '-B', '64k'])!;
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

test('sweep point sizes: bounded, and growing with the window', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 128 }), fc.constantFrom(32768, 65536, 262144), fc.constantFrom(0, 20, 100), (req, chunk, rtt) => {
      const n = largePointSize(req, chunk, rtt, 0.5, 64 * MiB);
      assert.ok(n >= 4 * MiB && n <= 64 * MiB && n % MiB === 0);
      assert.ok(largePointSize(req * 2, chunk, rtt, 0.5, 64 * MiB) >= n);
      const f = smallPointCount(req, rtt, 0.5, 2000);
      assert.ok(f >= 1 && f <= 2000);
      assert.ok(smallPointCount(req * 2, rtt, 0.5, 2000) >= f);
    }),
  );
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
    buf[12345] ^= 1;
    writeFileSync(join(dir, 's'), buf);
    await assert.rejects(verifyFile(join(dir, 's'), small, 5 * MiB + 3), /differs/);
    await assert.rejects(verifyFile(join(dir, 'missing'), small, 1), /missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listing digests: order does not matter, a missing, extra, repeated or renamed entry does', async () => {
  const { digestNames, verifyListingDigest } = await import('../../bench/dataset.js');
  const names = Array.from({ length: 500 }, (_, i) => `entry-${String(i).padStart(6, '0')}`);
  const expected = new Set(names);
  assert.equal(verifyListingDigest(digestNames(['.', ...[...names].reverse(), '..']), expected), 500);
  assert.throws(() => verifyListingDigest(digestNames(names.slice(1)), expected), /499 entries/);
  assert.throws(() => verifyListingDigest(digestNames([...names.slice(1), names[2]!]), expected), /differ/);
  assert.throws(() => verifyListingDigest(digestNames([...names.slice(1), 'entry-x']), expected), /differ/);
});
