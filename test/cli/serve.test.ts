// `sftp-wire serve` as a user first meets it: the host key's fingerprint at start, one log line per
// login and failed login, clear refusals of a bad --root, a port in use, and --stdio with --port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN } from '../support/cli.js';
import { listenProblem, rootProblem, serverUrl } from '../../src/cli/serve.js';
import { cli, scratch, startServe, type ServeChild } from './serve-child.js';

function serveSync(args: string[], home: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', ...args], {
    encoding: 'utf8',
    env: { ...process.env, HOME: home },
    timeout: 60_000,
    input: '',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sftp-wire serve with a password user', () => {
  const t = scratch('sftp-wire-serve-');
  let served: ServeChild;
  before(async () => {
    writeFileSync(join(t.root, 'hello.txt'), 'hello\n');
    served = await startServe({ root: t.root, dir: t.dir, user: 'alice', password: 's3cret-pw' });
  });
  after(async () => {
    await served?.stop();
    rmSync(t.dir, { recursive: true, force: true });
  });

  it('prints the host key fingerprint as ssh-keygen -lf shows it', async () => {
    await served.waitStdout(/^host key: .*\n/m, 5000);
    const line = /^host key: (\S+) (SHA256:\S+) \((.*)\)$/m.exec(served.stdout());
    assert.ok(line, served.stdout());
    assert.equal(line[1], 'ssh-ed25519');
    assert.equal(line[3], served.hostKeyFile);
    const keygen = execFileSync('ssh-keygen', ['-lf', served.hostKeyFile], { encoding: 'utf8' });
    assert.equal(keygen.split(' ')[1], line[2], keygen);
    assert.doesNotMatch(line[2]!, /=/, 'no base64 padding');
  });

  it('logs a login and a failed login, one line each with user, address and method, and no secret', async () => {
    const ok = await cli(t.home, ['ls', `${served.base}/`], { SFTP_WIRE_PASSWORD: 's3cret-pw' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /hello\.txt/);
    await served.waitStderr(/login: user "alice" from 127\.0\.0\.1:\d+ \(password\)\n/);
    const bad = await cli(t.home, ['ls', `${served.base}/`], { SFTP_WIRE_PASSWORD: 'wrong-guess' });
    assert.equal(bad.code, 1);
    await served.waitStderr(/failed login: user "alice" from 127\.0\.0\.1:\d+ \(password\)\n/);
    const log = served.stderr();
    const lines = log.split('\n').filter((l) => /login/.test(l));
    assert.equal(lines.filter((l) => /: login: /.test(l)).length, 1, `one login line: ${log}`);
    assert.ok(lines.filter((l) => /: failed login: /.test(l)).length >= 1, log);
    assert.ok(
      lines.every((l) => /^sftp-wire serve: (failed )?login: user "alice" from 127\.0\.0\.1:\d+ \(password\)$/.test(l)),
      log,
    );
    assert.doesNotMatch(log, /s3cret-pw|wrong-guess/, 'passwords never reach the log');
  });

  it('ls of a regular file reports ENOTDIR, named once', async () => {
    const r = await cli(t.home, ['ls', `${served.base}/hello.txt`], { SFTP_WIRE_PASSWORD: 's3cret-pw' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sftp-wire ls: ENOTDIR: not a directory/m);
    assert.doesNotMatch(r.stderr, /E[A-Z]+: E[A-Z]+:/);
  });

  it('ls of a missing path says ENOENT once', async () => {
    const r = await cli(t.home, ['ls', `${served.base}/nope`], { SFTP_WIRE_PASSWORD: 's3cret-pw' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sftp-wire ls: ENOENT: no such file or directory/m);
    assert.doesNotMatch(r.stderr, /ENOENT: ENOENT/);
  });
});

describe('sftp-wire serve refuses what cannot work, once and clearly', () => {
  const t = scratch('sftp-wire-serve-bad-');
  after(() => rmSync(t.dir, { recursive: true, force: true }));

  it('a --root that is a file or missing', () => {
    const file = join(t.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = serveSync(['--root', file, '--port', '0', '--host-key', join(t.dir, 'k')], t.home);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--root .*a-file is not a directory/);
    assert.equal(r.stdout, '', 'nothing was served');
    const m = serveSync(['--root', join(t.dir, 'missing'), '--port', '0'], t.home);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /missing does not exist/);
    assert.equal(rootProblem(t.dir), undefined);
  });

  it('a port in use: one line, exit 1', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = serveSync(['--root', t.root, '--port', String(port), '--host-key', join(t.dir, 'k')], t.home);
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `sftp-wire serve: cannot listen on 127.0.0.1:${port}: the port is in use (choose another with --port, or --port 0 for any free one)\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('--stdio with --port (or another SSH server option) is an error', () => {
    const r = serveSync(['--stdio', '--root', t.root, '--port', '2222'], t.home);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--stdio serves on stdin\/stdout: --port is for the SSH server only/);
    const r2 = serveSync(['--stdio', '--root', t.root, '--user', 'a', '--password', 'b'], t.home);
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /--user, --password are for the SSH server only/);
  });

  it('--help goes to stdout, except with --stdio', () => {
    const r = serveSync(['--help'], t.home);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: sftp-wire serve/);
    assert.equal(r.stderr, '');
    const s = serveSync(['--stdio', '--help'], t.home);
    assert.equal(s.status, 0);
    assert.equal(s.stdout, '', 'stdout belongs to the protocol under --stdio');
    assert.match(s.stderr, /^usage: sftp-wire serve/);
  });
});

describe('serve addresses', () => {
  it('an IPv6 host is bracketed in the URL, an IPv4 one is not', () => {
    assert.equal(serverUrl('::1', 2222), 'sftp://[::1]:2222/');
    assert.equal(serverUrl('127.0.0.1', 22), 'sftp://127.0.0.1:22/');
    assert.match(
      listenProblem(Object.assign(new Error('x'), { code: 'EADDRINUSE' }), '::1', 2222),
      /^cannot listen on \[::1\]:2222: the port is in use/,
    );
  });

  it('serve --host ::1 prints sftp://[::1]:PORT/ and a client connects to it', async () => {
    const t = scratch('sftp-wire-serve-v6-');
    writeFileSync(join(t.root, 'six.txt'), '6');
    const served = await startServe({
      root: t.root,
      dir: t.dir,
      user: 'bob',
      password: 'pw6',
      extra: ['--host', '::1'],
    });
    try {
      assert.equal(served.host, '[::1]');
      assert.match(served.stdout(), /on sftp:\/\/\[::1\]:\d+\/ /);
      const r = await cli(t.home, ['ls', `${served.base}/`], { SFTP_WIRE_PASSWORD: 'pw6' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /six\.txt/);
    } finally {
      await served.stop();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
