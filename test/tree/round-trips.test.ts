/**
 * Trees are bound by the link, not by the listing: how many round trips getTree, rmtree and putTree
 * need for 200 files of 4 KiB in 20 directories, counted (not timed) through a link that moves
 * packets in lockstep (bench/lib/lockstep-link.ts): each count is how many times the client had to
 * wait for replies before it could send more — what a 20 ms round trip multiplies.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { getTree, putTree, rmtree } from '../../src/client/tree/index.js';
import { packetTypeName } from '../../src/protocol/index.js';
import { LockstepLink } from '../../bench/lib/lockstep-link.js';
import { filesInDirs, peers, treeDiff, writeTree, type Peer, type TreeSpec } from './helpers.js';
import { tempDir, type TempDir } from '../support/temp-dir.js';

/** What each round carried, e.g. "1 STAT | 1 OPENDIR | 4 READDIR", for the failure message. */
function describeRounds(link: LockstepLink): string {
  return link.log
    .map((m, i) => `${i + 1}: ${[...m].map(([t, n]) => `${n} ${packetTypeName(t)}`).join(', ')}`)
    .join('\n');
}

/** A chain of `depth` directories, each holding `files` files. */
function chain(depth: number, files: number): TreeSpec {
  const top: TreeSpec = {};
  let d = top;
  for (let i = 0; i < depth; i++) {
    for (let f = 0; f < files; f++) d[`f${f}`] = Buffer.alloc(100, i);
    const next: TreeSpec = {};
    d[`d${i}`] = next;
    d = next;
  }
  return top;
}

for (const p of peers) {
  describe(`round trips of tree operations, against ${p.name}`, () => {
    let peer: Peer;
    let link: LockstepLink;
    let tmp: TempDir;
    before(async () => {
      // Quiet for 100 ms: far above the local work one reply leads to (writing a few files, a mkdir).
      link = new LockstepLink({ quietMs: 100 });
      peer = await p.open({ wrap: (s) => link.wrap(s) });
      tmp = tempDir('sftp-wire-rounds-');
      writeTree(
        join(tmp.dir, 'src'),
        filesInDirs(200, 20, () => 4096),
      );
      writeTree(join(tmp.dir, 'chain'), chain(6, 2));
    });
    after(async () => {
      await peer.close();
      tmp.cleanup();
    });

    const counted = async <T>(op: () => Promise<T>): Promise<{ value: T; rounds: number; log: string }> => {
      link.reset();
      const value = await op();
      return { value, rounds: link.rounds, log: describeRounds(link) };
    };

    test('getTree of 200 x 4 KiB in 20 directories: at most 10 round trips', { timeout: 60_000 }, async () => {
      const dst = join(tmp.dir, 'down');
      const { value, rounds, log } = await counted(() => getTree(peer.client, peer.remote(join(tmp.dir, 'src')), dst));
      assert.deepEqual(value.errors, []);
      assert.equal(value.files, 200);
      assert.deepEqual(treeDiff(join(tmp.dir, 'src'), dst), []);
      assert.ok(rounds <= 10, `getTree took ${rounds} round trips:\n${log}`);
    });

    test(
      'putTree of the same tree: no more round trips than before (6, give or take local timing)',
      { timeout: 60_000 },
      async () => {
        const dst = join(tmp.dir, 'up');
        const { value, rounds, log } = await counted(() =>
          putTree(peer.client, join(tmp.dir, 'src'), peer.remote(dst)),
        );
        assert.deepEqual(value.errors, []);
        assert.deepEqual(treeDiff(join(tmp.dir, 'src'), dst), []);
        assert.ok(rounds <= 8, `putTree took ${rounds} round trips:\n${log}`);
      },
    );

    test('rmtree of the same tree: at most 10 round trips, and it is all gone', { timeout: 60_000 }, async () => {
      const dst = join(tmp.dir, 'up');
      const { value, rounds, log } = await counted(() => rmtree(peer.client, peer.remote(dst)));
      assert.equal(value.files, 200);
      assert.equal(value.directories, 21);
      await assert.rejects(peer.client.lstat(peer.remote(dst)), { code: 'ENOENT' });
      assert.ok(rounds <= 10, `rmtree took ${rounds} round trips:\n${log}`);
    });

    test(
      'a chain 6 directories deep: getTree pays two round trips a level, rmtree three',
      { timeout: 60_000 },
      async () => {
        const levels = 7; // the top and the 6 below it
        const dst = join(tmp.dir, 'chain-down');
        const g = await counted(() => getTree(peer.client, peer.remote(join(tmp.dir, 'chain')), dst));
        assert.deepEqual(g.value.errors, []);
        assert.deepEqual(treeDiff(join(tmp.dir, 'chain'), dst), []);
        // OPENDIR and READDIR per level; the files' OPEN and READ overlap the listing of the level below.
        assert.ok(g.rounds <= 2 * levels + 4, `getTree took ${g.rounds} round trips:\n${g.log}`);
        const r = await counted(() => rmtree(peer.client, peer.remote(join(tmp.dir, 'chain'))));
        assert.equal(r.value.directories, levels);
        assert.equal(r.value.files, 12);
        // Down: OPENDIR and READDIR per level; back up: one RMDIR per level, each after the one below.
        assert.ok(r.rounds <= 3 * levels + 4, `rmtree took ${r.rounds} round trips:\n${r.log}`);
      },
    );
  });
}
