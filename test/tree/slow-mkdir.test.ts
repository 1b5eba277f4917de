import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, chmodSync, lstatSync, realpathSync } from 'node:fs';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { putTree } from '../../src/client/tree/index.js';
import { SftpClient } from '../../src/client/index.js';
import { SftpServer, LocalFs, fsError } from '../../src/server/index.js';
import { removeDir, tempDir, treeDiff, writeTree } from './helpers.js';

/**
 * putTree sends a directory's MKDIR as soon as its local walk meets it and does not wait for the
 * reply before walking on. A directory with nothing to upload inside it (empty, or only empty
 * directories below it) finishes its walk at once; the upload must still wait for its MKDIR's
 * answer before it counts the directory done, sets its mode, or returns. A server on a slow disk
 * (here: a LocalFs whose mkdir answers after a delay) makes that reply come long after the walk.
 */
const MKDIR_DELAY_MS = 300;

class SlowMkdirFs extends LocalFs {
  mkdirCalls = 0;
  override async mkdir(vpath: string, mode?: number): Promise<void> {
    this.mkdirCalls++;
    await new Promise((r) => setTimeout(r, MKDIR_DELAY_MS));
    // A name the server refuses: its error must reach the result, however late it comes.
    if (posix.basename(vpath) === 'refused %') throw fsError('EACCES');
    return super.mkdir(vpath, mode);
  }
}

describe('putTree waits for the MKDIR of directories with nothing to upload in them (a server whose mkdir is slow)', () => {
  const root = realpathSync(tmpdir());
  const fs = new SlowMkdirFs(root);
  const server = new SftpServer({ fs });
  let net: Server;
  let sock: Socket;
  let client: SftpClient;
  const served: Array<Promise<void>> = [];
  let base: string;
  const remote = (p: string) => '/' + relative(root, p);

  before(async () => {
    net = createServer((s) => {
      served.push(server.serve(s).catch(() => {}));
    });
    await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
    sock = createConnection({ port: (net.address() as { port: number }).port, host: '127.0.0.1' });
    await new Promise<void>((r, j) => {
      sock.once('connect', () => r());
      sock.once('error', j);
    });
    client = await SftpClient.fromStream(sock);
    base = tempDir();
  });
  after(async () => {
    await client.end().catch(() => {});
    sock.destroy();
    await Promise.all(served);
    await new Promise<void>((r) => net.close(() => r()));
    removeDir(base);
  });

  test('every empty directory (awkward names too) exists when putTree returns, and each is counted', async () => {
    const src = join(base, 'empty-src');
    writeTree(src, { '% ': {}, a: {}, 'b %20': { 'c ': {}, 'd\\e': {} }, 'f\n': {}, file: 'x' });
    const up = join(base, 'empty-up');
    const r = await putTree(client, src, remote(up));
    // checked at once: nothing the upload sent may still be on its way
    assert.deepEqual(treeDiff(src, up), []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.directories, 7, 'the top and its six directories');
    assert.equal(r.files, 1);
  });

  test('a directory without write permission gets its mode once its (slow) MKDIR is done', async () => {
    const src = join(base, 'mode-src');
    mkdirSync(join(src, 'locked', 'inner'), { recursive: true });
    chmodSync(join(src, 'locked', 'inner'), 0o500);
    chmodSync(join(src, 'locked'), 0o550);
    const up = join(base, 'mode-up');
    const r = await putTree(client, src, remote(up));
    assert.deepEqual(r.errors, []);
    assert.equal(lstatSync(join(up, 'locked')).mode & 0o777, 0o550);
    assert.equal(lstatSync(join(up, 'locked', 'inner')).mode & 0o777, 0o500);
  });

  test('a directory the server refuses late is an error in the result, not lost', async () => {
    const src = join(base, 'refused-src');
    writeTree(src, { 'refused %': {}, ok: {} });
    const up = join(base, 'refused-up');
    const r = await putTree(client, src, remote(up));
    assert.deepEqual(
      r.errors.map((e) => e.path),
      ['refused %'],
    );
    assert.equal(existsSync(join(up, 'ok')), true);
    assert.equal(existsSync(join(up, 'refused %')), false);
    assert.equal(r.directories, 2);
  });
});
