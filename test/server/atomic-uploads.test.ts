import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import type { SftpServerOptions } from '../../src/server/options.js';
import type { FileSystem, FsFile } from '../../src/server/fs/file-system.js';
import { fsError } from '../../src/server/fs/fs-error.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { isHiddenUploadName, PARTIAL_SUFFIX, UPLOAD_SUFFIX } from '../../src/server/atomic/hidden-names.js';
import { connect } from '../support/raw-client.js';
import { storages } from './helpers/fixtures.js';

const NEW = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;
const RESUME = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.APPEND;

/** Everything in a directory, hidden upload files included (seen through a server with atomic uploads off). */
async function rawListing(fs: FileSystem, dir = '/'): Promise<string[]> {
  const { client, served } = await connect(new SftpServer({ fs }));
  const names = (await client.list(dir)).filter((n) => n !== '.' && n !== '..');
  client.end();
  await served;
  return names;
}

async function session(fs: FileSystem, opts: Omit<SftpServerOptions, 'fs'>) {
  return connect(new SftpServer({ fs, ...opts }));
}

for (const storage of storages) {
  describe(`server-side atomic uploads on ${storage.name}`, () => {
    it('atomic: the final name appears only at CLOSE; the temporary file is hidden from READDIR', async () => {
      const m = storage.make();
      const { client: c, served } = await session(m.fs, { atomicUploads: 'atomic' });
      await c.writeFile('/report.csv', Buffer.from('old contents'));
      const h = await c.open('/report.csv', NEW);
      await c.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.from('new ') });
      // mid-upload: the final name still holds the old file; the upload is invisible
      assert.deepEqual(await c.readFile('/report.csv'), Buffer.from('old contents'));
      assert.deepEqual(
        (await c.list('/')).filter((n) => !n.startsWith('.')),
        ['report.csv'],
      );
      assert.ok(!(await c.list('/')).some(isHiddenUploadName));
      assert.ok((await rawListing(m.fs)).some((n) => n.endsWith(UPLOAD_SUFFIX)));
      const fst = await c.request({ type: T.FSTAT, handle: h });
      assert.equal(fst.type === T.ATTRS && fst.attrs.size, 4);
      await c.ok({ type: T.WRITE, handle: h, offset: 4, data: Buffer.from('contents') });
      await c.ok({ type: T.CLOSE, handle: h });
      assert.deepEqual(await c.readFile('/report.csv'), Buffer.from('new contents'));
      assert.deepEqual(await rawListing(m.fs), ['report.csv']);
      c.end();
      await served;
      m.cleanup();
    });

    it('atomic: a session cut before CLOSE leaves the old file (or nothing) and no temporary file', async () => {
      const m = storage.make();
      const first = await session(m.fs, { atomicUploads: 'atomic' });
      await first.client.writeFile('/keep.bin', Buffer.from('version 1'));
      const h1 = await first.client.open('/keep.bin', NEW);
      const h2 = await first.client.open('/fresh.bin', NEW);
      await first.client.ok({ type: T.WRITE, handle: h1, offset: 0, data: randomBytes(5000) });
      await first.client.ok({ type: T.WRITE, handle: h2, offset: 0, data: randomBytes(5000) });
      first.client.stream.destroy();
      await first.served;
      assert.deepEqual(await rawListing(m.fs), ['keep.bin']);
      const check = await session(m.fs, {});
      assert.deepEqual(await check.client.readFile('/keep.bin'), Buffer.from('version 1'));
      check.client.end();
      await check.served;
      m.cleanup();
    });

    it('atomic: a replaced file keeps its permission bits; EXCL on an existing name still fails', async () => {
      const m = storage.make();
      const { client: c, served } = await session(m.fs, { atomicUploads: 'atomic' });
      await c.writeFile('/mode.txt', Buffer.from('a'));
      await c.ok({ type: T.SETSTAT, path: '/mode.txt', attrs: { permissions: 0o600 } });
      await c.writeFile('/mode.txt', Buffer.from('b'));
      assert.equal((await c.attrs(T.STAT, '/mode.txt')).permissions! & 0o777, 0o600);
      const s = await c.statusOf({ type: T.OPEN, path: '/mode.txt', pflags: NEW | OpenFlags.EXCL, attrs: {} });
      assert.match(s.message, /^EEXIST/);
      c.end();
      await served;
      m.cleanup();
    });

    it('atomic: two sessions uploading one path each write their own file; the last CLOSE wins whole', async () => {
      const m = storage.make();
      const a = await session(m.fs, { atomicUploads: 'atomic' });
      const b = await session(m.fs, { atomicUploads: 'atomic' });
      const A = Buffer.alloc(100_000, 0x41);
      const B = Buffer.alloc(80_000, 0x42);
      const ha = await a.client.open('/same', NEW);
      const hb = await b.client.open('/same', NEW);
      for (let off = 0; off < 100_000; off += 10_000) {
        await a.client.ok({ type: T.WRITE, handle: ha, offset: off, data: A.subarray(off, off + 10_000) });
        if (off < 80_000)
          await b.client.ok({ type: T.WRITE, handle: hb, offset: off, data: B.subarray(off, off + 10_000) });
      }
      await b.client.ok({ type: T.CLOSE, handle: hb });
      assert.deepEqual(await a.client.readFile('/same'), B);
      await a.client.ok({ type: T.CLOSE, handle: ha });
      assert.deepEqual(await b.client.readFile('/same'), A);
      assert.deepEqual(await rawListing(m.fs), ['same']);
      for (const s of [a, b]) {
        s.client.end();
        await s.served;
      }
      m.cleanup();
    });

    it('atomic-resume: a cut upload is kept as a hidden partial that STAT reports and a reopen continues', async () => {
      const m = storage.make();
      const data = randomBytes(300_000);
      const first = await session(m.fs, { atomicUploads: 'atomic-resume' });
      const h = await first.client.open('/big.iso', NEW);
      for (let off = 0; off < 120_000; off += 30_000) {
        await first.client.ok({ type: T.WRITE, handle: h, offset: off, data: data.subarray(off, off + 30_000) });
      }
      first.client.stream.destroy();
      await first.served;
      const kept = await rawListing(m.fs);
      assert.equal(kept.length, 1);
      assert.ok(kept[0]!.endsWith(PARTIAL_SUFFIX), kept[0]);

      const second = await session(m.fs, { atomicUploads: 'atomic-resume' });
      const c = second.client;
      assert.deepEqual(await c.list('/'), ['.', '..']);
      assert.equal((await c.attrs(T.STAT, '/big.iso')).size, 120_000);
      assert.equal((await c.attrs(T.LSTAT, '/big.iso')).size, 120_000);
      const h2 = await c.open('/big.iso', RESUME);
      const st = await c.request({ type: T.FSTAT, handle: h2 });
      assert.equal(st.type === T.ATTRS && st.attrs.size, 120_000);
      for (let off = 120_000; off < data.length; off += 50_000) {
        await c.ok({ type: T.WRITE, handle: h2, offset: off, data: data.subarray(off, off + 50_000) });
      }
      await c.ok({ type: T.CLOSE, handle: h2 });
      assert.deepEqual(await c.readFile('/big.iso'), data);
      assert.deepEqual(await rawListing(m.fs), ['big.iso']);
      c.end();
      await second.served;
      m.cleanup();
    });

    it('atomic-resume: writes that landed beyond a hole are cut off; only the contiguous prefix is kept', async () => {
      const m = storage.make();
      const first = await session(m.fs, { atomicUploads: 'atomic-resume' });
      const h = await first.client.open('/holes', NEW);
      await first.client.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.alloc(1000, 1) });
      await first.client.ok({ type: T.WRITE, handle: h, offset: 2000, data: Buffer.alloc(1000, 3) }); // 1000..2000 missing
      first.client.stream.destroy();
      await first.served;
      const second = await session(m.fs, { atomicUploads: 'atomic-resume' });
      assert.equal((await second.client.attrs(T.STAT, '/holes')).size, 1000);
      second.client.end();
      await second.served;
      m.cleanup();
    });

    it('atomic-resume: a TRUNC upload starts afresh and, committed, removes the older partial', async () => {
      const m = storage.make();
      const first = await session(m.fs, { atomicUploads: 'atomic-resume' });
      const h = await first.client.open('/f', NEW);
      await first.client.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.from('stale partial') });
      first.client.stream.destroy();
      await first.served;
      const second = await session(m.fs, { atomicUploads: 'atomic-resume' });
      await second.client.writeFile('/f', Buffer.from('fresh'));
      assert.deepEqual(await second.client.readFile('/f'), Buffer.from('fresh'));
      assert.deepEqual(await rawListing(m.fs), ['f']);
      second.client.end();
      await second.served;
      m.cleanup();
    });

    it('atomic-resume: stale partials expire', async () => {
      const m = storage.make();
      const first = await session(m.fs, { atomicUploads: 'atomic-resume' });
      const h = await first.client.open('/old', NEW);
      await first.client.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.from('partial') });
      first.client.stream.destroy();
      await first.served;
      const hidden = (await rawListing(m.fs))[0]!;
      await m.fs.setstat(`/${hidden}`, { atime: 1000, mtime: 1000 }, { follow: false });
      const second = await session(m.fs, { atomicUploads: 'atomic-resume', partialMaxAgeMs: 60_000 });
      assert.equal(await second.client.status({ type: T.STAT, path: '/old' }), StatusCode.NO_SUCH_FILE);
      assert.deepEqual(await rawListing(m.fs), []);
      second.client.end();
      await second.served;
      m.cleanup();
    });
  });
}

