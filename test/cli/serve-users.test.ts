/**
 * `sftp-wire serve --users FILE` and `sftp-wire hash-password` as child processes: a password made
 * by hash-password logs in, a key user gets their own (read-only) root through %u, neither sees the
 * other's files, transfers are logged with user, path and bytes; every mistake in the file is exit
 * code 2 with a message naming its line; --users with --user is refused.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { SftpClient } from '../../src/client/client.js';
import { writeEd25519KeyPair } from '../../src/transport/keys.js';
import { verifyPassword } from '../../src/transport/password-hash.js';
import { CLI_MAIN } from '../support/cli.js';
import { cli, scratch } from './serve-child.js';

/** Run the CLI with `input` on stdin. */
function cliWithInput(
  home: string,
  args: string[],
  input: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI_MAIN, ...args],
      { env: { ...process.env, HOME: home, CI: 'true' }, timeout: 60_000 },
      (e, stdout, stderr) =>
        resolve({
          code: e ? (typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
    child.stdin!.end(input);
  });
}

describe('sftp-wire serve --users', () => {
  const s = scratch('sftp-wire-users-');
  let hash = '';
  let bobKey = '';
  let served: { port: number; stderr(): string; stop(): Promise<void> } | undefined;

  before(async () => {
    const made = await cliWithInput(s.home, ['hash-password'], 'open sesame\nignored second line\n');
    assert.equal(made.code, 0, made.stderr);
    hash = made.stdout.trim();
    assert.match(hash, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    assert.equal(await verifyPassword('open sesame', hash), true);
    assert.equal(await verifyPassword('open sesame\n', hash), false);
    bobKey = writeEd25519KeyPair(path.join(s.dir, 'bob_key'));
    mkdirSync(path.join(s.root, 'alice'));
    mkdirSync(path.join(s.root, 'bob'));
    writeFileSync(path.join(s.root, 'bob', 'report.txt'), 'for bob');
  });
  after(async () => {
    await served?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  });

  it('hash-password refuses an empty password and a password on the command line', async () => {
    const empty = await cliWithInput(s.home, ['hash-password'], '\n');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /empty password/);
    const arg = await cliWithInput(s.home, ['hash-password', '--password', 'x'], '');
    assert.equal(arg.code, 2);
    assert.match(arg.stderr, /never from the command line/);
  });

  it('serves each user their own root: password and key logins, read-only, transfers logged', async () => {
    const usersFile = path.join(s.dir, 'users');
    writeFileSync(
      usersFile,
      [
        '# two users',
        'user alice',
        `  password ${hash}`,
        '  root %u',
        '',
        'user bob',
        `  key ${readFileSync(`${bobKey}.pub`, 'utf8').trim()}`,
        '  root %u',
        '  read-only',
      ].join('\n') + '\n',
    );
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI_MAIN,
        'serve',
        '--root',
        s.root,
        '--port',
        '0',
        '--host-key',
        path.join(s.dir, 'host_key'),
        '--users',
        usersFile,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: s.home },
      },
    );
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    served = {
      port: 0,
      stderr: () => err,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
    const until = async (check: () => boolean, what: () => string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!check()) {
        assert.ok(Date.now() < deadline && child.exitCode === null, what());
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(
      () => /on sftp:\/\/[^\n]*\n/.test(out),
      () => `serve did not start: ${out} ${err}`,
    );
    assert.match(out, /serving 2 users from /);
    const port = Number(/:(\d+)\/\n/.exec(out)![1]);

    const alice = await SftpClient.connect({ host: '127.0.0.1', port, username: 'alice', password: 'open sesame' });
    await alice.writeFile('/hello.txt', 'hi from alice');
    assert.equal(
      (await alice.list('/'))
        .map((e) => e.filename)
        .filter((n) => !n.startsWith('.'))
        .join(','),
      'hello.txt',
    );
    await alice.end();
    assert.equal(readFileSync(path.join(s.root, 'alice', 'hello.txt'), 'utf8'), 'hi from alice');

    const bob = await SftpClient.connect({
      host: '127.0.0.1',
      port,
      username: 'bob',
      privateKey: readFileSync(bobKey),
    });
    assert.equal((await bob.readFile('/report.txt')).toString(), 'for bob');
    await assert.rejects(bob.stat('/hello.txt'), { code: 'ENOENT' });
    await assert.rejects(bob.writeFile('/x.txt', 'no'), { code: 'EROFS' });
    await bob.end();
    assert.deepEqual(readdirSync(path.join(s.root, 'bob')), ['report.txt']);

    await assert.rejects(SftpClient.connect({ host: '127.0.0.1', port, username: 'alice', password: 'open sesam' }));
    await assert.rejects(SftpClient.connect({ host: '127.0.0.1', port, username: 'mallory', password: 'open sesame' }));
    await until(
      () => /download: user "bob" "\/report.txt" \(7 bytes\)/.test(err),
      () => `no download line: ${err}`,
    );
    await until(
      () => /failed login: user "mallory"/.test(err),
      () => `no failed login line for mallory: ${err}`,
    );
    assert.match(err, /login: user "alice" from 127\.0\.0\.1:\d+ \(password\)/);
    assert.match(err, /upload: user "alice" "\/hello.txt" \(13 bytes\)/);
    assert.match(err, /login: user "bob" from 127\.0\.0\.1:\d+ \(publickey\)/);
    assert.match(err, /failed login: user "mallory" from 127\.0\.0\.1:\d+ \(password\)/);
    assert.doesNotMatch(err, /sesam/, 'no password in the log');
    await served.stop();
  });

  it('a mistake in the file: exit code 2 and a message naming the line', async () => {
    const cases: [string[], RegExp][] = [
      [['user alice', '  pasword x'], /line 2: unknown keyword "pasword"/],
      [['  root /tmp'], /line 1: root before any "user NAME" line/],
      [['user alice', '  password plaintext'], /line 2: password: not a password hash/],
      [
        ['user alice', `  password ${'$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'}`],
        /line 2: password: scrypt parameters: ln must be/,
      ],
      [['user alice', '  key ssh-ed25519 AAAAnotakey'], /line 2: key: not a public key/],
      [['user alice', '  key no-pty ssh-ed25519 AAAA'], /line 2: key: .*options before the key are not supported/],
      [['user alice'], /line 1: user alice has neither a password nor a key/],
      [
        [`user alice`, `  password ${'$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'}`, 'user alice'],
        /line 3: user alice is already defined on line 1/,
      ],
      [['user ../etc', '  password x'], /line 1: user: "..\/etc" is not a valid user name/],
      [
        ['user alice', `  password ${'$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'}`, '  root missing-%u'],
        /line 3: root .*missing-alice of user alice: does not exist/,
      ],
      [
        [
          'user alice',
          `  password ${'$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'}`,
          '  atomic-uploads sometimes',
        ],
        /line 3: atomic-uploads must be one of/,
      ],
      [
        ['user alice', `  password ${'$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA'}`, '  read-only yes'],
        /line 3: read-only takes no value/,
      ],
      [['# nothing'], /: no users/],
    ];
    for (const [lines, expected] of cases) {
      const file = path.join(s.dir, 'bad-users');
      writeFileSync(file, lines.join('\n') + '\n');
      const r = await cli(s.home, [
        'serve',
        '--root',
        s.root,
        '--port',
        '0',
        '--host-key',
        path.join(s.dir, 'host_key'),
        '--users',
        file,
      ]);
      assert.equal(r.code, 2, `${lines.join(' / ')}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, expected, lines.join(' / '));
      assert.ok(r.stderr.includes(file), `the message names the file: ${r.stderr}`);
    }
    const missing = await cli(s.home, ['serve', '--root', s.root, '--port', '0', '--users', path.join(s.dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope: does not exist/);
    const both = await cli(s.home, [
      'serve',
      '--root',
      s.root,
      '--port',
      '0',
      '--users',
      path.join(s.dir, 'bad-users'),
      '--user',
      'a',
      '--password',
      'b',
    ]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--users gives every user: --user, --password cannot go with it/);
  });
});
