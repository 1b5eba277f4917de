// The client picks SYMLINK's wire order from the server's SSH identification: AsyncSSH's server (a
// real Python child on loopback) reads the draft's order from us although it advertises
// @openssh.com extensions; our own server reads OpenSSH's. Checked on disk after each symlink().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SftpClient, symlinkTargetFirstFor } from '../../src/client/client.js';
import { connectSsh } from '../../src/transport/ssh-client.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { startSftpSshServer } from '../../src/transport/ssh-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ASYNCSSH_SERVER = path.join(here, '../interop/asyncssh-sftp-server.py');
const PYTHON = '/usr/bin/python3';

describe('client SYMLINK order over SSH', () => {
  let dir: string;
  const keys = generateEd25519KeyPair();
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-client-symlink-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('AsyncSSH server: the link is made at the link path (draft order sent)', { timeout: 120_000 }, async () => {
    const r = spawnSync(PYTHON, ['-c', 'import asyncssh'], { stdio: 'ignore' });
    assert.equal(r.status, 0, `${PYTHON} cannot import asyncssh: install python3-asyncssh`);
    const root = path.join(dir, 'asyncssh-root');
    mkdirSync(root);
    writeFileSync(path.join(dir, 'authorized_keys'), keys.public + '\n');
    const server = spawn(PYTHON, [ASYNCSSH_SERVER, root, path.join(dir, 'authorized_keys'), String(1 << 30)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((res) => server.once('exit', () => res()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.once('exit', (code) => reject(new Error(`the AsyncSSH server exited (${code}) before listening`)));
        createInterface({ input: server.stdout! }).once('line', (l) => resolve(Number(l)));
      });
      const conn = await connectSsh({
        host: '127.0.0.1',
        port,
        username: 'tester',
        privateKey: keys.private,
        readyTimeout: 30_000,
      });
      const client = await SftpClient.fromSsh(conn);
      assert.ok(
        [...client.extensions.keys()].some((n) => n.endsWith('@openssh.com')),
        'it advertises @openssh.com extensions',
      );
      await client.symlink('target.txt', '/link');
      assert.equal(readlinkSync(path.join(root, 'link')), 'target.txt');
      await client.end();
      conn.end();
    } finally {
      server.stdin!.end();
      const t = setTimeout(() => server.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
  });

  test('sftp-wire server: the link is made at the link path', { timeout: 60_000 }, async () => {
    const root = path.join(dir, 'ours-root');
    mkdirSync(root);
    const running = await startSftpSshServer({
      server: new SftpServer({ root }),
      hostKeys: [generateEd25519KeyPair().private],
      host: '127.0.0.1',
      port: 0,
      users: [{ username: 'tester', publicKeys: [keys.public] }],
    });
    try {
      const conn = await connectSsh({
        host: '127.0.0.1',
        port: running.port,
        username: 'tester',
        privateKey: keys.private,
        readyTimeout: 30_000,
      });
      const client = await SftpClient.fromSsh(conn);
      await client.symlink('target.txt', '/link');
      assert.equal(readlinkSync(path.join(root, 'link')), 'target.txt');
      await client.end();
      conn.end();
    } finally {
      await running.close();
    }
  });
});

test('symlinkTargetFirstFor: the documented table', () => {
  assert.equal(symlinkTargetFirstFor('OpenSSH_9.2p1 Debian-2+deb12u3'), true);
  assert.equal(symlinkTargetFirstFor('SSH-2.0-OpenSSH_9.6'), true);
  assert.equal(symlinkTargetFirstFor('paramiko_3.4.0'), true);
  assert.equal(symlinkTargetFirstFor('sftp-wire'), true);
  assert.equal(symlinkTargetFirstFor('AsyncSSH_2.13.0'), false);
  assert.equal(symlinkTargetFirstFor('mod_sftp'), true); // ProFTPD 1.3.8 reads the target first from us
  assert.equal(symlinkTargetFirstFor('mod_sftp/1.0.0'), true);
  assert.equal(symlinkTargetFirstFor('rclone/'), false);
});
