import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, ratioMatrix, renderSummary, speedOf, jsonSafe } from '../../bench/suite/report.js';
import type { Sample } from '../../bench/suite/suite.js';
import { MiB } from '../../bench/lib/stats.js';

function large(contender: string, seconds: number[], extra: Partial<Sample> = {}): Sample[] {
  return seconds.map((s, rep) => ({
    contender,
    workload: 'large',
    direction: 'up',
    rttMs: 0,
    rep,
    seconds: s,
    bytes: 256 * MiB,
    files: 1,
    ...extra,
  }));
}

test('summarize takes the median per contender and case, and reads each row against its limit', () => {
  const rows = summarize([
    ...large('limit-sshd', [1, 1.1, 0.9]),
    ...large('sftp-wire-sshd', [1.2, 1.0, 1.1]),
    ...large('ssh2-fast', [2.3, 2.2, 2.0]),
  ]);
  const by = Object.fromEntries(rows.map((r) => [r.contender, r]));
  assert.equal(by['limit-sshd']!.medianSeconds, 1);
  assert.equal(by['limit-sshd']!.mibPerSecond, 256);
  assert.equal(by['sftp-wire-sshd']!.medianSeconds, 1.1);
  assert.ok(Math.abs(by['sftp-wire-sshd']!.fractionOfLimit! - 1 / 1.1) < 1e-9);
  // sftp-wire -> sshd is the reference: ssh2 at 2.2 s is 2x slower
  assert.ok(Math.abs(by['ssh2-fast']!.sftpWireSpeedup! - 2.2 / 1.1) < 1e-9);
  assert.equal(by['sftp-wire-sshd']!.sftpWireSpeedup, undefined);
  assert.equal(by['limit-sshd']!.fractionOfLimit, undefined);
});

test('failed runs are counted and reported, not averaged in', () => {
  const rows = summarize([
    ...large('sftp-wire-sshd', [1, 3]),
    {
      contender: 'sftp-wire-sshd',
      workload: 'large',
      direction: 'up',
      rttMs: 0,
      rep: 2,
      seconds: NaN,
      bytes: 256 * MiB,
      files: 1,
      error: 'verify: differs',
    },
  ]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.runs, 3);
  assert.equal(rows[0]!.ok, 2);
  assert.equal(rows[0]!.medianSeconds, 2);
  assert.deepEqual(rows[0]!.errors, ['verify: differs']);
  const text = renderSummary({ rows, skipped: [], rtts: [0], cases: [{ workload: 'large', direction: 'up' }] });
  assert.match(text, /2\/3/);
  assert.match(text, /failures:\n.*verify: differs/);
});

test('SMALL compares files per second, so rows with different counts compare fairly', () => {
  const small = (contender: string, files: number, seconds: number): Sample => ({
    contender,
    workload: 'small',
    direction: 'up',
    rttMs: 20,
    rep: 0,
    seconds,
    bytes: files * 4096,
    files,
  });
  const rows = summarize([small('sftp-wire-sshd', 500, 1), small('openssh-sftp', 20, 2)]);
  const sftp = rows.find((r) => r.contender === 'openssh-sftp')!;
  assert.equal(sftp.filesPerSecond, 10);
  assert.equal(speedOf(rows[0]!), 500);
  assert.equal(sftp.sftpWireSpeedup, 50);
  const m = ratioMatrix(rows);
  assert.equal(m['rtt20-small-up']!['sftp-wire-sshd']!['openssh-sftp'], 50);
  assert.equal(m['rtt20-small-up']!['openssh-sftp']!['sftp-wire-sshd'], 1 / 50);
});

test('skipped contenders appear in the table with their id and reason; one line per reason', () => {
  const rows = summarize(large('sftp-wire-sshd', [1]));
  const why = 'OpenSSH scp not found on PATH; on Debian/Ubuntu: apt-get install openssh-client';
  const text = renderSummary({
    rows,
    skipped: [
      { contender: 'scp', label: 'OpenSSH scp', reason: why },
      { contender: 'openssh-sftp', label: 'OpenSSH sftp -b', reason: why },
    ],
    rtts: [0],
    cases: [{ workload: 'large', direction: 'up' }],
  });
  assert.match(text, /scp\s+OpenSSH scp\s+skipped/);
  assert.match(
    text,
    /skipped:\n\s+scp, openssh-sftp: OpenSSH scp not found on PATH; on Debian\/Ubuntu: apt-get install openssh-client\n/,
  );
  const md = renderSummary({ rows, skipped: [], rtts: [0], cases: [{ workload: 'large', direction: 'up' }] }, true);
  assert.match(md, /^\*\*RTT 0 ms\*\*/);
  assert.match(md, /\| case \| id \| contender \|/);
  assert.match(md, /\| LARGE up \| sftp-wire-sshd \| sftp-wire -> OpenSSH sftp-server \| 1\/1 \|/);
});

test('every row of the table carries its contender id, the one --contenders takes', () => {
  const rows = summarize([...large('limit-sshd', [1]), ...large('sftp-wire-sshd', [1]), ...large('ssh2-fast', [2])]);
  const text = renderSummary({ rows, skipped: [], rtts: [0], cases: [{ workload: 'large', direction: 'up' }] });
  const header = text.split('\n')[1]!;
  assert.match(header, /^case\s+id\s+contender\s+runs/);
  for (const id of ['limit-sshd', 'sftp-wire-sshd', 'ssh2-fast'])
    assert.match(text, new RegExp(`\\s${id}\\s{2,}\\S`), id);
});

test('jsonSafe turns NaN into null', () => {
  assert.deepEqual(jsonSafe({ a: NaN, b: [1, Infinity] }), { a: null, b: [1, null] });
});

test('the sftp-wire column falls back to sftp-wire -> sftp-wire server (marked *) when the OpenSSH-server row failed', () => {
  const small = (contender: string, files: number, seconds: number, error?: string): Sample => ({
    contender,
    workload: 'small',
    direction: 'down',
    rttMs: 0,
    rep: 0,
    seconds,
    bytes: files * 4096,
    files,
    ...(error ? { error } : {}),
  });
  const rows = summarize([
    small('sftp-wire', 100, 1),
    small('sftp-wire-sshd', 100, NaN, 'boom'),
    small('openssh-sftp', 100, 3),
  ]);
  const sftp = rows.find((r) => r.contender === 'openssh-sftp')!;
  assert.equal(sftp.sftpWireSpeedup, 3);
  assert.equal(sftp.speedupAgainst, 'sftp-wire');
  const text = renderSummary({ rows, skipped: [], rtts: [0], cases: [{ workload: 'small', direction: 'down' }] });
  assert.match(text, /OpenSSH sftp -b .* 3\.00x\*/);
});
