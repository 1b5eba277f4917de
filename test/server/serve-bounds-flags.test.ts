/**
 * `sftp-wire serve` flags for the server's bounds: --max-sessions, --login-grace, --max-startups,
 * --max-server-handles: parsed with clear errors, defaults the same as the library's, and in force in a
 * real server process.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as cli from '../../src/cli/serve.js';
import * as sshServer from '../../src/transport/ssh-server.js';
import * as options from '../../src/server/options.js';
import { CLI_MAIN } from '../support/cli.js';
import { openSftp, rawSocket, sleep, sshLogin } from '../../bench/lib/peers/hostile-peer.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-flags-'));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

type Bounds =
  { maxSessions: number; loginGraceMs: number; maxStartups: number; maxServerHandles: number } | { error: string };
const parse = (o: Record<string, string>): Bounds =>
  (cli as unknown as { serverBounds(o: Record<string, string>): Bounds }).serverBounds(o);

test('serverBounds: defaults as the library, values taken, bad values refused by name', () => {
  assert.deepEqual(parse({}), { maxSessions: 10, loginGraceMs: 120_000, maxStartups: 64, maxServerHandles: 4096 });
  const lib = sshServer as Record<string, unknown>;
  assert.equal(lib.DEFAULT_MAX_SESSIONS, 10);
  assert.equal(lib.DEFAULT_LOGIN_GRACE_MS, 120_000);
  assert.equal(lib.DEFAULT_MAX_STARTUPS, 64);
  assert.equal((options as Record<string, unknown>).DEFAULT_MAX_SERVER_HANDLES, 4096);
  assert.deepEqual(
    parse({ 'max-sessions': '3', 'login-grace': '0.5', 'max-startups': '8', 'max-server-handles': '100' }),
    {
      maxSessions: 3,
      loginGraceMs: 500,
      maxStartups: 8,
      maxServerHandles: 100,
    },
  );
  assert.equal((parse({ 'login-grace': '0' }) as { loginGraceMs: number }).loginGraceMs, 0, '0: no deadline');
  for (const [flag, bad] of [
    ['max-sessions', '0'],
    ['max-sessions', '1.5'],
    ['max-startups', ''],
    ['max-server-handles', '-3'],
    ['login-grace', '-1'],
    ['login-grace', 'soon'],
    ['login-grace', ''],
  ] as const) {
    const r = parse({ [flag]: bad });
    assert.ok('error' in r && r.error.includes(`--${flag}`), `--${flag} ${JSON.stringify(bad)}: ${JSON.stringify(r)}`);
  }
});

test('sftp-wire serve --max-sessions 1 --login-grace 1: a second channel is refused, a silent socket closed after a second', async () => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI_MAIN,
      'serve',
      '--root',
      base,
      '--port',
      '0',
      '--user',
      'u',
      '--password',
      'p',
      '--host-key',
      path.join(base, 'hk'),
      '--max-sessions',
      '1',
      '--login-grace',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: base } },
  );
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /sftp:\/\/[^:/\s]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}${err}`)));
    setTimeout(() => reject(new Error(`serve did not start: ${out}${err}`)), 30_000).unref();
  });
  const silent = rawSocket(port);
  const peer = await sshLogin(port);
  await openSftp(peer);
  await assert.rejects(openSftp(peer), 'the second channel on the connection');
  const outcome = await Promise.race([silent.closed.then(() => 'closed'), sleep(15_000).then(() => 'open')]);
  assert.equal(outcome, 'closed');
  assert.match(err, /loginGraceMs|maxSessions/);
  peer.client.end();
  child.kill('SIGTERM');
});
