import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, chmodSync, lstatSync, realpathSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { putTree, type TreeOptions } from '../../src/client/tree/index.js';
import { SftpClient } from '../../src/client/index.js';
import { SftpServer, LocalFs, fsError } from '../../src/server/index.js';
import { treeDiff, writeTree, type TreeSpec } from './helpers.js';
import { removeDir, tempDir } from '../support/temp-dir.js';

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

/** A LocalFs whose mkdir of a directory named "held" is answered only once `release()` is called. */
class HeldMkdirFs extends LocalFs {
  private readonly waiting: Array<() => void> = [];
  held = 0;
  override async mkdir(vpath: string, mode?: number): Promise<void> {
    if (posix.basename(vpath) === 'held') {
      this.held++;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    return super.mkdir(vpath, mode);
  }
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

async function serveOn(server: SftpServer): Promise<{ client: SftpClient; close(): Promise<void> }> {
  const served: Array<Promise<void>> = [];
  const net = createServer((s) => {
    served.push(server.serve(s).catch(() => {}));
  });
  await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
  const sock = createConnection({ port: (net.address() as { port: number }).port, host: '127.0.0.1' });
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  const client = await SftpClient.fromStream(sock);
  return {
    client,
    async close() {
      await client.end().catch(() => {});
      sock.destroy();
      await Promise.all(served);
      await new Promise<void>((r) => net.close(() => r()));
    },
  };
}

describe('putTree waits for the MKDIR of directories with nothing to upload in them (a server whose mkdir is slow)', () => {
  const root = realpathSync(tmpdir());
  const fs = new SlowMkdirFs(root);
  const server = new SftpServer({ fs });
  let conn: { client: SftpClient; close(): Promise<void> };
  let client: SftpClient;
  let base: string;
  const remote = (p: string) => '/' + relative(root, p);

  before(async () => {
    conn = await serveOn(server);
    client = conn.client;
    base = tempDir().dir;
  });
  after(async () => {
    await conn.close();
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

describe('putTree: an abort is not held up by a MKDIR the server never answers', () => {
  const cases: Array<{ what: string; spec: TreeSpec; top?: string; opts?: TreeOptions }> = [
    { what: 'an empty directory', spec: { held: {} } },
    {
      what: 'a directory with a file and a link in it',
      spec: { held: { f: 'x', 'g %': { link: 'f' } } },
      opts: { symlinks: 'copy' },
    },
    { what: 'a directory with a file in it, atomic uploads', spec: { held: { f: 'x' } }, opts: { atomic: true } },
    { what: 'the top directory itself', spec: { f: 'x' }, top: 'held' },
  ];
  for (const c of cases) {
    test(`${c.what}: the aborted putTree rejects with an AbortError`, { timeout: 20_000 }, async () => {
      const root = realpathSync(tmpdir());
      const fs = new HeldMkdirFs(root);
      const conn = await serveOn(new SftpServer({ fs }));
      const base = tempDir().dir;
      try {
        const src = join(base, 'src');
        writeTree(src, c.spec);
        const ac = new AbortController();
        const dst = '/' + relative(root, join(base, c.top ?? 'up'));
        const put = putTree(conn.client, src, dst, { ...c.opts, signal: ac.signal });
        put.catch(() => {});
        // abort once the server is sitting on the MKDIR
        for (let i = 0; i < 200 && fs.held === 0; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(fs.held, 1, 'the server got the MKDIR of "held"');
        // let the local walk reach the entries inside, which then wait for that MKDIR
        await new Promise((r) => setTimeout(r, 200));
        ac.abort();
        await assert.rejects(put, (err: unknown) => (err as Error).name === 'AbortError');
      } finally {
        fs.release();
        await conn.close();
        removeDir(base);
      }
    });
  }
});
