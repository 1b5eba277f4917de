/** formatLongname and modeString: the `ls -l` line of a NAME entry, in OpenSSH sftp-server's layout. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatLongname, modeString } from '../../src/protocol/longname.js';

const t = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi) / 1000;
const DAY = 24 * 3600;

describe('modeString', () => {
  const cases: [number, string][] = [
    [0o100644, '-rw-r--r--'],
    [0o040755, 'drwxr-xr-x'],
    [0o120777, 'lrwxrwxrwx'],
    [0o020620, 'crw--w----'],
    [0o060660, 'brw-rw----'],
    [0o010600, 'prw-------'],
    [0o140755, 'srwxr-xr-x'],
    [0o104755, '-rwsr-xr-x'],
    [0o104644, '-rwSr--r--'],
    [0o102755, '-rwxr-sr-x'],
    [0o102745, '-rwxr-Sr-x'],
    [0o041777, 'drwxrwxrwt'],
    [0o041776, 'drwxrwxrwT'],
    [0, '----------'],
  ];
  for (const [mode, s] of cases) it(`0${mode.toString(8)} is ${s}`, () => assert.equal(modeString(mode), s));
  it('always 10 characters of the ls alphabet', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (mode) => {
        assert.match(modeString(mode), /^[-dlcbps][-r][-w][-xsS][-r][-w][-xsS][-r][-w][-xtT]$/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('formatLongname', () => {
  it('a recent regular file shows the time (OpenSSH layout: %3u links, %-8s owner and group, %8llu size)', () => {
    const mtime = t(2024, 1, 2, 3, 4);
    assert.equal(
      formatLongname('name', { permissions: 0o100644, uid: 1000, gid: 1000, size: 1234, mtime }, { now: mtime + 60 }),
      '-rw-r--r--   1 1000     1000         1234 Jan  2 03:04 name',
    );
  });
  it('a file older than half a year shows the year, right-aligned like %Y after two spaces', () => {
    const mtime = t(2024, 11, 25, 13, 14);
    assert.equal(
      formatLongname('old.txt', { permissions: 0o100600, uid: 0, gid: 0, size: 0, mtime }, { now: mtime + 200 * DAY }),
      '-rw-------   1 0        0               0 Nov 25  2024 old.txt',
    );
  });
  it('names for owner and group, a link count, and fields wider than their column are not cut', () => {
    const mtime = t(2025, 6, 30, 23, 59);
    assert.equal(
      formatLongname(
        'd',
        { permissions: 0o40755, uid: 5, gid: 6, size: 123456789012, mtime },
        { user: 'averylongusername', group: 'staff', links: 1234, now: mtime },
      ),
      'drwxr-xr-x 1234 averylongusername staff    123456789012 Jun 30 23:59 d',
    );
  });
  it('missing attributes print as zero', () => {
    assert.equal(
      formatLongname('f', {}, { now: t(2000, 1, 1) }),
      '----------   1 0        0               0 Jan  1  1970 f',
    );
  });
  it('for any attributes: mode first, filename last, time or year chosen by age', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: -400 * DAY, max: 400 * DAY }),
        fc.maxSafeNat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        (mode, mtime, age, size, filename) => {
          const now = mtime + age;
          const line = formatLongname(filename, { permissions: mode, size, mtime, uid: 1, gid: 2 }, { now });
          assert.ok(line.startsWith(modeString(mode) + ' '));
          assert.ok(line.endsWith(' ' + filename));
          assert.ok(line.includes(` ${size} `));
          const head = line.slice(0, line.length - filename.length - 1);
          const recent = mtime <= now + 3600 && now - mtime < 182 * DAY;
          assert.match(
            head,
            recent
              ? / (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3]\d [0-2]\d:[0-5]\d$/
              : / (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ 1-3]\d  \d{4}$/,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
