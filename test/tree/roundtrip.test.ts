import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTree, putTree, rmtree } from '../../src/client/tree/index.js';
import { peers, treeBytes, treeDiff, writeTree, type Peer, type TreeSpec } from './helpers.js';
import { removeDir, tempDir } from '../support/temp-dir.js';

/** Every awkward case at once: empty files and directories, odd names, links, chunk-size edges, 64 levels. */
function awkwardTree(chunk: number): TreeSpec {
  let deep: TreeSpec = { 'bottom.txt': 'at the bottom' };
  for (let i = 63; i >= 1; i--) deep = { [`l${i}`]: deep };
  return {
    'empty-file': '',
    'empty-dir': {},
    'with space.txt': 'spaces',
    'quote"s\'.txt': 'quotes',
    'new\nline': 'a newline in the name',
    'tab\there': 'tab',
    'ünïcødé 日本語 🎉': 'non-ASCII',
    '-dash': 'leading dash',
    'back\\slash': 'backslash',
    'one-chunk': randomBytes(chunk),
    'chunk-plus-one': randomBytes(chunk + 1),
    'chunk-minus-one': randomBytes(chunk - 1),
    'three-chunks-and-a-bit': randomBytes(3 * chunk + 17),
    sub: {
      'inner file': 'x',
      'empty inside': {},
      'link-to-file': { link: '../with space.txt' },
      'link-to-dir': { link: '../empty-dir' },
      dangling: { link: 'does-not-exist' },
    },
    l0: deep,
  };
}

function manyFilesTree(files: number, dirs: number): TreeSpec {
  const spec: TreeSpec = {};
  for (let d = 0; d < dirs; d++) spec[`dir ${d}`] = {};
  for (let i = 0; i < files; i++)
    (spec[`dir ${i % dirs}`] as TreeSpec)[`file-${i}`] = randomBytes(i % 7 === 0 ? 0 : (i * 37) % 3000);
  return spec;
}

for (const p of peers) {
  describe(`tree round trips against ${p.name}`, () => {
    let peer: Peer;
    let base: string;
    before(async () => {
      peer = await p.open();
      base = tempDir('sftp-wire-tree-').dir;
    });
    after(async () => {
      await peer.close();
      removeDir(base);
    });

    test('awkward tree: byte-identical up and down (names, empty files/dirs, 64 levels, links as links, chunk edges); rmtree removes it', async () => {
      const chunk = peer.client.writeChunkSize;
      const src = join(base, 'awkward');
      writeTree(src, awkwardTree(chunk));
      const up = join(base, 'awkward-up');
      const r = await putTree(peer.client, src, peer.remote(up));
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(src, up), []);
      assert.equal(r.symlinks, 3);
      assert.equal(r.files, 14);
      // top + empty-dir + sub + 'empty inside' + l0..l63
      assert.equal(r.directories, 4 + 64);
      assert.equal(r.bytes, treeBytes(src));

      const down = join(base, 'awkward-down');
      const g = await getTree(peer.client, peer.remote(up), down);
      assert.deepEqual(g.errors, []);
      assert.deepEqual(treeDiff(src, down), []);
      assert.equal(g.files, r.files);
      assert.equal(g.bytes, r.bytes);
      assert.equal(g.directories, r.directories);

      const rm = await rmtree(peer.client, peer.remote(up));
      assert.equal(existsSync(up), false);
      assert.equal(rm.files, 14);
      assert.equal(rm.symlinks, 3);
      assert.equal(rm.directories, 68);
    });

    test('5,000 files in 50 directories: byte-identical up and down; rmtree removes all', async () => {
      const src = join(base, 'many');
      writeTree(src, manyFilesTree(5000, 50));
      const up = join(base, 'many-up');
      const r = await putTree(peer.client, src, peer.remote(up));
      assert.deepEqual(r.errors, []);
      assert.equal(r.files, 5000);
      assert.equal(r.directories, 51);
      assert.deepEqual(treeDiff(src, up), []);
      const down = join(base, 'many-down');
      const g = await getTree(peer.client, peer.remote(up), down);
      assert.deepEqual(g.errors, []);
      assert.equal(g.files, 5000);
      assert.deepEqual(treeDiff(src, down), []);
      const rm = await rmtree(peer.client, peer.remote(up));
      assert.equal(rm.files, 5000);
      assert.equal(rm.directories, 51);
      assert.equal(existsSync(up), false);
      removeDir(down);
    });

    test('into existing directories: files are replaced, existing directories are fine', async () => {
      const src = join(base, 'again');
      writeTree(src, { a: 'new a', d: { b: 'new b', e: {} } });
      const up = join(base, 'again-up');
      mkdirSync(join(up, 'd'), { recursive: true });
      writeFileSync(join(up, 'a'), 'old content that is longer than the new');
      writeFileSync(join(up, 'd', 'b'), 'old b');
      const r = await putTree(peer.client, src, peer.remote(up));
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(src, up), []);
      const r2 = await putTree(peer.client, src, peer.remote(up)); // twice: all there already
      assert.deepEqual(r2.errors, []);
      const down = join(base, 'again-down');
      writeTree(down, { a: 'stale and long local content', d: { e: {} } });
      const g = await getTree(peer.client, peer.remote(up), down);
      assert.deepEqual(g.errors, []);
      assert.deepEqual(treeDiff(src, down), []);
    });

    test('rmtree of a single file, and of a missing path (rejects with ENOENT)', async () => {
      const f = join(base, 'lonely');
      writeFileSync(f, 'x');
      const r = await rmtree(peer.client, peer.remote(f));
      assert.equal(r.files, 1);
      assert.equal(existsSync(f), false);
      await assert.rejects(rmtree(peer.client, peer.remote(join(base, 'no-such'))), { code: 'ENOENT' });
      await assert.rejects(getTree(peer.client, peer.remote(join(base, 'no-such')), join(base, 'x')), {
        code: 'ENOENT',
      });
      await assert.rejects(putTree(peer.client, join(base, 'no-such'), peer.remote(join(base, 'y'))), {
        code: 'ENOENT',
      });
      // The destination's parent must exist (only the top directory itself is created).
      writeTree(join(base, 'tiny'), { a: 'a' });
      await assert.rejects(putTree(peer.client, join(base, 'tiny'), peer.remote(join(base, 'no-parent', 'y'))), {
        code: 'ENOENT',
      });
      await assert.rejects(getTree(peer.client, peer.remote(f + '-file'), join(base, 'z')), { code: 'ENOENT' });
      writeFileSync(f, 'now a file');
      await assert.rejects(getTree(peer.client, peer.remote(f), join(base, 'z')), { code: 'ENOTDIR' });
    });
  });
}
