// The CLI's progress display: formatting, the width of the line, redraw throttling with a fake clock,
// and what reaches a non-terminal or a quiet stream.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatBytes, formatEta, formatRate, ProgressDisplay, rateSummary, renderProgress } from '../../src/cli/progress.js';

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
    assert.equal(rateSummary(700000, 2), '700000 bytes in 2.00 s (0.3 MiB/s)');
  });

  test('a line shows label, files, percent, bytes, rate and ETA', () => {
    const line = renderProgress({ label: 'src', bytes: 512 * 1024, total: 1024 * 1024, files: 3, totalFiles: 10, rate: 1024 * 1024 }, 120);
    assert.equal(line, 'src  3/10 files  50%  512 KiB / 1.00 MiB  1.0 MiB/s  ETA 0:01');
    assert.equal(renderProgress({ label: 'x', bytes: 5, files: 1 }, 80), 'x  1 files  5 B  -- MiB/s');
    assert.match(renderProgress({ label: 'x', bytes: 10, total: 10 }, 80), /100%.*ETA 0:00$/);
  });

  test('the line never exceeds the terminal width; a long label is shortened from the left', () => {
    const long = renderProgress({ label: `/very/long/path/${'d/'.repeat(40)}file.bin`, bytes: 1, total: 2, rate: 1 }, 80);
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

describe('ProgressDisplay', () => {
  test('on a terminal it redraws at most once per interval, however often it is updated', () => {
    let now = 0;
    const s = fakeStream(true);
    const p = new ProgressDisplay({ label: 'f', stream: s, now: () => now, interval: 100 });
    for (now = 0; now <= 1000; now++) p.update({ bytes: now * 1000, total: 1_001_000 });
    assert.ok(p.draws >= 10 && p.draws <= 11, `draws ${p.draws}`);
    assert.equal(s.writes.length, p.draws);
    for (const w of s.writes) assert.match(w, /^\r.*\x1b\[K$/);
    // 1000 bytes a millisecond is 0.95 MiB/s; the last line shows it, and the ETA.
    assert.match(s.writes.at(-1)!, /  1\.0 MiB\/s  ETA 0:0[01]/);
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
