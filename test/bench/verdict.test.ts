import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENDERS, selectContenders } from '../../bench/contenders/index.js';
import { summarize } from '../../bench/suite/report.js';
import type { Sample, Skipped } from '../../bench/suite/suite.js';
import { runProblems } from '../../bench/suite/verdict.js';

const MiB = 1024 * 1024;
const ok = (contender: string): Sample => ({
  contender,
  workload: 'large',
  direction: 'up',
  rttMs: 0,
  rep: 0,
  seconds: 1,
  bytes: MiB,
  files: 1,
});
const failed = (contender: string): Sample => ({ ...ok(contender), seconds: NaN, error: 'verify: differs at byte 7' });
const skip = (contender: string, reason: string): Skipped => ({
  contender,
  label: CONTENDERS.find((c) => c.id === contender)!.label,
  reason,
});
const NO_OPENSSH =
  'OpenSSH sshd, sftp-server not found on PATH; on Debian/Ubuntu: apt-get install openssh-server openssh-sftp-server';

test('a run with our rows done and OpenSSH rows skipped for want of OpenSSH is a success', () => {
  const openssh = CONTENDERS.filter((c) => c.target === 'openssh').map((c) => skip(c.id, NO_OPENSSH));
  assert.deepEqual(
    runProblems({
      selected: selectContenders([]),
      rows: summarize([ok('sftp-wire'), ok('limit-ssh2')]),
      skipped: openssh,
      sweep: null,
    }),
    [],
  );
});

test('a run where our rows failed is a failure naming them', () => {
  const problems = runProblems({
    selected: selectContenders([]),
    rows: summarize([failed('sftp-wire'), ok('limit-ssh2')]),
    skipped: [],
    sweep: null,
  });
  assert.equal(problems.length, 2);
  assert.match(problems[0]!, /no sftp-wire row produced a result/);
  assert.match(problems[1]!, /1 row\(s\) had failed runs: sftp-wire/);
});

test('a Node-only row that was skipped is a failure with its reason', () => {
  const why = 'embedded server did not start: boom';
  const problems = runProblems({
    selected: selectContenders([]),
    rows: summarize([ok('sftp-wire-sshd')]),
    skipped: [skip('sftp-wire', why), skip('limit-ssh2', why)],
    sweep: null,
  });
  assert.deepEqual(problems, [
    `sftp-wire (sftp-wire -> sftp-wire server) did not run: ${why}`,
    `limit-ssh2 (limit: raw SSH channel, ssh2 -> ssh2 Server) did not run: ${why}`,
  ]);
});

test('selecting only OpenSSH contenders does not ask for sftp-wire rows; a failed or skipped sweep is a failure', () => {
  assert.deepEqual(
    runProblems({ selected: selectContenders(['scp']), rows: summarize([ok('scp')]), skipped: [], sweep: null }),
    [],
  );
  const sweepSkipped = runProblems({
    selected: selectContenders(['scp']),
    rows: summarize([ok('scp')]),
    skipped: [],
    sweep: { points: [], samples: [], skipped: 'embedded server did not start: x' },
  });
  assert.deepEqual(sweepSkipped, ['the sweep did not run: embedded server did not start: x']);
  const point = {
    workload: 'large' as const,
    direction: 'up' as const,
    rttMs: 20,
    requests: 1,
    chunkSize: 32768,
    runs: 3,
    ok: 2,
    bytes: MiB,
    files: 1,
    seconds: 1,
    mibPerSecond: 1,
    filesPerSecond: NaN,
    spread: [1, 1] as [number, number],
    error: 'boom',
  };
  assert.match(
    runProblems({
      selected: selectContenders(['scp']),
      rows: summarize([ok('scp')]),
      skipped: [],
      sweep: { points: [point], samples: [] },
    })[0]!,
    /1 sweep point\(s\) had failed runs/,
  );
});

test('unknown contender ids are refused with the known ones', () => {
  assert.throws(
    () => selectContenders(['sftp-wire', 'nope', 'nada']),
    /unknown contender "nope", "nada" \(known: limit-sshd, limit-ssh2, sftp-wire, .*; see --list-contenders\)/,
  );
  assert.deepEqual(
    selectContenders(['scp', 'sftp-wire']).map((c) => c.id),
    ['sftp-wire', 'scp'],
  );
});
