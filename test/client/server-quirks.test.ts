// A server met in test/interop/client-vs-servers.test.ts, reproduced in process:
// ProFTPD with `HiddenStores on`: a file opened for writing is written under a hidden name and
//   renamed into place only at CLOSE; the name shows nothing (or an older file) until then. An
//   upload's read-back (verify, resume) must still see the bytes written.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { posix } from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { FsError } from '../../src/server/fs/fs-error.js';
import type { FileSystem, FsFile, OpenOptions } from '../../src/server/fs/file-system.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

/** A file system that stores as ProFTPD's HiddenStores does: every write open is a fresh hidden file, renamed over the name at CLOSE. */
function hiddenStores(inner: FileSystem): FileSystem {
  const open = async (p: string, o: OpenOptions): Promise<FsFile> => {
    if (!o.write) return inner.open(p, o);
    if (!o.create) throw new FsError('ENOENT', 'no such file'); // what ProFTPD answers to 'r+'
    if (
      o.exclusive &&
      (await inner.lstat(p).then(
        () => true,
        () => false,
      ))
    )
      throw new FsError('EEXIST', 'file exists');
    const hidden = posix.join(posix.dirname(p), `.in.${posix.basename(p)}.`);
    const f = await inner.open(hidden, { ...o, create: true, truncate: true, exclusive: false });
    return new Proxy(f, {
      get(t, k) {
        if (k === 'close')
          return async () => {
            await t.close();
            await inner.rename(hidden, p, { overwrite: true });
          };
        const v = Reflect.get(t, k) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
  };
  return new Proxy(inner, {
    get(t, k) {
      if (k === 'open') return open;
      const v = Reflect.get(t, k) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

async function serve(fs: FileSystem) {
  const [a, b] = memoryPair(1 << 20);
  const served = new SftpServer({ fs }).serve(b).catch(() => undefined);
  return { a, served };
}

describe('HiddenStores-like server: uploads read back what they wrote', () => {
  const data = randomBytes(700_000);
  let dir: string;
  const src = () => path.join(dir, 'src.bin');

  for (const verify of ['tail', 'hash', 'size'] as const) {
    test(`atomic put with verify '${verify}' commits the file`, async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-hidden-'));
      writeFileSync(src(), data);
      const fs = hiddenStores(new MemoryFs());
      const { a, served } = await serve(fs);
      const client = await SftpClient.fromStream(a);
      try {
        const r = await client.put(src(), '/dst.bin', { atomic: true, verify });
        assert.equal(r.verified, verify);
        assert.ok((await client.readFile('/dst.bin')).equals(data));
        assert.deepEqual(
          (await client.list('/')).map((e) => e.filename),
          ['dst.bin'],
        );
      } finally {
        await client.end();
        await served;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('resume over a partial the server starts afresh: the upload restarts and is whole', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-hidden-'));
    writeFileSync(src(), data);
    const fs = hiddenStores(new MemoryFs());
    const { a, served } = await serve(fs);
    const client = await SftpClient.fromStream(a);
    try {
      const stop = new AbortController();
      await assert.rejects(
        client.put(src(), '/r.bin', {
          resume: true,
          chunkSize: 32 * 1024,
          requests: 2,
          signal: stop.signal,
          stateDir: path.join(dir, 'state'),
          onProgress: (p) => {
            if (p.bytes >= 200_000) stop.abort();
          },
        }),
        { name: 'AbortError' },
      );
      const r = await client.put(src(), '/r.bin', { resume: true, verify: 'tail', stateDir: path.join(dir, 'state') });
      assert.equal(r.resumedFrom, 0);
      assert.ok((await client.readFile('/r.bin')).equals(data));
    } finally {
      await client.end();
      await served;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
