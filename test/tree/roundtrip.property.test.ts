import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { getTree, putTree, rmtree } from '../../src/client/tree/index.js';
import { openTapped, peers, treeDiff, writeTree, type Peer, type TreeSpec } from './helpers.js';
import { removeDir } from '../support/temp-dir.js';
import type { WireTap } from './wire-tap.js';

const nameChar = fc.constantFrom(...'abcXYZ019 _-.\'"\\\n\t#%&()[]{}=+~,;!éü日本🎉'.split(/(?:)/u));
const name = fc
  .array(nameChar, { minLength: 1, maxLength: 12 })
  .map((cs) => cs.join(''))
  .filter((n) => n !== '.' && n !== '..');

const content = fc.oneof(
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1000, maxLength: 9000 }).map((a) => Buffer.from(a)) },
);

const tree: fc.Arbitrary<TreeSpec> = fc.letrec<{ dir: TreeSpec }>((tie) => ({
  dir: fc
    .uniqueArray(fc.tuple(name, fc.oneof({ weight: 3, arbitrary: content }, { weight: 1, arbitrary: tie('dir') })), {
      selector: ([n]) => n,
      maxLength: 6,
      depthIdentifier: 'tree',
    })
    .map((entries) => Object.fromEntries(entries) as TreeSpec),
})).dir;

const windows = fc.record({
  requests: fc.integer({ min: 1, max: 48 }),
  bytes: fc.integer({ min: 1, max: 64 * 1024 }),
  maxOpenFiles: fc.integer({ min: 1, max: 12 }),
  listers: fc.integer({ min: 1, max: 4 }),
  chunkSize: fc.integer({ min: 256, max: 8192 }),
});

for (const p of peers) {
  describe(`random trees round-trip against ${p.name}`, () => {
    let peer: Peer;
    let tap: WireTap;
    let base: string;
    before(async () => {
      ({ peer, tap, base } = await openTapped(p));
    });
    after(async () => {
      await peer.close();
      removeDir(base);
    });

    test('putTree then getTree give byte-identical trees, whatever the window; rmtree removes all; no handle left open', async () => {
      let n = 0;
      let files = 0;
      let dirs = 0;
      await fc.assert(
        fc.asyncProperty(tree, windows, windows, async (spec, wUp, wDown) => {
          const run = join(base, `run-${n++}`);
          const src = join(run, 'src');
          writeTree(src, spec);
          const up = join(run, 'up');
          const r = await putTree(peer.client, src, peer.remote(up), wUp);
          assert.deepEqual(r.errors, []);
          assert.deepEqual(treeDiff(src, up), []);
          const down = join(run, 'down');
          const g = await getTree(peer.client, peer.remote(up), down, wDown);
          assert.deepEqual(g.errors, []);
          assert.deepEqual(treeDiff(src, down), []);
          assert.equal(g.files, r.files);
          assert.equal(g.bytes, r.bytes);
          await rmtree(peer.client, peer.remote(up), {
            requests: wDown.requests,
            listers: wDown.listers,
            maxOpenFiles: wDown.maxOpenFiles,
          });
          assert.equal(existsSync(up), false);
          assert.equal(tap.open.size, 0);
          files += r.files;
          dirs += r.directories;
          removeDir(run);
        }),
        { numRuns: 60 },
      );
      assert.ok(
        files > 60 && dirs > 75,
        `the random trees were not trivial (${files} files, ${dirs} directories in all)`,
      );
    });
  });
}
