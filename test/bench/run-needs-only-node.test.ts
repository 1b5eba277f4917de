// The bench as a new user meets it: a real child process running bench/run.ts (and the CLI's `bench`),
// on a PATH that holds nothing but node (no ssh-keygen, ssh, sftp, scp or sshd), with its own TMPDIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_MAIN } from '../support/cli.js';
import { CONTENDER_IDS } from '../../bench/contenders/index.js';

const RUN = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** The smallest run: RTT 0, one rep, tiny sizes, no sweep. */
const TINY = [
  '--rtt',
  '0',
  '--reps',
  '1',
  '--large-size',
  '1m',
  '--small-files',
  '10',
  '--small-dirs',
  '1',
  '--list-entries',
  '20',
  '--no-sweep',
];
const OPENSSH_HINT = /apt-get install openssh-server openssh-sftp-server/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  tmp: string;
  out: string;
}

/** Run a script with PATH = a folder holding only a link to node, in a fresh TMPDIR; cwd the repository. */
function runWithoutOpenSsh(script: string, args: string[]): Promise<Run> {
  const nodeOnly = mkdtempSync(join(tmpdir(), 'sftp-wire-test-nodeonly-'));
  symlinkSync(process.execPath, join(nodeOnly, 'node'));
  const tmp = mkdtempSync(join(tmpdir(), 'sftp-wire-test-tmp-'));
  const out = join(tmp, 'results');
  return new Promise((resolve) => {
    execFile(
      join(nodeOnly, 'node'),
      ['--import', 'tsx', script, ...args.map((a) => a.replace('{OUT}', out))],
      {
        cwd: REPO,
        env: { PATH: nodeOnly, TMPDIR: tmp, HOME: tmp },
        timeout: 240_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        rmSync(nodeOnly, { recursive: true, force: true });
        const code = err ? ((err as { code?: number | null }).code ?? null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, tmp, out });
      },
    );
  });
}

/** Folders and files the bench left in its TMPDIR (tsx's own cache excluded). */
function leftovers(tmp: string): string[] {
  return readdirSync(tmp).filter((n) => n.startsWith('sftp-wire'));
}

function lineOf(text: string, id: string): string {
  return text.split('\n').find((l) => new RegExp(`(^|\\s)${id}\\s{2,}`).test(l)) ?? '';
}

test("without OpenSSH on PATH the bench runs sftp-wire's own rows, lists the OpenSSH rows as skipped with what to install, and exits 0", async () => {
  const r = await runWithoutOpenSsh(RUN, [...TINY, '--out', '{OUT}']);
  try {
    assert.equal(r.code, 0, `exit code; stderr:\n${r.stderr.slice(-3000)}`);
    assert.doesNotMatch(r.stderr, /ENOENT|ssh-keygen/);
    for (const id of ['sftp-wire', 'limit-ssh2']) {
      const line = lineOf(r.stdout, id);
      assert.match(line, /1\/1/, `${id} ran: ${JSON.stringify(line)}`);
    }
    for (const id of ['sftp-wire-sshd', 'limit-sshd', 'ssh2-fast', 'openssh-sftp', 'scp']) {
      assert.match(lineOf(r.stdout, id), /skipped/, `${id} is listed as skipped`);
    }
    const skippedSection = r.stdout.slice(r.stdout.indexOf('\nskipped:'));
    assert.match(
      skippedSection,
      /sftp-wire-sshd.*OpenSSH sshd, sftp-server not found on PATH; on Debian\/Ubuntu: apt-get install openssh-server openssh-sftp-server/,
    );
    assert.match(skippedSection, /scp.*apt-get install .*openssh-client/);
    const table = readFileSync(join(r.out, 'table.txt'), 'utf8');
    assert.match(table, /sftp-wire -> sftp-wire server/);
    assert.match(table, OPENSSH_HINT);
    assert.deepEqual(leftovers(r.tmp), [], 'no work folder left behind');
  } finally {
    rmSync(r.tmp, { recursive: true, force: true });
  }
});

test('a run whose sftp-wire rows did not run exits non-zero and says why', async () => {
  // Only sftp-wire -> OpenSSH selected, and no OpenSSH: none of our rows can run.
  const r = await runWithoutOpenSsh(RUN, [
    ...TINY,
    '--workloads',
    'list',
    '--contenders',
    'sftp-wire-sshd',
    '--out',
    '{OUT}',
  ]);
  try {
    assert.equal(r.code, 1, `exit code; stderr:\n${r.stderr.slice(-3000)}`);
    assert.match(
      r.stderr,
      /bench FAILED:\n.*no sftp-wire row produced a result \(sftp-wire-sshd: OpenSSH sshd, sftp-server not found on PATH; on Debian\/Ubuntu: apt-get install openssh-server openssh-sftp-server\)/,
    );
    assert.match(readFileSync(join(r.out, 'table.txt'), 'utf8'), /bench FAILED/);
    assert.deepEqual(leftovers(r.tmp), []);
  } finally {
    rmSync(r.tmp, { recursive: true, force: true });
  }
});

