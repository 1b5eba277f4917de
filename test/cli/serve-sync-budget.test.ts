/**
 * `sftp-wire serve --sync-budget MS`: parsed with a clear error, and in force in a real server process —
 * with 0, the server makes no synchronous file system call while it serves (every call on the thread
 * pool); without it, the same requests are answered with synchronous calls. The count comes from a
 * preload in the child that wraps fs.lstatSync, fs.openSync and Dir#readSync.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cli from '../../src/cli/serve.js';
import { SYNC_CALL_BUDGET_MS } from '../../src/server/fs/sync-budget.js';
import { SftpClient } from '../../src/client/client.js';
import { joinStreams } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN, TSX_LOADER } from '../support/cli.js';

const COUNTER = fileURLToPath(new URL('./fixtures/count-sync-fs.mjs', import.meta.url));
const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-sync-budget-'));
mkdirSync(path.join(base, 'd'));
for (let i = 0; i < 30; i++) writeFileSync(path.join(base, 'd', `f${i}`), `file ${i}`);
after(() => rmSync(base, { recursive: true, force: true }));

test('syncBudget: the default mirrors the library, values taken, bad values refused by name', () => {
  assert.equal(cli.DEFAULT_SYNC_BUDGET_MS, SYNC_CALL_BUDGET_MS);
  assert.deepEqual(cli.syncBudget(undefined), { ms: undefined });
  assert.deepEqual(cli.syncBudget('0'), { ms: 0 });
  assert.deepEqual(cli.syncBudget('2.5'), { ms: 2.5 });
  for (const bad of ['-1', '', ' ', 'soon', 'Infinity', 'NaN']) {
    const r = cli.syncBudget(bad);
    assert.ok('error' in r && r.error.includes('--sync-budget'), `${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
  }
});

test('serve --sync-budget with a bad value exits 2 and says why', () => {
  const r = spawnSync(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '--sync-budget=-5'], {
    cwd: base,
    encoding: 'utf8',
    input: '',
    timeout: 30_000,
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad --sync-budget -5/);
});

/** Serve `base` with `flags` on stdio, list d, stat and read one file; the synchronous calls it made. */
async function syncCallsServing(flags: string[]): Promise<number> {
  const p = spawn(
    process.execPath,
    ['--import', COUNTER, '--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '--root', base, ...flags],
    { cwd: base, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => p.kill('SIGKILL'), 60_000);
  try {
    const client = await SftpClient.fromStream(joinStreams(p.stdin!, p.stdout!));
    const names = (await client.list('/d')).map((e) => e.filename).sort();
    assert.equal(names.length, 30);
    assert.equal((await client.lstat('/d/f7')).size, 'file 7'.length);
    assert.equal((await client.readFile('/d/f12')).toString(), 'file 12');
    await client.end();
    p.stdin!.end();
    assert.equal(await exited, 0, err);
  } finally {
    clearTimeout(killer);
    p.kill('SIGKILL');
  }
  const m = /sync-fs-calls (\d+)/.exec(err);
  assert.ok(m, `the counter reported: ${err}`);
  return Number(m[1]);
}

test('serve --stdio --sync-budget 0 serves with no synchronous file system call; the default uses them', async () => {
  const byDefault = await syncCallsServing([]);
  const pool = await syncCallsServing(['--sync-budget', '0']);
  assert.ok(byDefault >= 30, `default: ${byDefault} synchronous calls (a listing of 30 and more)`);
  assert.equal(pool, 0, '--sync-budget 0');
});
