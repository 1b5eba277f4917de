// Logging in with a password or an encrypted key, as a person at a terminal and as a script: the
// prompt (real pseudo-terminal, no echo), SFTP_WIRE_PASSWORD, --passphrase-env, and the error that says
// which user, which methods were tried and how to give a password when there is no terminal.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN } from '../support/cli.js';
import { cli, scratch, startServe, type ServeChild } from './serve-child.js';
import { runOnPty } from './pty.js';

const t = scratch('sftp-wire-password-');
let served: ServeChild;
let keyFile: string;
const PASSWORD = 'Tr0ub4dor-and-3';
const PASSPHRASE = 'correct horse';

before(async () => {
  writeFileSync(join(t.root, 'inside.txt'), 'x');
  keyFile = join(t.dir, 'enc_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'test', '-f', keyFile]);
  served = await startServe({
    root: t.root,
    dir: t.dir,
    user: 'alice',
    password: PASSWORD,
    extra: ['--authorized-keys', `${keyFile}.pub`],
  });
});
after(async () => {
  await served?.stop();
  rmSync(t.dir, { recursive: true, force: true });
});

/** The CLI's environment on the pty: a scratch HOME, no agent, no password, not under CI. */
function ptyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: t.home, SSH_AUTH_SOCK: '', TERM: 'dumb', ...extra };
  delete env.SFTP_WIRE_PASSWORD;
  if (!('CI' in extra)) delete env.CI;
  return env;
}
const argv = (...args: string[]): string[] => [process.execPath, '--import', 'tsx', CLI_MAIN, ...args];

describe('password on a terminal', () => {
  it('asks for the password without echo when no key logs in, and logs in with it', async () => {
    const r = await runOnPty(argv('ls', `${served.base}/`), ptyEnv(), [['password: $', `${PASSWORD}\r`]]);
    assert.equal(r.unanswered, 0, r.out);
    assert.match(r.out, new RegExp(`alice@127\\.0\\.0\\.1:${served.port}'s password: `));
    assert.match(r.out, /inside\.txt/);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(PASSWORD), `the password was echoed: ${JSON.stringify(r.out)}`);
  });

  it('a wrong password is asked again; the right one then logs in', async () => {
    const r = await runOnPty(argv('ls', `${served.base}/`), ptyEnv(), [
      ['password: $', 'nope\r'],
      ['password: $', `${PASSWORD}\r`],
    ]);
    assert.equal(r.unanswered, 0, r.out);
    assert.match(r.out, /Permission denied, please try again\./);
    assert.match(r.out, /inside\.txt/);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes('nope'), 'nothing typed is echoed');
  });

  it('three wrong passwords: the error names the user and what was tried', async () => {
    const r = await runOnPty(argv('ls', `${served.base}/`), ptyEnv(), [
      ['password: $', 'a\r'],
      ['password: $', 'b\r'],
      ['password: $', 'c\r'],
    ]);
    assert.equal(r.code, 1, r.out);
    assert.match(
      r.out,
      /authentication failed for user "alice" at 127\.0\.0\.1:\d+: tried password \(typed\), password \(typed, attempt 2\), password \(typed, attempt 3\)/,
    );
  });

  it("asks for an encrypted key's passphrase and logs in with the key", async () => {
    const r = await runOnPty(argv('ls', '-i', keyFile, `${served.base}/`), ptyEnv(), [
      ["Enter passphrase for key '.*enc_key': $", `${PASSPHRASE}\r`],
    ]);
    assert.equal(r.unanswered, 0, r.out);
    assert.match(r.out, /inside\.txt/);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(PASSPHRASE), 'the passphrase was not echoed');
    assert.doesNotMatch(r.out, /password: /, 'the key logged in: no password asked');
  });

  it('under CI, even on a terminal, nothing is asked: the clear error instead', async () => {
    const r = await runOnPty(argv('ls', `${served.base}/`), ptyEnv({ CI: 'true' }), []);
    assert.equal(r.code, 1, r.out);
    assert.doesNotMatch(r.out, /password: /);
    assert.match(r.out, /authentication failed for user "alice"/);
  });
});

describe('without a terminal', () => {
  it('no password and no key: an error that names the user, the methods and how to give a password', async () => {
    const r = await cli(t.home, ['ls', `${served.base}/`]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `sftp-wire ls: authentication failed for user "alice" at 127.0.0.1:${served.port}: nothing to try (no key, no agent, no password); ` +
        'the server accepts password, publickey. To give a password, run on a terminal (it is asked for) or set SFTP_WIRE_PASSWORD; ' +
        'for a key, -i FILE or an ssh-agent.\n',
    );
  });

  it('a wrong SFTP_WIRE_PASSWORD: the error says it was tried', async () => {
    const r = await cli(t.home, ['ls', `${served.base}/`], { SFTP_WIRE_PASSWORD: 'wrong' });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /authentication failed for user "alice" at 127\.0\.0\.1:\d+: tried password \(SFTP_WIRE_PASSWORD\); the server accepts password, publickey\./,
    );
  });

  it('SFTP_WIRE_PASSWORD logs a script in', async () => {
    const r = await cli(t.home, ['ls', `${served.base}/`], { SFTP_WIRE_PASSWORD: PASSWORD });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inside\.txt/);
  });

  it('an encrypted key with no terminal: says to use --passphrase-env; with it, logs in', async () => {
    const r = await cli(t.home, ['ls', '-i', keyFile, `${served.base}/`]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /the key .*enc_key is encrypted and there is no terminal to ask for its passphrase on: .*--passphrase-env VAR/,
    );
    const ok = await cli(t.home, ['ls', '-i', keyFile, '--passphrase-env', 'MY_PASSPHRASE', `${served.base}/`], {
      MY_PASSPHRASE: PASSPHRASE,
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /inside\.txt/);
    const bad = await cli(t.home, ['ls', '-i', keyFile, '--passphrase-env', 'MY_PASSPHRASE', `${served.base}/`], {
      MY_PASSPHRASE: 'wrong',
    });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the passphrase in MY_PASSPHRASE does not open the key .*enc_key/);
  });
});