test('an unknown contender id is one line on stderr and exit 2, before any work folder exists (npm run bench and sftp-wire bench)', async () => {
  for (const script of [RUN, CLI_MAIN]) {
    const args =
      script === CLI_MAIN
        ? ['bench', '--contenders', 'sftp-wire,nope', '--out', '{OUT}']
        : ['--contenders', 'sftp-wire,nope', '--out', '{OUT}'];
    const r = await runWithoutOpenSsh(script, args);
    try {
      assert.equal(r.code, 2, `${script}: exit code; stderr:\n${r.stderr}`);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, `one line: ${JSON.stringify(r.stderr)}`);
      assert.match(lines[0]!, /unknown contender "nope" \(known: limit-sshd, .*sftp-wire.*; see --list-contenders\)/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(leftovers(r.tmp), [], 'no temporary folder');
      assert.equal(existsSync(r.out), false, 'no output folder');
    } finally {
      rmSync(r.tmp, { recursive: true, force: true });
    }
  }
});

test('--list-contenders prints every id, what it needs, and whether it runs here', async () => {
  const r = await runWithoutOpenSsh(RUN, ['--list-contenders']);
  try {
    assert.equal(r.code, 0, r.stderr);
    for (const id of CONTENDER_IDS) {
      assert.match(r.stdout, new RegExp(`^${id}\\s`, 'm'), id);
    }
    assert.match(lineOf(r.stdout, 'sftp-wire'), /Node only\s+yes/);
    assert.match(lineOf(r.stdout, 'limit-ssh2'), /Node only\s+yes/);
    assert.match(lineOf(r.stdout, 'sftp-wire-sshd'), /no: install openssh-server openssh-sftp-server/);
    assert.match(lineOf(r.stdout, 'scp'), /no: install openssh-server openssh-sftp-server openssh-client/);
    assert.deepEqual(leftovers(r.tmp), []);
  } finally {
    rmSync(r.tmp, { recursive: true, force: true });
  }
});

test('the sweep repeats each point, and its tables land in table.txt and table.md with the reference explained', async () => {
  const r = await runWithoutOpenSsh(RUN, [
    ...TINY.filter((a) => a !== '--no-sweep'),
    '--quick',
    '--workloads',
    'list',
    '--contenders',
    'sftp-wire',
    '--sweep-rtt',
    '0',
    '--sweep-requests',
    '1,8',
    '--sweep-chunks',
    '32k,64k,256k',
    '--sweep-concurrency',
    '1,4',
    '--sweep-reps',
    '3',
    '--sweep-max-size',
    '1m',
    '--out',
    '{OUT}',
  ]);
  try {
    assert.equal(r.code, 0, `exit code; stderr:\n${r.stderr.slice(-3000)}`);
    assert.match(r.stderr, /sweep \[\s*1\/54\] ETA/, 'progress lines carry an ETA');
    assert.match(r.stderr, /\[1\/1\] ETA/);
    for (const name of ['table.txt', 'table.md']) {
      const text = readFileSync(join(r.out, name), 'utf8');
      assert.match(text, /sweep: LARGE up, RTT 0 ms, sftp-wire -> sftp-wire server, MiB\/s, median of 3/, name);
      assert.match(text, /sweep: SMALL, RTT 0 ms/, name);
      assert.match(
        text,
        /raw SSH channel = a reference, not a ceiling: sftp-wire's SSH receive window is 4 MiB, grown with the round trip up to 16 MiB, the raw channel keeps ssh2's 2 MiB/,
        name,
      );
      assert.match(text, /256 KiB/, name);
    }
    const results = JSON.parse(readFileSync(join(r.out, 'results.json'), 'utf8')) as {
      sweep: { workload: string; runs: number; ok: number }[];
      sweepSamples: unknown[];
    };
    assert.equal(results.sweepSamples.length, 54);
    assert.ok(results.sweep.every((p) => p.runs === 3 && p.ok === 3));
    const svg = readFileSync(join(r.out, 'sweep-large-down-rtt0.svg'), 'utf8');
    assert.match(svg, /class="note"[^>]*>raw SSH channel = a reference, not a ceiling/);
    assert.match(svg, /\(reference, not a ceiling\)/);
    assert.equal((svg.match(/class="series"/g) ?? []).length, 3, 'one line per chunk size');
    assert.deepEqual(leftovers(r.tmp), []);
  } finally {
    rmSync(r.tmp, { recursive: true, force: true });
  }
});
