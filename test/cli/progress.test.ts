// The CLI's progress display: formatting, the width of the line, redraw throttling with a fake clock,
// and what reaches a non-terminal or a quiet stream.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatBytes,
  formatEta,
  formatRate,
  ProgressDisplay,
  rateSummary,
  renderProgress,
} from '../../src/cli/progress.js';
import { treeSummary } from '../../src/cli/transfer-tree.js';
import type { TreeResult } from '../../src/client/tree/index.js';

function fakeStream(isTTY: boolean, columns = 80) {
  const writes: string[] = [];
  return { isTTY, columns, writes, write: (s: string) => writes.push(s) };
}

describe('progress formatting', () => {
  test('bytes, rates and ETAs', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.00 KiB');
    assert.equal(formatBytes(12.5 * 1024), '12.5 KiB');
    assert.equal(formatBytes(256 * 1024 * 1024), '256 MiB');
    assert.equal(formatBytes(3 * 1024 ** 4), '3.00 TiB');
    assert.equal(formatRate(85.25 * 1024 * 1024), '85.3 MiB/s');
    assert.equal(formatEta(0), '0:00');
    assert.equal(formatEta(3.2), '0:04');
    assert.equal(formatEta(62), '1:02');
    assert.equal(formatEta(3723), '1:02:03');
    assert.equal(formatEta(undefined), '--:--');
    assert.equal(formatEta(Infinity), '--:--');
    assert.equal(rateSummary(700000, 2), '700000 bytes in 2.00 s (342 KiB/s)');
  });

  test('a line shows label, files, percent, bytes, rate and ETA', () => {
    const line = renderProgress(
      { label: 'src', bytes: 512 * 1024, total: 1024 * 1024, files: 3, totalFiles: 10, rate: 1024 * 1024 },
      120,
    );
    assert.equal(line, 'src  3/10 files  50%  512 KiB / 1.00 MiB  1.00 MiB/s  ETA 0:01');
    assert.equal(renderProgress({ label: 'x', bytes: 5, files: 1 }, 80), 'x  1 file  5 B  -- B/s');
    assert.equal(renderProgress({ label: 'x', bytes: 5, files: 0, totalFiles: 1 }, 80), 'x  0/1 file  5 B  -- B/s');
    assert.match(renderProgress({ label: 'x', bytes: 10, total: 10 }, 80), /100%.*ETA 0:00$/);
  });

  test('the line never exceeds the terminal width; a long label is shortened from the left', () => {
    const long = renderProgress(
      { label: `/very/long/path/${'d/'.repeat(40)}file.bin`, bytes: 1, total: 2, rate: 1 },
      80,
    );
    assert.ok(long.length <= 79);
    assert.match(long, /^\.\.\..*file\.bin  50%/);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.nat(2 ** 40),
        fc.option(fc.nat(2 ** 40), { nil: undefined }),
        fc.option(fc.nat(10 ** 6), { nil: undefined }),
        fc.option(fc.double({ min: 0, max: 1e10, noNaN: true }), { nil: undefined }),
        fc.integer({ min: 1, max: 300 }),
        (label, bytes, total, files, rate, columns) => {
          const line = renderProgress({ label, bytes, total, files, totalFiles: files, rate }, columns);
          return line.length <= Math.max(1, columns - 1) && !line.includes('\n');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('small and quick transfers', () => {
  test('rates pick their unit: bytes, KiB, MiB, GiB per second', () => {
    assert.equal(formatRate(0), '0 B/s');
    assert.equal(formatRate(512), '512 B/s');
    assert.equal(formatRate(12.5 * 1024), '12.5 KiB/s');
    assert.equal(formatRate(85.25 * 1024 * 1024), '85.3 MiB/s');
    assert.equal(formatRate(2.5 * 1024 ** 3), '2.50 GiB/s');
    assert.equal(formatRate(Infinity), '-- B/s');
    assert.equal(formatRate(NaN), '-- B/s');
  });

  test('a transfer too quick to time gets no rate, never Infinity or a huge figure', () => {
    assert.equal(rateSummary(12, 0), '12 bytes in <0.01 s');
    assert.equal(rateSummary(1, 0.0004), '1 byte in <0.01 s');
    assert.equal(rateSummary(0, 0), '0 bytes in <0.01 s');
    assert.equal(rateSummary(5, 1), '5 bytes in 1.00 s (5 B/s)');
    fc.assert(
      fc.property(fc.nat(2 ** 40), fc.double({ min: 0, max: 1e5, noNaN: true }), (bytes, seconds) => {
        const line = rateSummary(bytes, seconds);
        assert.doesNotMatch(line, /Infinity|NaN|e\+/);
        const rate = /\(([\d.]+) (B|KiB|MiB|GiB|TiB)\/s\)$/.exec(line);
        if (seconds < 0.01) assert.equal(rate, null, line);
        else {
          assert.ok(rate, line);
          assert.ok(Number(rate[1]) < 1024 || rate[2] === 'TiB', line);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('the live line shows no rate before the clock can time it', () => {
    let now = 0;
    const s = fakeStream(true);
    const p = new ProgressDisplay({ label: 'f', stream: s, now: () => now, interval: 0 });
    now = 0.2;
    p.update({ bytes: 20_000 });
    assert.match(s.writes.at(-1)!, /-- B\/s/);
    now = 1000;
    p.update({ bytes: 1024 * 1024 });
    assert.match(s.writes.at(-1)!, /1\.00 MiB\/s/);
  });
});

describe('tree summaries and totals', () => {
  test('counts are singular for one: 1 file, 1 directory, 1 symlink, 1 byte', () => {
    const r = (files: number, directories: number, symlinks: number, bytes: number) =>
      treeSummary(
        'put',
        'a',
        'b',
        { files, directories, symlinks, bytes, skipped: 0, errors: [] } as unknown as TreeResult,
        1,
      );
    assert.equal(r(1, 1, 1, 1), 'put -r a -> b: 1 file, 1 directory, 1 symlink, 1 byte in 1.00 s (1 B/s)');
    assert.equal(
      r(2, 3, 2, 2048),
      'put -r a -> b: 2 files, 3 directories, 2 symlinks, 2048 bytes in 1.00 s (2.00 KiB/s)',
    );
    assert.equal(r(0, 1, 0, 0), 'put -r a -> b: 0 files, 1 directory, 0 bytes in 1.00 s (0 B/s)');
  });

  test('totals that become known are drawn at once, not at the next redraw', () => {
    let now = 0;
    const s = fakeStream(true);
    const p = new ProgressDisplay({ label: 'tree', stream: s, now: () => now, interval: 100 });
    p.update({ bytes: 1, files: 0 });
    const drawn = p.draws;
    now = 10;
    p.update({ bytes: 2, files: 1 });
    assert.equal(p.draws, drawn, 'throttled');
    now = 20;
    p.update({ bytes: 3, files: 1, totalFiles: 40, total: 4000 });
    assert.equal(p.draws, drawn + 1, 'drawn when the totals arrived');
    assert.match(s.writes.at(-1)!, /tree  1\/40 files  0%  3 B \/ 3\.91 KiB/);
    now = 30;
    p.update({ bytes: 4, files: 2, totalFiles: 40, total: 4000 });
    assert.equal(p.draws, drawn + 1, 'throttled again once the totals are on the line');
  });
});

describe('ProgressDisplay', () => {
  test('on a terminal it redraws at most once per interval, however often it is updated', () => {
    let now = 0;
    const s = fakeStream(true);
    const p = new ProgressDisplay({ label: 'f', stream: s, now: () => now, interval: 100 });
    for (now = 0; now <= 1000; now++) p.update({ bytes: now * 1000, total: 1_001_000 });
    assert.ok(p.draws >= 10 && p.draws <= 11, `draws ${p.draws}`);
    assert.equal(s.writes.length, p.draws);
    for (const w of s.writes) assert.match(w, /^\r.*\x1b\[K$/);
    // 1000 bytes a millisecond is 0.95 MiB/s (977 KiB/s); the last line shows it, and the ETA.
    assert.match(s.writes.at(-1)!, /  977 KiB\/s  ETA 0:0[01]/);
    p.finish('done');
    assert.deepEqual(s.writes.slice(-2), ['\r\x1b[K', 'done\n']);
  });

  test('not a terminal: nothing until the summary line; quiet: nothing at all', () => {
    const plain = fakeStream(false);
    const p = new ProgressDisplay({ label: 'f', stream: plain });
    for (let i = 0; i < 100; i++) p.update({ bytes: i });
    assert.equal(p.draws, 0);
    assert.deepEqual(plain.writes, []);
    assert.deepEqual(p.current, { bytes: 99 });
    p.finish('put a -> b: 99 bytes');
    assert.deepEqual(plain.writes, ['put a -> b: 99 bytes\n']);

    const tty = fakeStream(true);
    const q = new ProgressDisplay({ label: 'f', stream: tty, quiet: true });
    q.update({ bytes: 1 });
    q.finish('summary');
    assert.deepEqual(tty.writes, []);
  });

  test('a terminal that reports 0 columns (a fresh pty) gets an 80-column line, not a truncated one', () => {
    const s = fakeStream(true, 0);
    const p = new ProgressDisplay({ label: 'big', stream: s, now: () => 0 });
    p.update({ bytes: 1024, total: 2048 });
    assert.match(s.writes[0]!, /^\rbig  50%  1\.00 KiB \/ 2\.00 KiB/);
  });

  test('finish without a summary only erases a drawn line', () => {
    const s = fakeStream(true);
    const p = new ProgressDisplay({ label: 'f', stream: s, now: () => 0 });
    p.finish();
    assert.deepEqual(s.writes, []);
    p.update({ bytes: 1 });
    p.finish();
    assert.equal(s.writes.length, 2);
    assert.equal(s.writes[1], '\r\x1b[K');
  });
});
