import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getTree, putTree, rmtree } from '../../src/client/tree/index.js';
import { PacketType as T } from '../../src/protocol/index.js';
import { filesInDirs, openTapped, peers, treeDiff, writeTree, type Peer } from './helpers.js';
import { removeDir } from '../support/temp-dir.js';
import type { WireTap } from './wire-tap.js';

for (const p of peers) {
  describe(`the wire during tree transfers, against ${p.name}`, () => {
    let peer: Peer;
    let tap: WireTap;
    let base: string;
    before(async () => {
      ({ peer, tap, base } = await openTapped(p));
      writeTree(
        join(base, 'src'),
        filesInDirs(40, 4, () => 100),
      );
    });
    after(async () => {
      await peer.close();
      removeDir(base);
    });

    test("putTree: a small file's WRITE and CLOSE go out back to back, before the WRITE is answered; files overlap; caps hold", async () => {
      tap.files.length = 0;
      const before = { opens: tap.opens };
      tap.peakInflight = 0;
      tap.peakOpen = 0;
      // The first file's WRITE/CLOSE replies are held until 4 more files were opened.
      tap.holdFirstFileUntilOpens = tap.opens + 5;
      // Room for every open file's WRITE and CLOSE (5 x 2) plus OPENs: the window never holds a CLOSE back.
      const r = await putTree(peer.client, join(base, 'src'), peer.remote(join(base, 'up')), {
        maxOpenFiles: 5,
        requests: 16,
      });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(join(base, 'src'), join(base, 'up')), []);
      assert.equal(tap.files.length, 40);
      for (const ev of tap.files)
        assert.deepEqual(ev.slice(0, 2), ['WRITE>', 'CLOSE>'], `events of one file: ${ev.join(' ')}`);
      assert.equal(tap.opens - before.opens, 40);
      assert.equal(
        tap.holdFallbackUsed,
        false,
        "later OPENs went out while the first file's WRITE/CLOSE were unanswered",
      );
      assert.ok(tap.peakOpen <= 5, `open handles peaked at ${tap.peakOpen}`);
      assert.ok(tap.peakOpen > 1, 'several files were open at once');
      assert.ok(tap.peakInflight <= 16, `requests in flight peaked at ${tap.peakInflight}`);
      assert.equal(tap.open.size, 0, 'every handle closed');
    });

    test('putTree with a tight window: requests in flight never exceed it, and the copy is still whole', async () => {
      tap.peakInflight = 0;
      tap.peakOpen = 0;
      const r = await putTree(peer.client, join(base, 'src'), peer.remote(join(base, 'up-tight')), {
        maxOpenFiles: 5,
        requests: 3,
      });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(join(base, 'src'), join(base, 'up-tight')), []);
      assert.ok(tap.peakInflight <= 3, `requests in flight peaked at ${tap.peakInflight}`);
      assert.ok(tap.peakOpen <= 5);
      assert.equal(tap.open.size, 0);
    });

    test("getTree: a small file's READ and CLOSE go out back to back; handles (files and listings) stay within maxOpenFiles", async () => {
      tap.files.length = 0;
      tap.peakOpen = 0;
      const r = await getTree(peer.client, peer.remote(join(base, 'src')), join(base, 'down'), { maxOpenFiles: 4 });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(join(base, 'src'), join(base, 'down')), []);
      assert.equal(tap.files.length, 40);
      // Each small file: one READ of its size + 1 (the end is checked in the same round trip), then CLOSE.
      for (const ev of tap.files)
        assert.deepEqual(ev.slice(0, 2), ['READ>', 'CLOSE>'], `events of one file: ${ev.join(' ')}`);
      assert.ok(tap.peakOpen <= 4, `open handles peaked at ${tap.peakOpen}`);
      assert.equal(tap.open.size, 0);
    });

    test('a larger file goes in chunks through the byte window; its CLOSE follows its last WRITE', async () => {
      const chunk = 4096;
      writeTree(join(base, 'big'), { f: randomBytes(10 * chunk + 5) });
      tap.files.length = 0;
      tap.peakInflight = 0;
      const r = await putTree(peer.client, join(base, 'big'), peer.remote(join(base, 'big-up')), {
        chunkSize: chunk,
        bytes: 3 * chunk,
      });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(join(base, 'big'), join(base, 'big-up')), []);
      const ev = tap.files[0]!;
      assert.equal(ev.filter((e) => e === 'WRITE>').length, 11);
      assert.ok(ev.indexOf('CLOSE>') > ev.lastIndexOf('WRITE>'));
      assert.ok(
        tap.peakInflight <= 4,
        `3 chunks of bytes (+ the OPEN/CLOSE) in flight at most, saw ${tap.peakInflight}`,
      );
      const g = await getTree(peer.client, peer.remote(join(base, 'big-up')), join(base, 'big-down'), {
        chunkSize: chunk,
        bytes: 3 * chunk,
      });
      assert.deepEqual(g.errors, []);
      assert.deepEqual(treeDiff(join(base, 'big'), join(base, 'big-down')), []);
    });

    test('rmtree: REMOVEs go out while directories are still being listed; RMDIRs come last for each directory', async () => {
      const start = tap.sentTypes.length;
      // One directory listed at a time: with more, every READDIR of this small tree goes out at once.
      await rmtree(peer.client, peer.remote(join(base, 'up')), { listers: 1 });
      const sent = tap.sentTypes.slice(start);
      const firstRemove = sent.indexOf(T.REMOVE);
      const lastReaddir = sent.lastIndexOf(T.READDIR);
      assert.ok(firstRemove >= 0 && firstRemove < lastReaddir, 'a REMOVE went out before the last READDIR');
      assert.equal(sent.filter((t) => t === T.REMOVE).length, 40);
      assert.equal(sent.filter((t) => t === T.RMDIR).length, 5);
      assert.equal(sent[sent.length - 1], T.RMDIR, 'the top directory goes last');
    });
  });
}
