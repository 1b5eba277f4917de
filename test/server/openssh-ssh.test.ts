import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { PacketType as T } from '../../src/protocol/constants.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { startSftpSshServer, loadOrCreateHostKey, type RunningSftpSshServer } from '../../src/transport/ssh-server.js';
import { RawClient } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';
import { makeUserKey } from '../support/openssh-client.js';
import { TSX_LOADER, CLI_MAIN } from '../support/cli.js';
import { opensshInteropSuite } from './helpers/interop-suite.js';

const keys = tempDir('sftp-wire-ssh-keys-');
const user = makeUserKey(keys.dir);
const hostKey = loadOrCreateHostKey(path.join(keys.dir, 'host_key'));
process.on('exit', () => keys.cleanup());

opensshInteropSuite(
  'OpenSSH sftp over ssh against startSftpSshServer',
  async (root) => {
    const running = await startSftpSshServer({
      server: new SftpServer({ root }),
      hostKeys: [hostKey],
      port: 0,
      authorizedKeysFile: user.pub,
    });
    return { target: { port: running.port, key: user.key }, close: () => running.close() };
  },
  [
    [5, 16],
    [1000, 1],
    [32768, 64],
    [64000, 16],
  ],
);

/** An ssh2 client session on the raw `sftp` subsystem channel, driven by RawClient. */
async function rawOverSsh(port: number, auth: ssh2.ConnectConfig): Promise<{ client: RawClient; conn: ssh2.Client }> {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn
      .once('ready', resolve)
      .once('error', reject)
      .connect({ host: '127.0.0.1', port, ...auth });
  });
  const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
    conn.subsys('sftp', (err, ch) => (err ? reject(err) : resolve(ch))),
  );
  const client = new RawClient(channel);
  await client.init();
  return { client, conn };
}

describe('startSftpSshServer: authentication and refusals', () => {
  let running: RunningSftpSshServer;
  const fs = new MemoryFs();

  before(async () => {
    running = await startSftpSshServer({
      server: new SftpServer({ fs }),
      hostKeys: [hostKey],
      port: 0,
      users: [{ username: 'alice', password: 'wonderland', publicKeys: [readFileSync(user.pub, 'utf8')] }],
    });
  });
  after(() => running.close());

  it('password authentication gives an SFTP session on the raw subsystem channel', async () => {
    const { client, conn } = await rawOverSsh(running.port, { username: 'alice', password: 'wonderland' });
    await client.writeFile('/hello.txt', Buffer.from('hi there'));
    assert.deepEqual(await client.readFile('/hello.txt'), Buffer.from('hi there'));
    assert.equal((await client.attrs(T.STAT, '/hello.txt')).size, 8);
    conn.end();
  });

  it('a per-user public key authenticates; a wrong password does not', async () => {
    const { client, conn } = await rawOverSsh(running.port, { username: 'alice', privateKey: readFileSync(user.key) });
    assert.equal(await client.realpath('.'), '/');
    conn.end();
    await assert.rejects(rawOverSsh(running.port, { username: 'alice', password: 'nope' }), /authentication/i);
  });

  it('exec, shell and other subsystems are refused', async () => {
    const conn = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      conn
        .once('ready', resolve)
        .once('error', reject)
        .connect({ host: '127.0.0.1', port: running.port, username: 'alice', password: 'wonderland' });
    });
    const execErr = await new Promise<Error | undefined>((resolve) => conn.exec('id', (err) => resolve(err)));
    assert.ok(execErr, 'exec refused');
    const shellErr = await new Promise<Error | undefined>((resolve) => conn.shell((err) => resolve(err)));
    assert.ok(shellErr, 'shell refused');
    const subErr = await new Promise<Error | undefined>((resolve) => conn.subsys('netconf', (err) => resolve(err)));
    assert.ok(subErr, 'other subsystem refused');
    const fwdErr = await new Promise<Error | undefined>((resolve) =>
      conn.forwardOut('127.0.0.1', 0, '127.0.0.1', running.port, (err) => resolve(err)),
    );
    assert.ok(fwdErr, 'port forwarding refused');
    conn.end();
  });
});

describe('startSftpSshServer: idle timeout', () => {
  it('closes a connection that stays idle', async () => {
    const running = await startSftpSshServer({
      server: new SftpServer({ fs: new MemoryFs() }),
      hostKeys: [hostKey],
      port: 0,
      users: [{ username: 'bob', password: 'pw' }],
      idleTimeoutMs: 150,
    });
    const { client, conn } = await rawOverSsh(running.port, { username: 'bob', password: 'pw' });
    assert.equal(await client.realpath('x'), '/x');
    await new Promise<void>((resolve) => conn.once('close', () => resolve()));
    assert.equal(client.ended, true);
    await running.close();
  });
});

describe('sftp-wire serve (TCP)', () => {
  it('generates a host key on first use and keeps it; prints credentials; serves them', async () => {
    const t = tempDir('sftp-wire-cli-serve-');
    const keyFile = path.join(t.dir, 'host_key');
    const start = async (): Promise<{ port: number; user: string; password: string; stop(): Promise<void> }> => {
      const child = spawn(
        process.execPath,
        ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--root', t.dir, '--port', '0', '--host-key', keyFile],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      for (let i = 0; i < 2000 && !/password: \S+\n/.test(out); i++) await new Promise((r) => setTimeout(r, 10));
      const m = /sftp:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*user: (\S+) +password: (\S+)/.exec(out);
      assert.ok(m, `unexpected output: ${out}`);
      return {
        port: Number(m[1]),
        user: m[2]!,
        password: m[3]!,
        stop: () =>
          new Promise<void>((resolve) => {
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    };
    const first = await start();
    assert.ok(existsSync(keyFile));
    const keyBytes = readFileSync(keyFile);
    const { client, conn } = await rawOverSsh(first.port, { username: first.user, password: first.password });
    await client.writeFile('/via-cli.txt', Buffer.from('served'));
    conn.end();
    await first.stop();
    assert.equal(readFileSync(path.join(t.dir, 'via-cli.txt'), 'utf8'), 'served');
    const second = await start();
    assert.deepEqual(readFileSync(keyFile), keyBytes, 'the host key is kept');
    assert.notEqual(second.password, first.password);
    await second.stop();
    t.cleanup();
  });
});
