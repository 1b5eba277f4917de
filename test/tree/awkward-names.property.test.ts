import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { getTree, putTree, rmtree } from '../../src/client/tree/index.js';
import { openTapped, peers, treeDiff, writeTree, type Peer, type TreeSpec } from './helpers.js';
import { removeDir } from '../support/temp-dir.js';
import type { WireTap } from './wire-tap.js';

/**
 * Names made only of the pieces that a layer treating names as anything but opaque bytes would
 * change: percent signs and things that look like URL escapes (of "/", NUL, "%", ".", a space),
 * spaces (leading, trailing, only), backslashes, newlines, carriage returns, tabs, glob and shell
 * characters, dots, and non-ASCII. Whatever the name, every upload and download keeps it exactly.
 */
const piece = fc.constantFrom(
  '%',
  '%%',
  '%20',
  '%2F',
  '%2f',
  '%00',
  '%25',
  '%2E',
  '%5C',
  '%0A',
  '%E9',
  '%zz',
  '%u0041',
  ' ',
  '  ',
  '\\',
  '\\\\',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '+',
  '?',
  '#',
  '*',
  '[a]',
  '~',
  '-',
  '.',
  '..',
  ':',
  ';',
  '"',
  "'",
  '$HOME',
  '`x`',
  'a',
  'Z',
  '0',
  'é',
  '日',
  '🎉',
);
const name = fc
  .array(piece, { minLength: 1, maxLength: 5 })
  .map((ps) => ps.join(''))
  .filter((n) => n !== '.' && n !== '..' && Buffer.byteLength(n) <= 200);

const content = fc.oneof(
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a)) },
);

// Empty directories are drawn often: they are the entries with nothing inside to make them wait.
const tree: fc.Arbitrary<TreeSpec> = fc.letrec<{ dir: TreeSpec }>((tie) => ({
  dir: fc
    .uniqueArray(
      fc.tuple(
        name,
        fc.oneof(
          { weight: 2, arbitrary: content },
          { weight: 1, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: tie('dir') },
        ),
      ),
      { selector: ([n]) => n, minLength: 1, maxLength: 5, depthIdentifier: 'names' },
    )
    .map((entries) => Object.fromEntries(entries) as TreeSpec),
})).dir;

const modes = fc.record({
  atomic: fc.boolean(),
  requests: fc.integer({ min: 1, max: 16 }),
  listers: fc.integer({ min: 1, max: 3 }),
});

for (const p of peers) {
  describe(`names with %, escapes, spaces, backslashes and newlines survive every transfer (${p.name})`, () => {
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

    test('putTree then getTree keep every name, type and content; put/get, stat and a listing of one such file keep its name', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(tree, modes, name, content, async (spec, m, single, data) => {
          const run = join(base, `run-${n++}`);
          const src = join(run, 'src');
          writeTree(src, spec);
          const up = join(run, 'up');
          const r = await putTree(peer.client, src, peer.remote(up), { atomic: m.atomic, requests: m.requests });
          assert.deepEqual(r.errors, []);
          assert.deepEqual(treeDiff(src, up), []);
          const down = join(run, 'down');
          const g = await getTree(peer.client, peer.remote(up), down, {
            atomic: m.atomic,
            requests: m.requests,
            listers: m.listers,
          });
          assert.deepEqual(g.errors, []);
          assert.deepEqual(treeDiff(src, down), []);
          assert.equal(g.directories, r.directories);

          // The single-file calls, with a name of the same kind.
          const one = join(run, 'one');
          writeTree(one, {});
          const local = join(run, 'single-src');
          writeFileSync(local, data);
          const remote = `${peer.remote(one)}/${single}`;
          await peer.client.put(local, remote, { atomic: m.atomic });
          assert.deepEqual(readdirSync(one), [single]);
          assert.equal((await peer.client.stat(remote)).size, data.length);
          const listed: string[] = [];
          for await (const e of peer.client.scandir(peer.remote(one)))
            if (e.filename !== '.' && e.filename !== '..') listed.push(e.filename);
          assert.deepEqual(listed, [single]);
          const back = join(run, 'single-back');
          await peer.client.get(remote, back, { atomic: m.atomic });
          assert.deepEqual(readFileSync(back), data);

          await rmtree(peer.client, peer.remote(up));
          assert.equal(existsSync(up), false);
          assert.equal(tap.open.size, 0);
          removeDir(run);
        }),
        { numRuns: 40 },
      );
    });
  });
}
