import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FdHandle } from '../../src/server/fs/fd-handle.js';
import { SyncBudget } from '../../src/server/fs/sync-budget.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { tempDir } from '../support/temp-dir.js';

describe('FdHandle', () => {
  const t = tempDir('sftp-wire-fd-handle-');
  after(() => t.cleanup());
  const file = path.join(t.dir, 'f');
  fs.writeFileSync(file, Buffer.alloc(1 << 20, 7));
  const isOpen = (fd: number, target: string): boolean => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === target;
    } catch {
      return false;
    }
  };

  for (const budgetMs of [2, 0]) {
    it(`close waits for the calls in flight; later calls are EBADF and never reach the number (budget ${budgetMs})`, async () => {
      const h = new FdHandle(fs.openSync(file, 'r'), new SyncBudget(budgetMs));
      const reads = Array.from({ length: 8 }, (_, i) => h.read(Buffer.alloc(65536), 0, 65536, i * 65536));
      const closed = h.close();
      const got = await Promise.all(reads);
      for (const r of got) assert.equal(r.bytesRead, 65536);
      await closed;
      assert.equal(isOpen(h.fd, file), false);
      // the number may now be anyone's: a call must not use it
      const other = fs.openSync(file, 'r');
      try {
        await assert.rejects(h.read(Buffer.alloc(16), 0, 16, 0), { code: 'EBADF' });
        await assert.rejects(h.stat(), { code: 'EBADF' });
        await h.close(); // a second close does nothing
        assert.equal(isOpen(other, file), true);
      } finally {
        fs.closeSync(other);
      }
    });
  }

  it('reads, writes (plain and vectored), stats, truncates and syncs like a FileHandle', async () => {
    const p = path.join(t.dir, 'rw');
    const h = new FdHandle(fs.openSync(p, 'w+'), new SyncBudget());
    assert.equal((await h.write(Buffer.from('hello'), 0, 5, 0)).bytesWritten, 5);
    assert.equal((await h.writev([Buffer.from(' wo'), Buffer.from('rld')], 5)).bytesWritten, 6);
    const a = Buffer.alloc(5);
    const b = Buffer.alloc(6);
    assert.equal((await h.readv([a, b], 0)).bytesRead, 11);
    assert.equal(`${a}|${b}`, 'hello| world');
    await h.truncate(5);
    await h.chmod(0o640);
    await h.utimes(1000, 2000);
    await h.sync();
    const st = await h.stat();
    assert.equal(st.size, 5);
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(st.mtimeMs, 2_000_000);
    await h.close();
    assert.equal(fs.readFileSync(p, 'utf8'), 'hello');
  });

  it('a call Node refuses before it starts (a position past 2^53) rejects, and close() still finishes', async () => {
    const h = new FdHandle(fs.openSync(file, 'r'), new SyncBudget(0));
    await assert.rejects(h.read(Buffer.alloc(16), 0, 16, 2 ** 53), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(h.truncate(-1));
    let closed = false;
    const closing = h.close().then(() => (closed = true));
    await Promise.race([closing, new Promise((r) => setTimeout(r, 5000))]);
    assert.equal(closed, true, 'close() never finished: a refused call left its count raised');
  });
});

describe('LocalFs files at offsets near 2^53', () => {
  const t = tempDir('sftp-wire-fd-far-');
  after(() => t.cleanup());

  for (const syncBudgetMs of [2, 0]) {
    it(`a READ at or past 2^53 is end of file, and the file closes afterwards (budget ${syncBudgetMs})`, async () => {
      fs.writeFileSync(path.join(t.dir, 'f'), 'abc');
      const lfs = new LocalFs(t.dir, { syncBudgetMs });
      const f = await lfs.open('/f', {
        read: true,
        write: false,
        create: false,
        truncate: false,
        append: false,
        exclusive: false,
      });
      for (const at of [2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2]) {
        assert.equal((await f.read(at, 128 * 1024)).length, 0, `read at ${at}`);
        assert.equal(await f.readv!(at, [Buffer.alloc(70_000), Buffer.alloc(70_000)]), 0, `readv at ${at}`);
      }
      assert.deepEqual(await f.read(0, 128 * 1024), Buffer.from('abc'));
      let closed = false;
      const closing = f.close().then(() => (closed = true));
      await Promise.race([closing, new Promise((r) => setTimeout(r, 5000))]);
      assert.equal(closed, true, 'close() never finished');
    });
  }
});
