// The same client over ssh2's raw `sftp` subsystem channel to a real OpenSSH sshd on loopback.
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, symlinkSync, writeFileSync, mkdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { SftpClient } from '../../src/client/index.js';
import { connectSsh } from '../../src/transport/ssh-client.js';
import { rejectionOf } from './helpers.js';
import { tempDir } from '../support/temp-dir.js';

describe('SftpClient over ssh2 to OpenSSH sshd', () => {
  let sshd: Sshd;
  let tmp: ReturnType<typeof tempDir>;
  let client: SftpClient;
  before(async () => {
    sshd = await startSshd();
    tmp = tempDir();
    client = await SftpClient.connect({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
    });
  });
  after(async () => {
    await client?.end();
    await sshd?.stop();
    tmp?.cleanup();
  });

  test('handshake and limits over the SSH channel', () => {
    assert.equal(client.version, 3);
    assert.equal(client.isOpenSsh, true);
    assert.equal(client.limitsFromServer, true);
    assert.equal(client.readChunkSize, 261120);
  });

  test('requests: mkdir, stat, symlink/readlink, rename, list, posixRename, statvfs, remove, rmdir, errors', async () => {
    const d = join(tmp.dir, 'req');
    await client.mkdir(d);
    writeFileSync(join(d, 'a'), 'A');
    await client.symlink('a', join(d, 'l'));
    assert.equal(readlinkSync(join(d, 'l')), 'a');
    assert.equal(await client.readlink(join(d, 'l')), 'a');
    await client.rename(join(d, 'a'), join(d, 'b'));
    assert.deepEqual((await client.list(d)).map((e) => e.filename).sort(), ['b', 'l']);
    writeFileSync(join(d, 'c'), 'C');
    await client.posixRename(join(d, 'c'), join(d, 'b'));
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'C');
    assert.ok((await client.statvfs(d)).bsize > 0n);
    assert.equal((await rejectionOf(client.stat(join(d, 'zz')))).code, 'ENOENT');
    for (const n of ['b', 'l']) await client.remove(join(d, n));
    await client.rmdir(d);
  });

  test('get and put of 0, 1, chunk+1 and 20 MiB random bytes are byte-identical', async () => {
    for (const size of [0, 1, 261121, 20 * 1024 * 1024]) {
      const data = randomBytes(size);
      const src = join(tmp.dir, `src-${size}`);
      writeFileSync(src, data);
      const g = await client.get(src, join(tmp.dir, `get-${size}`));
      assert.equal(g.bytes, size);
      assert.ok(readFileSync(join(tmp.dir, `get-${size}`)).equals(data));
      const p = await client.put(src, join(tmp.dir, `put-${size}`), { requests: 16 });
      assert.equal(p.bytes, size);
      assert.ok(readFileSync(join(tmp.dir, `put-${size}`)).equals(data));
    }
  });

  test('scandir streams a directory of 1,000 entries; an early break closes the handle', async () => {
    const d = join(tmp.dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 1000; i++) writeFileSync(join(d, `n${i}`), '');
    assert.equal((await client.list(d)).length, 1000);
    for await (const e of client.scandir(d)) {
      void e;
      break;
    }
    assert.equal(client.session.inFlight, 0);
    assert.equal((await client.list(d)).length, 1000);
  });

  test('fromSsh on a caller-owned connection; the connection dropping rejects pending requests', async () => {
    const conn: ssh2.Client = await connectSsh({
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKey: sshd.privateKey,
    });
    const c = await SftpClient.fromSsh(conn);
    writeFileSync(join(tmp.dir, 'x'), 'x');
    assert.equal((await c.stat(join(tmp.dir, 'x'))).size, 1);
    const pending = c.readFile(join(tmp.dir, `src-${20 * 1024 * 1024}`), { chunkSize: 32768, requests: 4 });
    setImmediate(() => conn.destroy());
    const e = await rejectionOf(pending);
    assert.ok(e.code === 'ECONNRESET' || e.code === 'ERR_SFTP_CLOSED', String(e));
    assert.equal((await rejectionOf(c.stat(tmp.dir))).code, 'ERR_SFTP_CLOSED');
    symlinkSync('x', join(tmp.dir, 'y'));
  });

  test('bad credentials reject connect', async () => {
    const e = await rejectionOf(
      SftpClient.connect({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKey: generateEd25519KeyPair().private,
      }),
    );
    assert.match(e.message, /authentication/i);
  });
});
