/**
 * LocalFs opens regular files synchronously, but never a FIFO: open(2) of a FIFO waits for the other
 * end, and a synchronous wait would stall every session of the process. Such an open waits on the
 * thread pool, as before, while other requests are answered. (Not a unit test: mkfifo is a program.)
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { tempDir } from '../support/temp-dir.js';

const opts = { read: false, write: false, append: false, create: false, truncate: false, exclusive: false };

describe('LocalFs and FIFOs', { timeout: 30_000 }, () => {
  const t = tempDir('sftp-wire-fifo-');
  after(() => t.cleanup());

  for (const through of ['the name', 'a symlink'] as const) {
    it(`an OPEN of a FIFO for reading (through ${through}) waits without stalling other requests`, async () => {
      const dir = t.fresh('d');
      const fifo = path.join(dir, 'd', 'fifo');
      execFileSync('mkfifo', [fifo]);
      fs.symlinkSync('d/fifo', path.join(dir, 'link'));
      fs.writeFileSync(path.join(dir, 'd', 'file'), 'x');
      const lfs = new LocalFs(dir);
      const opening = lfs.open(through === 'the name' ? '/d/fifo' : '/link', { ...opts, read: true });
      let settled = false;
      void opening.then(
        () => (settled = true),
        () => (settled = true),
      );
      // the process keeps answering while the open waits for a writer
      for (let i = 0; i < 20; i++) assert.equal((await lfs.lstat('/d/file')).size, 1);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(settled, false, 'the open did not wait for a writer');
      const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      try {
        const f = await opening; // the writer came: the open completes
        await f.close();
      } finally {
        fs.closeSync(w);
      }
    });
  }

  it('an OPEN of a FIFO for writing waits for a reader (no ENXIO), without stalling other requests', async () => {
    const dir = t.fresh();
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const lfs = new LocalFs(dir);
    const opening = lfs.open('/fifo', { ...opts, write: true });
    let settled = false;
    void opening.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 20; i++) assert.equal((await lfs.stat('/file')).size, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(settled, false, 'the open did not wait for a reader');
    const r = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const f = await opening; // the reader came: the open completes
      await f.close();
    } finally {
      fs.closeSync(r);
    }
  });
});
