// REMOVE of a directory: every server tried (OpenSSH, ProFTPD, AsyncSSH, paramiko, rclone) answers a
// bare FAILURE, which a user could not tell from a disk error. One LSTAT after it says "a directory":
// the error comes back as EISDIR (what Node's fs.unlink gives on Linux), status and message kept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacketType as T, SftpError, StatusCode } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { FakeServer } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { openSsh, rejectionOf, type OpenSshFixture } from './helpers.js';

describe("remove() of a directory against OpenSSH's sftp-server", () => {
  let f: OpenSshFixture;
  before(async () => {
    f = await openSsh();
    mkdirSync(join(f.dir, 'dir'));
    writeFileSync(join(f.dir, 'dir', 'x'), 'x');
    mkdirSync(join(f.dir, 'empty'));
  });
  after(() => f.close());

  for (const name of ['dir', 'empty']) {
    test(`${name}: EISDIR, the wire status kept, nothing removed`, async () => {
      const e = await rejectionOf(f.client.remove(name));
      assert.ok(e instanceof SftpError, String(e));
      assert.equal(e.code, 'EISDIR', e.message);
      assert.equal(e.status, StatusCode.FAILURE);
      assert.equal(e.op, 'remove');
      assert.equal(e.path, name);
      assert.ok(e.cause instanceof SftpError && e.cause.code === 'EIO');
      assert.ok(existsSync(join(f.dir, name)));
    });
  }

  test('a missing name stays ENOENT', async () => {
    assert.equal((await rejectionOf(f.client.remove('nope'))).code, 'ENOENT');
  });
});

test('a bare FAILURE removing a file (not a directory) stays EIO; a non-FAILURE status sends no LSTAT', async () => {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  server.onRequest = (r) => {
    if (r.type === T.REMOVE) {
      const code = r.path === '/busy' ? StatusCode.FAILURE : StatusCode.PERMISSION_DENIED;
      server.send({ type: T.STATUS, id: r.id, code, message: 'no', lang: '' });
    } else server.send({ type: T.ATTRS, id: r.id, attrs: { size: 1, permissions: 0o100644 } });
  };
  const client = await SftpClient.fromStream(a);
  assert.equal((await rejectionOf(client.remove('/busy'))).code, 'EIO');
  assert.equal((await rejectionOf(client.remove('/locked'))).code, 'EACCES');
  assert.deepEqual(
    server.received.map((r) => r.type),
    [T.REMOVE, T.LSTAT, T.REMOVE],
  );
  await client.end();
});