describe('server-side atomic uploads: failures', () => {
  /** A MemoryFs whose files fail every write at or beyond `failAt`. */
  function failingFs(failAt: number): FileSystem {
    const inner = new MemoryFs();
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop !== 'open') return Reflect.get(target, prop, receiver);
        return async (path: string, opts: Parameters<FileSystem['open']>[1]): Promise<FsFile> => {
          const f = await target.open(path, opts);
          return {
            read: (p, l) => f.read(p, l),
            write: async (p, d) => {
              if (p + d.length > failAt) throw fsError('ENOSPC');
              return f.write(p, d);
            },
            stat: () => f.stat(),
            setstat: (a) => f.setstat(a),
            sync: () => f.sync(),
            close: () => f.close(),
          };
        };
      },
    });
  }

  it('atomic: a failed WRITE makes CLOSE fail and removes the temporary file; the old file stays', async () => {
    const fs = failingFs(10_000);
    const { client: c, served } = await session(fs, { atomicUploads: 'atomic' });
    await c.writeFile('/doc', Buffer.from('original'));
    const h = await c.open('/doc', NEW);
    await c.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.alloc(5000) });
    const w = await c.statusOf({ type: T.WRITE, handle: h, offset: 5000, data: Buffer.alloc(6000) });
    assert.equal(w.code, StatusCode.FAILURE);
    assert.match(w.message, /^ENOSPC/);
    assert.equal(
      await c.status({ type: T.WRITE, handle: h, offset: 5000, data: Buffer.alloc(10) }),
      StatusCode.FAILURE,
    );
    const close = await c.statusOf({ type: T.CLOSE, handle: h });
    assert.equal(close.code, StatusCode.FAILURE);
    assert.deepEqual(await c.readFile('/doc'), Buffer.from('original'));
    assert.deepEqual(await rawListing(fs), ['doc']);
    c.end();
    await served;
  });
});
