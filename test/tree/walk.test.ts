/**
 * The remote walk of getTree and rmtree (src/client/tree/walk.ts) against servers that do awkward
 * things: a listing's CLOSE that fails (it is not waited for, but its failure is that directory's
 * error), and READDIRs answered out of order (an end-of-directory before the entries of a READDIR
 * sent after it: those entries are still taken, the CLOSE waits for them).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { SftpClient } from '../../src/client/index.js';
import type { DirEntry } from '../../src/client/core/remote.js';
import type { RequestOptions } from '../../src/client/core/session.js';
import { getTree, rmtree, TreeError } from '../../src/client/tree/index.js';
import { SftpError, StatusCode } from '../../src/protocol/index.js';
import { ourPeer, treeDiff, writeTree, type Peer } from './helpers.js';
import { tempDir, type TempDir } from '../support/temp-dir.js';

/** A client whose methods are the real ones except those given. */
function withOverrides(client: SftpClient, overrides: Record<string, unknown>): SftpClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as string];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('the remote walk of getTree and rmtree', () => {
  let peer: Peer;
  let tmp: TempDir;
  before(async () => {
    peer = await ourPeer();
    tmp = tempDir('sftp-wire-walk-');
  });
  after(async () => {
    await peer.close();
    tmp.cleanup();
  });

  /** The real client, with the CLOSE of directory handles of `failing` paths refused by the "server". */
  function closeFailsFor(failing: (path: string) => boolean): { client: SftpClient; closed: number[] } {
    const dirOf = new Map<string, string>();
    const closed: number[] = [];
    const client = withOverrides(peer.client, {
      opendir: async (path: string, opts?: RequestOptions) => {
        const h = await peer.client.opendir(path, opts);
        dirOf.set(h.toString('hex'), path);
        return h;
      },
      close: async (h: Buffer, opts?: RequestOptions) => {
        await peer.client.close(h, opts); // the handle really is closed: nothing leaks on the server
        closed.push(1);
        const path = dirOf.get(h.toString('hex'));
        if (path !== undefined && failing(path))
          throw new SftpError({ status: StatusCode.FAILURE, code: 'EIO', message: 'close failed', op: 'close', path });
      },
    });
    return { client, closed };
  }

  test("getTree: a listing's failed CLOSE is that directory's error; every file is still copied", async () => {
    const src = join(tmp.dir, 'close-src');
    writeTree(src, { a: 'a', d: { b: 'b', e: { c: 'c' } }, f: { g: 'g' } });
    const { client } = closeFailsFor((p) => p.endsWith('/d'));
    const down = join(tmp.dir, 'close-down');
    const r = await getTree(client, peer.remote(src), down);
    assert.deepEqual(
      r.errors.map((e) => [e.path, (e.error as { code?: string }).code]),
      [['d', 'EIO']],
    );
    assert.equal(r.files, 4);
    assert.deepEqual(treeDiff(src, down), []);
  });

  test("rmtree: a listing's failed CLOSE is reported (a TreeError naming that directory)", async () => {
    const src = join(tmp.dir, 'close-rm');
    writeTree(src, { a: 'a', d: { b: 'b' } });
    const { client } = closeFailsFor((p) => p.endsWith('/d'));
    const err = await rmtree(client, peer.remote(src)).catch((e: unknown) => e);
    assert.ok(err instanceof TreeError, `expected a TreeError, got ${String(err)}`);
    assert.deepEqual(
      err.errors.map((e) => [e.path, (e.error as { code?: string }).code]),
      [['d', 'EIO']],
    );
  });

  test('READDIRs answered out of order: entries that come after an end-of-directory are still taken', async () => {
    const src = join(tmp.dir, 'ooo-src');
    writeTree(src, { a: 'a', b: 'b', d: { c: 'c', e: 'e' } });
    // Per handle: the first READDIR says "end" (late), the second brings the whole listing, then "end".
    const calls = new Map<string, number>();
    let closedBeforeAnswered = 0;
    const outstanding = new Map<string, number>();
    const client = withOverrides(peer.client, {
      readdir: async (h: Buffer, opts?: RequestOptions): Promise<DirEntry[] | null> => {
        const key = h.toString('hex');
        const n = (calls.get(key) ?? 0) + 1;
        calls.set(key, n);
        outstanding.set(key, (outstanding.get(key) ?? 0) + 1);
        try {
          if (n === 1) {
            await new Promise((r) => setTimeout(r, 30));
            return null;
          }
          if (n === 2) return await peer.client.readdir(h, opts);
          return null;
        } finally {
          outstanding.set(key, outstanding.get(key)! - 1);
        }
      },
      close: async (h: Buffer, opts?: RequestOptions) => {
        if ((outstanding.get(h.toString('hex')) ?? 0) > 0) closedBeforeAnswered++;
        return peer.client.close(h, opts);
      },
    });
    const down = join(tmp.dir, 'ooo-down');
    const r = await getTree(client, peer.remote(src), down);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(treeDiff(src, down), []);
    assert.equal(closedBeforeAnswered, 0, 'no listing was closed while one of its READDIRs was unanswered');
    const up = join(tmp.dir, 'ooo-src');
    calls.clear();
    const rm = await rmtree(client, peer.remote(up));
    assert.equal(rm.files, 4);
    assert.equal(rm.directories, 2);
    assert.equal(closedBeforeAnswered, 0);
  });

  for (const op of ['getTree', 'rmtree'] as const) {
    test(`${op}: aborted while the top directory's early OPENDIR is never answered, it still ends (within the abort grace)`, async () => {
      const src = join(tmp.dir, `held-${op}`);
      writeTree(src, { a: 'a', d: { b: 'b' } });
      const ac = new AbortController();
      let opendirs = 0;
      const client = withOverrides(peer.client, {
        // the server never answers an OPENDIR
        opendir: () => {
          opendirs++;
          return new Promise<Buffer>(() => {});
        },
        // the user aborts while the top's STAT/LSTAT is on its way back
        stat: async (path: string, opts?: RequestOptions) => {
          const a = await peer.client.stat(path, opts);
          ac.abort();
          return a;
        },
        lstat: async (path: string, opts?: RequestOptions) => {
          const a = await peer.client.lstat(path, opts);
          ac.abort();
          return a;
        },
      });
      const run =
        op === 'getTree'
          ? getTree(client, peer.remote(src), join(tmp.dir, `held-${op}-down`), { signal: ac.signal })
          : rmtree(client, peer.remote(src), { signal: ac.signal });
      const outcome = await Promise.race([
        run.then(
          () => 'ended',
          () => 'ended',
        ),
        new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000).unref()),
      ]);
      assert.equal(outcome, 'ended');
      assert.equal(opendirs, 1, 'the early OPENDIR was sent');
    });
  }
});
