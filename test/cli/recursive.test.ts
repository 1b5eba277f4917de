// `sftp-wire put -r` / `get -r` and the CLI's host key checking, end to end: child processes running
// the CLI against a real sshd, with HOME pointed at a temporary folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { runCli } from '../support/cli.js';

let home = '';

const cli = (args: string[]) => runCli(home, args);

/** Every entry under `dir`: relative path -> file contents (hex) or 'dir'. */
function snapshot(dir: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, r)).isDirectory()) {
      out.set(r, 'dir');
      snapshot(dir, r, out);
    } else out.set(r, readFileSync(join(dir, r)).toString('hex'));
  }
  return out;
}

function makeTree(root: string): void {
  const files: Record<string, Buffer> = {
    'a.txt': Buffer.from('alpha\n'),
    empty: Buffer.alloc(0),
    'with space.bin': randomBytes(300_000),
    'sub/ünïcødé.txt': Buffer.from('unicode name\n'),
    'sub/deeper/deepest/x': randomBytes(5000),
  };
  mkdirSync(join(root, 'empty-dir'), { recursive: true });
  for (let i = 0; i < 40; i++) files[`many/f${i}`] = randomBytes(i * 97);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  }
}

describe('sftp-wire put -r / get -r and host keys against sshd', () => {
  let sshd: Sshd;
  let tmp: string;
  let base: string;
  before(async () => {
    sshd = await startSshd();
    tmp = mkdtempSync(join(tmpdir(), 'sftp-wire-cli-r-'));
    home = join(tmp, 'home');
    mkdirSync(home);
    base = `sftp://${sshd.username}@${sshd.host}:${sshd.port}`;
  });
  after(async () => {
    await sshd?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('put -r into an existing directory, get -r to a new one: identical trees; the new host key is recorded once', async () => {
    const src = join(tmp, 'tree');
    makeTree(src);
    mkdirSync(join(tmp, 'remote'));
    const up = await cli(['put', '-r', '-i', sshd.privateKeyPath, src, `${base}${tmp}/remote`]);
    assert.equal(up.code, 0, up.stderr);
    const knownHosts = join(home, '.ssh', 'known_hosts');
    assert.match(
      up.stderr,
      new RegExp(`added the host key of \\[${sshd.host.replace(/\./g, '\\.')}\\]:${sshd.port} \\(ssh-ed25519 SHA256:`),
    );
    assert.ok(up.stderr.includes(`${knownHosts} line 1`), up.stderr);
    assert.match(up.stderr, /put -r .* -> .*\/remote\/tree: 45 files, \d+ directories, \d+ bytes in /);
    assert.deepEqual(snapshot(join(tmp, 'remote', 'tree')), snapshot(src));

    const down = await cli([
      'get',
      '-r',
      '-q',
      '-i',
      sshd.privateKeyPath,
      `${base}${tmp}/remote/tree`,
      join(tmp, 'back'),
    ]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stderr, ''); // quiet, and the host is known now: no notice
    assert.deepEqual(snapshot(join(tmp, 'back')), snapshot(src));
    assert.equal(readFileSync(knownHosts, 'utf8').split('\n').filter(Boolean).length, 1);
  });

  test('a tree with a failing entry: the rest is copied, the failure is listed on stderr, exit code 1', async () => {
    const src = join(tmp, 'partly');
    mkdirSync(src);
    writeFileSync(join(src, 'ok1'), 'one');
    writeFileSync(join(src, 'blocked'), 'cannot land');
    writeFileSync(join(src, 'ok2'), 'two');
    // On the remote side a non-empty directory sits where the file 'blocked' must go.
    mkdirSync(join(tmp, 'dst', 'partly', 'blocked'), { recursive: true });
    writeFileSync(join(tmp, 'dst', 'partly', 'blocked', 'keep'), 'k');
    const r = await cli(['put', '-r', '-i', sshd.privateKeyPath, src, `${base}${tmp}/dst/`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /1 entry failed:\n {2}blocked: /);
    assert.match(r.stderr, /2 files, .*1 failed/);
    assert.equal(readFileSync(join(tmp, 'dst', 'partly', 'ok1'), 'utf8'), 'one');
    assert.equal(readFileSync(join(tmp, 'dst', 'partly', 'ok2'), 'utf8'), 'two');
    assert.equal(readFileSync(join(tmp, 'dst', 'partly', 'blocked', 'keep'), 'utf8'), 'k');
  });

  test('a changed host key refuses put, get and ls (exit 1, file and line named); bad --host-key-check exits 2', async () => {
    const file = join(tmp, 'wrong_known_hosts');
    const other = readFileSync(`${sshd.privateKeyPath}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' '); // not the host's key
    writeFileSync(file, `[${sshd.host}]:${sshd.port} ${other}\n`);
    writeFileSync(join(tmp, 'up.txt'), 'x');
    const results = await Promise.all([
      cli([
        'put',
        '--known-hosts',
        file,
        '-i',
        sshd.privateKeyPath,
        join(tmp, 'up.txt'),
        `${base}${tmp}/must-not-exist.txt`,
      ]),
      cli(['ls', '--known-hosts', file, '--host-key-check', 'strict', '-i', sshd.privateKeyPath, `${base}${tmp}`]),
    ]);
    for (const r of results) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /HOST KEY CHANGED for \[127\.0\.0\.1\]:\d+/);
      assert.ok(r.stderr.includes(`${file} line 1`), r.stderr);
      assert.equal(r.stdout, '');
    }
    assert.throws(() => statSync(join(tmp, 'must-not-exist.txt')), /ENOENT/);
    assert.equal(readFileSync(file, 'utf8'), `[${sshd.host}]:${sshd.port} ${other}\n`);
    const bad = await cli(['get', '--host-key-check', 'maybe', `${base}/x`, join(tmp, 'y')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /strict, accept-new or off/);
  });
});
