/**
 * Listings of large directories lstat their entries on a worker thread (lstat-worker.ts) after the
 * first batch, once the worker runs (a listing starts it and does not wait for it). The entries are
 * the same as the main thread gives; the worker goes through the same pinned directory, so a
 * directory swapped for a symlink to the outside in the middle of a listing still yields only the
 * attributes of what is inside; it takes several batches of one listing at once and none of another
 * meanwhile; and the worker never keeps a process alive.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FileStats, FsDirEntry } from '../../src/server/fs/file-system.js';
import { LocalDir } from '../../src/server/fs/local-dir.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { lstatInWorker, lstatWorkerBatches, lstatWorkerOnline, MAX_QUEUED } from '../../src/server/fs/lstat-worker.js';
import { tempDir } from '../support/temp-dir.js';

const COUNT = 1500;

async function readAll(dir: { read(n: number): Promise<FsDirEntry[] | null>; close(): Promise<void> }) {
  const out = new Map<string, FileStats | undefined>();
  for (;;) {
    const batch = await dir.read(128);
    if (!batch) break;
    for (const e of batch) out.set(e.name, e.stats);
  }
  await dir.close();
  return out;
}

describe('lstat worker', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let outside: string;

  before(() => {
    t = tempDir('sftp-wire-lstat-worker-');
    root = path.join(t.dir, 'root');
    outside = path.join(t.dir, 'outside');
    mkdirSync(path.join(root, 'big'), { recursive: true });
    mkdirSync(outside);
    for (let i = 0; i < COUNT; i++) {
      const name = `f${i}`;
      if (i % 100 === 7) mkdirSync(path.join(root, 'big', name));
      else if (i % 100 === 8) symlinkSync('nowhere', path.join(root, 'big', name));
      else writeFileSync(path.join(root, 'big', name), 'x'.repeat(i % 13));
      // same names outside, every one a file of another size
      writeFileSync(path.join(outside, name), 'outside!'.repeat(50));
    }
    execFileSync('mkfifo', [path.join(root, 'big', 'a-fifo')]);
  });
  after(() => t.cleanup());

  it('gives the same entries and attributes as the main thread, and is used for a large directory', async () => {
    assert.equal(await lstatWorkerOnline(), true);
    const before = lstatWorkerBatches();
    const viaWorker = await readAll(new LocalDir(path.join(root, 'big'), { worker: true }));
    assert.ok(lstatWorkerBatches() > before, 'the worker answered no batch');
    const onMain = await readAll(new LocalDir(path.join(root, 'big'), { worker: false }));
    assert.equal(viaWorker.size, COUNT + 1);
    assert.deepEqual(viaWorker, onMain);
    assert.equal(viaWorker.get('a-fifo')!.mode & 0o170000, 0o010000);
    assert.equal(viaWorker.get('f8')!.mode & 0o170000, 0o120000);
  });

  it('a directory swapped for a symlink to the outside mid-listing yields only what is inside', async () => {
    assert.equal(await lstatWorkerOnline(), true);
    const fs = new LocalFs(root);
    const dir = await fs.opendir('/big');
    const seen = new Map<string, FileStats | undefined>();
    const first = await dir.read(128);
    for (const e of first ?? []) seen.set(e.name, e.stats);
    // the listed directory's path now leads outside, to files of the same names
    renameSync(path.join(root, 'big'), path.join(root, 'big-aside'));
    symlinkSync(outside, path.join(root, 'big'));
    const before = lstatWorkerBatches();
    try {
      for (const [name, st] of await readAll(dir)) seen.set(name, st);
    } finally {
      rmSync(path.join(root, 'big'));
      renameSync(path.join(root, 'big-aside'), path.join(root, 'big'));
    }
    assert.ok(lstatWorkerBatches() > before, 'the worker answered no batch');
    assert.equal(seen.size, COUNT + 1);
    for (const [name, st] of seen) {
      assert.ok(st, `${name}: no attributes`);
      assert.ok(st.size < 13 || (st.mode & 0o170000) !== 0o100000, `${name}: attributes of the outside file`);
      assert.notEqual(st.size, 400, `${name}: attributes of the outside file`);
    }
  });

  it('takes up to MAX_QUEUED batches of one listing at once, and none of another listing meanwhile', async () => {
    assert.equal(await lstatWorkerOnline(), true);
    const prefix = path.join(root, 'big') + '/';
    const names = ['f1', 'f7', 'f8', 'a-fifo', 'missing'];
    const one = {};
    const batches = [];
    for (let i = 0; i < MAX_QUEUED; i++) {
      const b = lstatInWorker(prefix, names, one);
      assert.ok(b, `batch ${i} of one listing declined`);
      batches.push(b);
      assert.equal(lstatInWorker(prefix, names, {}), undefined, 'a batch of another listing was taken');
    }
    assert.equal(lstatInWorker(prefix, names, one), undefined, 'more than MAX_QUEUED batches taken');
    for (const stats of await Promise.all(batches)) {
      assert.deepEqual(
        stats.map((st) => st && st.mode & 0o170000),
        [0o100000, 0o040000, 0o120000, 0o010000, undefined],
      );
      assert.equal(stats[0]!.size, 1);
    }
    // all answered: another listing's batch is taken
    const other = lstatInWorker(prefix, names, {});
    assert.ok(other);
    await other;
  });

  it('declines batches until it runs unless asked to take them then, and a listing does not wait for it: a fresh process lists all', async () => {
    const script = `
      import { lstatInWorker, lstatWorkerOnline } from ${JSON.stringify(path.resolve('src/server/fs/lstat-worker.ts'))};
      import { LocalFs } from ${JSON.stringify(path.resolve('src/server/fs/local-fs.ts'))};
      const prefix = ${JSON.stringify(path.join(root, 'big') + '/')};
      const declined = lstatInWorker(prefix, ['f1']) === undefined;
      // asked to, it takes a batch while it starts and answers it once it runs
      const early = lstatInWorker(prefix, ['f1', 'f7', 'missing'], {}, true);
      const earlyModes = early && (await early).map((st) => st && st.mode & 0o170000);
      const fs = new LocalFs(${JSON.stringify(root)});
      const dir = await fs.opendir('/big');
      let n = 0;
      for (;;) { const b = await dir.read(128); if (!b) break; n += b.filter((e) => e.stats).length; }
      await dir.close();
      const online = await lstatWorkerOnline();
      process.stdout.write(JSON.stringify({ declined, earlyModes, n, online }));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out), {
      declined: true,
      earlyModes: [0o100000, 0o040000, null],
      n: COUNT + 1,
      online: true,
    });
  });

  it('never keeps a process alive: a child that lists a large directory exits by itself', async () => {
    const script = `
      import { LocalFs } from ${JSON.stringify(path.resolve('src/server/fs/local-fs.ts'))};
      const fs = new LocalFs(${JSON.stringify(root)});
      const dir = await fs.opendir('/big');
      let n = 0;
      for (;;) { const b = await dir.read(128); if (!b) break; n += b.length; }
      await dir.close();
      process.stdout.write(String(n));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    assert.equal(code, 0, 'the child did not exit by itself');
    assert.equal(out, String(COUNT + 1));
  });
});
