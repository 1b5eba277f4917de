// SYMLINK's two paths are read in the order the client sends them: asyncssh (a real Python client
// on loopback) sends the draft's order to a server that does not call itself OpenSSH, OpenSSH's sftp
// and paramiko send the target first. The table itself is checked for every identification.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SftpServer } from '../../src/server/sftp-server.js';
import { startSftpSshServer, type RunningSftpSshServer } from '../../src/transport/ssh-server.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { symlinkOrderForClient } from '../../src/server/symlink-order.js';

const PYTHON = '/usr/bin/python3';

/** Run a Python client as a real child (asynchronously: the server under test runs in this process). */
function python(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(PYTHON, ['-c', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr });
    }),
  );
}

/** asyncssh as the client: log in with `key`, symlink(target, link) in its own (Python's os) order. */
const ASYNCSSH_SYMLINK = `
import asyncio, sys, asyncssh
async def main(port, key, target, link):
    async with asyncssh.connect('127.0.0.1', int(port), username='tester', client_keys=[key], known_hosts=None) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.symlink(target, link)
asyncio.run(main(*sys.argv[1:]))
`;

/** paramiko as the client, the same request. */
const PARAMIKO_SYMLINK = `
import sys, paramiko
port, key, target, link = sys.argv[1:]
t = paramiko.Transport(('127.0.0.1', int(port)))
t.connect(username='tester', pkey=paramiko.Ed25519Key.from_private_key_file(key))
s = paramiko.SFTPClient.from_transport(t)
s.symlink(target, link)
s.close(); t.close()
`;

describe('SYMLINK order per client over SSH', () => {
  let dir: string;
  let root: string;
  let keyFile: string;
  let running: RunningSftpSshServer;
  before(async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'sftp-wire-symlink-order-')));
    root = path.join(dir, 'root');
    mkdirSync(root);
    writeFileSync(path.join(root, 'target.txt'), 'x');
    const keys = generateEd25519KeyPair();
    keyFile = path.join(dir, 'id_ed25519');
    writeFileSync(keyFile, keys.private, { mode: 0o600 });
    const host = generateEd25519KeyPair();
    running = await startSftpSshServer({
      server: new SftpServer({ root }),
      hostKeys: [host.private],
      host: '127.0.0.1',
      port: 0,
      users: [{ username: 'tester', publicKeys: [keys.public] }],
    });
  });
  after(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, script] of [
    ['asyncssh', ASYNCSSH_SYMLINK],
    ['paramiko', PARAMIKO_SYMLINK],
  ] as const) {
    test(`${name}: the link is made at the link path, pointing at the target`, async () => {
      const link = `/link-${name}`;
      const r = await python(script, [String(running.port), keyFile, 'target.txt', link]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(readlinkSync(path.join(root, link)), 'target.txt');
    });
  }
});

test('symlinkOrderForClient: the documented table', () => {
  const cases: Array<[string | undefined, string, 'openssh' | 'draft']> = [
    ['SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3', 'SSH-2.0-sftp-wire', 'openssh'],
    ['SSH-2.0-paramiko_3.4.0', 'SSH-2.0-sftp-wire', 'openssh'],
    ['SSH-2.0-libssh2_1.11.0', 'SSH-2.0-sftp-wire', 'openssh'],
    ['SSH-2.0-AsyncSSH_2.13.0', 'SSH-2.0-sftp-wire', 'draft'],
    ['SSH-2.0-AsyncSSH_2.13.0', 'SSH-2.0-OpenSSH_9.6', 'openssh'],
    ['SSH-2.0-libssh_0.10.6', 'SSH-2.0-sftp-wire', 'draft'],
    ['SSH-2.0-libssh-0.6.3', 'SSH-2.0-OpenSSH_9.6', 'openssh'],
    ['SSH-2.0-PuTTY_Release_0.80', 'SSH-2.0-sftp-wire', 'openssh'],
    [undefined, 'SSH-2.0-sftp-wire', 'openssh'],
  ];
  for (const [client, server, want] of cases)
    assert.equal(symlinkOrderForClient(client, server), want, `${client} to ${server}`);
});

test('symlinkOrder forces the order, and a bad value is refused', () => {
  assert.throws(
    () => new SftpServer({ root: tmpdir(), symlinkOrder: 'reversed' as never }),
    /symlinkOrder must be one of/,
  );
});
