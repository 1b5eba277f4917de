// Error codes a Node user can branch on: the later drafts' status codes (a fake server sending 11 and
// 18), and a bare FAILURE of mkdir/rmdir/rename/open told apart by one LSTAT (OpenSSH's sftp-server).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacketType as T, SftpError, StatusCode } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { openSsh, rejectionOf, type OpenSshFixture } from './helpers.js';

describe("a bare FAILURE from OpenSSH's sftp-server gets the code Node's fs would give", () => {
  let f: OpenSshFixture;
  before(async () => {
    f = await openSsh();
    mkdirSync(join(f.dir, 'full'));
    writeFileSync(join(f.dir, 'full', 'x'), 'x');
    mkdirSync(join(f.dir, 'empty'));
    writeFileSync(join(f.dir, 'file'), 'f');
    writeFileSync(join(f.dir, 'other'), 'o');
  });
  after(() => f.close());

  const cases: Array<[string, (c: SftpClient) => Promise<unknown>, string, string]> = [
    ['mkdir of an existing directory', (c) => c.mkdir('full'), 'EEXIST', 'full'],
    ['mkdir over an existing file', (c) => c.mkdir('file'), 'EEXIST', 'file'],
    ['rmdir of a non-empty directory', (c) => c.rmdir('full'), 'ENOTEMPTY', 'full'],
    ['rename onto an existing name', (c) => c.rename('file', 'other'), 'EEXIST', 'file'],
    ["open 'wx' of an existing file", (c) => c.open('file', 'wx'), 'EEXIST', 'file'],
    ["open 'w' of a directory", (c) => c.open('empty', 'w'), 'EISDIR', 'empty'],
  ];
  for (const [name, call, code, path] of cases) {
    test(`${name}: ${code}`, async () => {
      const e = await rejectionOf(call(f.client));
      assert.ok(e instanceof SftpError, String(e));
      assert.equal(e.status, StatusCode.FAILURE); // the wire status is kept
      assert.equal(e.code, code, e.message);
      assert.equal(e.path, path);
      assert.ok(e.message.startsWith(`${code}: `), e.message);
      assert.ok(e.cause instanceof SftpError && e.cause.code === 'EIO');
    });
  }

  test('what is not a bare FAILURE is left alone: a missing directory is ENOENT, an empty one goes', async () => {
    assert.equal((await rejectionOf(f.client.rmdir('nope'))).code, 'ENOENT');
    assert.equal((await rejectionOf(f.client.mkdir('nope/deeper'))).code, 'ENOENT');
    await f.client.rmdir('empty');
    await f.client.mkdir('empty');
  });
});

describe('status codes of the later drafts, and when no LSTAT is sent', () => {
  async function scripted(answer: (r: Request) => { code: number; message: string } | 'attrs' | 'missing') {
    const [a, b] = memoryPair();
    const server = new FakeServer(b);
    server.onRequest = (r) => {
      const what = answer(r);
      if (what === 'attrs') server.send({ type: T.ATTRS, id: r.id, attrs: { size: 0, permissions: 0o40755 } });
      else if (what === 'missing')
        server.send({ type: T.STATUS, id: r.id, code: StatusCode.NO_SUCH_FILE, message: 'No such file', lang: '' });
      else server.send({ type: T.STATUS, id: r.id, ...what, lang: '' });
    };
    const client = await SftpClient.fromStream(a);
    return { client, server };
  }

  test('FILE_ALREADY_EXISTS (11) to a v3 client is EEXIST; DIR_NOT_EMPTY (18) is ENOTEMPTY; no LSTAT follows', async () => {
    const { client, server } = await scripted((r) =>
      r.type === T.MKDIR
        ? { code: 11, message: 'File exists' }
        : r.type === T.RMDIR
          ? { code: 18, message: 'Directory not empty' }
          : 'attrs',
    );
    const mk = await rejectionOf(client.mkdir('/d'));
    assert.equal(mk.code, 'EEXIST');
    assert.equal(mk.status, 11);
    assert.equal(mk.message, 'EEXIST: File exists (mkdir "/d")');
    const rm = await rejectionOf(client.rmdir('/d'));
    assert.equal(rm.code, 'ENOTEMPTY');
    assert.equal(rm.status, 18);
    assert.deepEqual(
      server.received.map((r) => r.type),
      [T.MKDIR, T.RMDIR],
    );
    await client.end();
  });

  test('a FAILURE that names its errno keeps it, without an LSTAT', async () => {
    const { client, server } = await scripted((r) =>
      r.type === T.MKDIR ? { code: StatusCode.FAILURE, message: 'EROFS: read-only' } : 'attrs',
    );
    assert.equal((await rejectionOf(client.mkdir('/d'))).code, 'EROFS');
    assert.deepEqual(
      server.received.map((r) => r.type),
      [T.MKDIR],
    );
    await client.end();
  });

  test('a bare FAILURE whose target is not there stays EIO (one LSTAT, answered NO_SUCH_FILE)', async () => {
    const { client, server } = await scripted((r) =>
      r.type === T.MKDIR ? { code: StatusCode.FAILURE, message: 'Failure' } : 'missing',
    );
    const e = await rejectionOf(client.mkdir('/d'));
    assert.equal(e.code, 'EIO');
    assert.deepEqual(
      server.received.map((r) => r.type),
      [T.MKDIR, T.LSTAT],
    );
    await client.end();
  });

  test('a RENAME is refined by its new path; a read-only OPEN is not refined at all', async () => {
    const { client, server } = await scripted((r) =>
      r.type === T.RENAME || r.type === T.OPEN ? { code: StatusCode.FAILURE, message: 'Failure' } : 'attrs',
    );
    const e = await rejectionOf(client.rename('/a', '/b'));
    assert.equal(e.code, 'EEXIST');
    assert.equal((server.received[1] as { path: string }).path, '/b');
    assert.equal((await rejectionOf(client.open('/a', 'r'))).code, 'EIO');
    assert.deepEqual(
      server.received.map((r) => r.type),
      [T.RENAME, T.LSTAT, T.OPEN],
    );
    await client.end();
  });
});
