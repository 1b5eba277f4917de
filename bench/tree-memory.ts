/**
 * Memory of tree transfers against file count: putTree,
 * getTree and rmtree of N small files against OpenSSH's sftp-server on stdio, sampling the heap and
 * RSS every 20 ms. Run with two sizes to see whether the peak grows with the count:
 *
 *   node --expose-gc --import tsx bench/tree-memory.ts --files 10000,100000
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SftpClient } from '../src/client/index.js';
import { getTree, putTree, rmtree } from '../src/client/tree/index.js';
import { generateSmallTree } from './lib/dataset.js';
import { spawnSftpServer } from './lib/peers/openssh.js';
import { MiB } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '10000,100000' },
    dirs: { type: 'string', default: '100' },
    size: { type: 'string', default: '64' },
  },
});
const DIRS = Number(values.dirs);
const SIZE = Number(values.size);
const gc = (globalThis as { gc?: () => void }).gc;

async function sampled<T>(what: string, f: () => Promise<T>): Promise<T> {
  gc?.();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakLive = base.heapUsed;
  let peakRss = base.rss;
  let ticks = 0;
  const timer = setInterval(() => {
    // Every 10th sample after a full GC: the live set, not garbage waiting to be collected.
    if (gc && ++ticks % 10 === 0) {
      gc();
      peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
    }
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 20);
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    clearInterval(timer);
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${what.padEnd(16)} ${s.toFixed(2).padStart(7)} s   heap ${(base.heapUsed / MiB).toFixed(1)} MiB -> peak ${(peakHeap / MiB).toFixed(1)}` +
        (gc
          ? `, live peak (after GC) ${(peakLive / MiB).toFixed(1)} (+${((peakLive - base.heapUsed) / MiB).toFixed(1)})`
          : '') +
        `   rss peak ${(peakRss / MiB).toFixed(1)} MiB`,
    );
  }
}

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-tree-mem-'));
const server = spawnSftpServer();
const client = await SftpClient.fromStream(server.stream);
try {
  for (const n of values.files!.split(',').map(Number)) {
    const src = join(work, `src-${n}`);
    // The list of files and digests is dropped at once: only the tree's own memory is sampled.
    void generateSmallTree(src, 20240601, { files: n, dirs: Math.min(DIRS, n), size: SIZE });
    console.log(`${n} files of ${SIZE} B in ${DIRS} directories`);
    const up = join(work, `up-${n}`);
    const r = await sampled(`putTree ${n}`, () => putTree(client, src, up));
    if (r.files !== n || r.errors.length) throw new Error(`putTree: ${r.files} files, ${r.errors.length} errors`);
    const g = await sampled(`getTree ${n}`, () => getTree(client, up, join(work, `down-${n}`)));
    if (g.files !== n || g.errors.length) throw new Error(`getTree: ${g.files} files, ${g.errors.length} errors`);
    await sampled(`rmtree ${n}`, () => rmtree(client, up));
    rmSync(src, { recursive: true, force: true });
    rmSync(join(work, `down-${n}`), { recursive: true, force: true });
  }
} finally {
  await client.end();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
