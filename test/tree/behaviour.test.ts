import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SftpClient } from '../../src/client/index.js';
import type { DirEntry } from '../../src/client/core/remote.js';
import type { RequestOptions } from '../../src/client/core/session.js';
import { getTree, putTree, rmtree, TreeError, type TreeProgress } from '../../src/client/tree/index.js';
import { PacketType as T, SftpError, StatusCode } from '../../src/protocol/index.js';
import { filesInDirs, openTapped, peers, treeDiff, writeTree, type Peer } from './helpers.js';
import { removeDir } from '../support/temp-dir.js';
import type { WireTap } from './wire-tap.js';

/** A client whose methods are the real ones except those overridden (to inject faults or lies). */
function withOverrides(client: SftpClient, overrides: Partial<Record<keyof SftpClient, unknown>>): SftpClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof SftpClient];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A READDIR that lies: each entry the server sent replaced by what `f` makes of it. */
function readdirMapped(client: SftpClient, f: (e: DirEntry) => DirEntry[]) {
  return async (handle: Buffer, opts?: RequestOptions): Promise<DirEntry[] | null> => {
    const batch = await client.readdir(handle, opts);
    return batch && batch.flatMap(f);
  };
}

for (const p of peers) {
  describe(`tree behaviour against ${p.name}`, () => {
    let peer: Peer;
    let tap: WireTap;
    let base: string;
    let big: string;
    before(async () => {
      ({ peer, tap, base } = await openTapped(p));
      big = join(base, 'big');
      writeTree(
        big,
        filesInDirs(1500, 10, (i) => 64 + (i % 200)),
      );
    });
    after(async () => {
      await peer.close();
      removeDir(base);
    });

    test('abort during putTree: rejects with AbortError, every handle closed, nothing left in flight; the client goes on', async () => {
      const ac = new AbortController();
      const dst = join(base, 'aborted-up');
      const err = await putTree(peer.client, big, peer.remote(dst), {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.files >= 200) ac.abort();
        },
      }).then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e as Error & { result?: { files: number } },
      );
      assert.equal(err.name, 'AbortError');
      assert.ok(err.result && err.result.files >= 200 && err.result.files < 1500, `files done: ${err.result?.files}`);
      assert.equal(tap.open.size, 0, 'no handle left open');
      assert.equal(tap.inflight.size, 0, 'no request left unanswered');
      if (peer.openHandles() >= 0) assert.equal(peer.openHandles(), 0, 'the server holds no open file');
      const r = await putTree(peer.client, big, peer.remote(dst));
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(big, dst), []);
    });

    test('abort during getTree and rmtree: every handle closed; an aborted signal at the start sends nothing', async () => {
      const up = join(base, 'aborted-up');
      const ac = new AbortController();
      const err = await getTree(peer.client, peer.remote(up), join(base, 'aborted-down'), {
        signal: ac.signal,
        onProgress: (pr) => {
          if (pr.files >= 300) ac.abort();
        },
      }).catch((e: unknown) => e as Error);
      assert.equal((err as Error).name, 'AbortError');
      assert.equal(tap.open.size, 0);
      assert.equal(tap.inflight.size, 0);

      const ac2 = new AbortController();
      const err2 = await rmtree(peer.client, peer.remote(up), {
        signal: ac2.signal,
        onProgress: (pr) => {
          if (pr.files >= 100) ac2.abort();
        },
      }).catch((e: unknown) => e as Error);
      assert.equal((err2 as Error).name, 'AbortError');
      assert.equal(tap.open.size, 0);
      assert.equal(tap.inflight.size, 0);
      assert.ok(existsSync(up), 'stopped before the end');

      const opens = tap.opens;
      const sent = tap.sentTypes.length;
      await assert.rejects(
        putTree(peer.client, big, peer.remote(join(base, 'never')), { signal: AbortSignal.abort() }),
        { name: 'AbortError' },
      );
      await assert.rejects(
        getTree(peer.client, peer.remote(up), join(base, 'never'), { signal: AbortSignal.abort() }),
        { name: 'AbortError' },
      );
      assert.equal(tap.opens, opens);
      assert.ok(tap.sentTypes.length - sent <= 1, 'at most the STAT of the top directory'); // getTree stats before it starts
      await rmtree(peer.client, peer.remote(up));
      assert.equal(existsSync(up), false);
    });

    test('errors are collected per entry with their paths and the rest is copied; stopOnError stops at the first', async () => {
      const src = join(base, 'err-src');
      writeTree(src, { a: 'a', d: { b: 'b', c: 'c' }, e: { f: 'f' } });
      const dst = join(base, 'err-up');
      mkdirSync(join(dst, 'd', 'b'), { recursive: true }); // a directory where a file goes
      writeFileSync(join(dst, 'e'), 'a file where a directory goes');
      const r = await putTree(peer.client, src, peer.remote(dst));
      assert.deepEqual(r.errors.map((e) => e.path).sort(), ['d/b', 'e']);
      for (const e of r.errors) assert.ok(e.error instanceof SftpError);
      assert.equal(readFileSync(join(dst, 'a'), 'utf8'), 'a');
      assert.equal(readFileSync(join(dst, 'd', 'c'), 'utf8'), 'c');
      assert.equal(r.files, 2);
      assert.equal(tap.open.size, 0);

      const stopped = await putTree(peer.client, src, peer.remote(dst), { stopOnError: true, maxOpenFiles: 1 }).catch(
        (e: unknown) => e,
      );
      assert.ok(stopped instanceof TreeError, String(stopped));
      assert.equal(stopped.errors.length, 1);
      assert.ok(['d/b', 'e'].includes(stopped.errors[0]!.path));
      assert.ok(stopped.cause instanceof SftpError);
      assert.equal(tap.open.size, 0);

      // Downloads: a local directory where a remote file goes.
      const down = join(base, 'err-down');
      mkdirSync(join(down, 'a'), { recursive: true });
      const g = await getTree(peer.client, peer.remote(src), down);
      assert.deepEqual(
        g.errors.map((e) => e.path),
        ['a'],
      );
      assert.equal(readFileSync(join(down, 'd', 'b'), 'utf8'), 'b');
      assert.equal(g.files, 3);
    });

    test('rmtree: an entry that cannot be removed is reported; its directories stay, the rest goes', async () => {
      const dir = join(base, 'rm-partly');
      writeTree(dir, { keep: { stuck: 'x', other: 'y' }, gone: { z: 'z' }, top: 't' });
      const stuckPath = peer.remote(join(dir, 'keep', 'stuck'));
      const client = withOverrides(peer.client, {
        remove: (path: string) =>
          path === stuckPath
            ? Promise.reject(new SftpError({ status: StatusCode.PERMISSION_DENIED, op: 'remove', path }))
            : peer.client.remove(path),
      });
      const err = await rmtree(client, peer.remote(dir)).catch((e: unknown) => e);
      assert.ok(err instanceof TreeError);
      assert.deepEqual(
        err.errors.map((e) => e.path),
        ['keep/stuck'],
      );
      assert.deepEqual(readdirSync(dir), ['keep']);
      assert.deepEqual(readdirSync(join(dir, 'keep')), ['stuck']);
      assert.equal(err.result.files, 3);
      assert.equal(err.result.directories, 1);
    });

    test('preserve: mode and times of files and directories, both ways; without it, modes still follow the source', async () => {
      const src = join(base, 'pres-src');
      writeTree(src, { f: 'data', ro: { g: 'inside a read-only directory' }, x: 'exec' });
      chmodSync(join(src, 'f'), 0o640);
      chmodSync(join(src, 'x'), 0o751);
      utimesSync(join(src, 'f'), 978_307_200, 978_307_200); // 2001-01-01
      utimesSync(join(src, 'ro', 'g'), 1_000_000_000, 1_000_000_000);
      chmodSync(join(src, 'ro'), 0o555);
      utimesSync(join(src, 'ro'), 1_009_843_200, 1_009_843_200); // 2002-01-01
      const check = (dst: string, times: boolean) => {
        assert.equal(statSync(join(dst, 'f')).mode & 0o777, 0o640);
        assert.equal(statSync(join(dst, 'x')).mode & 0o777, 0o751);
        assert.equal(statSync(join(dst, 'ro')).mode & 0o777, 0o555);
        assert.equal(readFileSync(join(dst, 'ro', 'g'), 'utf8'), 'inside a read-only directory');
        if (times) {
          assert.equal(statSync(join(dst, 'f')).mtimeMs, 978_307_200_000);
          assert.equal(statSync(join(dst, 'ro', 'g')).mtimeMs, 1_000_000_000_000);
          assert.equal(statSync(join(dst, 'ro')).mtimeMs, 1_009_843_200_000);
        }
      };
      const up = join(base, 'pres-up');
      assert.deepEqual((await putTree(peer.client, src, peer.remote(up), { preserve: true })).errors, []);
      check(up, true);
      const down = join(base, 'pres-down');
      assert.deepEqual((await getTree(peer.client, peer.remote(up), down, { preserve: true })).errors, []);
      check(down, true);
      const up2 = join(base, 'pres-up2');
      assert.deepEqual((await putTree(peer.client, src, peer.remote(up2))).errors, []);
      check(up2, false);
      assert.notEqual(statSync(join(up2, 'f')).mtimeMs, 978_307_200_000);
      const down2 = join(base, 'pres-down2');
      assert.deepEqual((await getTree(peer.client, peer.remote(up), down2)).errors, []);
      check(down2, false);
    });

    test("symlinks: 'skip' leaves them out, 'follow' copies what they point at, a loop or a dangling link is that entry's error", async () => {
      const src = join(base, 'links-src');
      writeTree(src, {
        real: { file: 'content' },
        'to-file': { link: 'real/file' },
        'to-dir': { link: 'real' },
        dangling: { link: 'nothing-here' },
        nest: { 'loop-up': { link: '..' } },
      });
      const skip = join(base, 'links-skip');
      const s = await putTree(peer.client, src, peer.remote(skip), { symlinks: 'skip' });
      assert.deepEqual(s.errors, []);
      assert.equal(s.skipped, 4);
      assert.deepEqual(readdirSync(skip).sort(), ['nest', 'real']);

      const follow = join(base, 'links-follow');
      const f = await putTree(peer.client, src, peer.remote(follow), { symlinks: 'follow' });
      assert.deepEqual(f.errors.map((e) => e.path).sort(), ['dangling', 'nest/loop-up']);
      assert.equal(readFileSync(join(follow, 'to-file'), 'utf8'), 'content');
      assert.equal(lstatSync(join(follow, 'to-file')).isFile(), true);
      assert.equal(readFileSync(join(follow, 'to-dir', 'file'), 'utf8'), 'content');
      assert.equal(lstatSync(join(follow, 'to-dir')).isDirectory(), true);

      // Down, following the links on the server side.
      const down = join(base, 'links-follow-down');
      const g = await getTree(peer.client, peer.remote(src), down, { symlinks: 'follow' });
      assert.deepEqual(g.errors.map((e) => e.path).sort(), ['dangling', 'nest/loop-up']);
      assert.equal(readFileSync(join(down, 'to-file'), 'utf8'), 'content');
      assert.equal(lstatSync(join(down, 'to-dir')).isDirectory(), true);
      const gs = await getTree(peer.client, peer.remote(src), join(base, 'links-skip-down'), { symlinks: 'skip' });
      assert.equal(gs.skipped, 4);
    });

    test('getTree: a file whose size changed since the listing is fetched again whole (the last READ asks past the end)', async () => {
      const src = join(base, 'changed');
      writeTree(src, { grew: randomBytes(10_000), shrank: randomBytes(300), same: randomBytes(5), empty: '' });
      const lying = withOverrides(peer.client, {
        readdir: readdirMapped(peer.client, (e) => {
          if (e.filename === 'grew') return [{ ...e, attrs: { ...e.attrs, size: 4_000 } }];
          if (e.filename === 'shrank') return [{ ...e, attrs: { ...e.attrs, size: 9_000 } }];
          if (e.filename === 'empty') return [{ ...e, attrs: { ...e.attrs, size: 1 } }];
          return [e];
        }),
      });
      const down = join(base, 'changed-down');
      const r = await getTree(lying, peer.remote(src), down, { chunkSize: 1024 });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(treeDiff(src, down), []);
      assert.equal(r.bytes, 10_305);
    });

    test('getTree refuses names a server must not send (.., a/b) and writes nothing outside the destination', async () => {
      const src = join(base, 'names-src');
      writeTree(src, { ok: 'fine', sub: { inner: 'x' } });
      const evil = withOverrides(peer.client, {
        readdir: readdirMapped(peer.client, (e) =>
          e.filename === 'ok' ? [{ ...e, filename: '../escaped' }, { ...e, filename: 'sub/../../escaped2' }, e] : [e],
        ),
      });
      const down = join(base, 'names-down', 'inside');
      const r = await getTree(evil, peer.remote(src), down);
      assert.deepEqual(
        r.errors.map((e) => (e.error as { code?: string }).code),
        ['ERR_SFTP_BAD_NAME', 'ERR_SFTP_BAD_NAME'],
      );
      assert.equal(existsSync(join(base, 'names-down', 'escaped')), false);
      assert.equal(existsSync(join(base, 'escaped2')), false);
      assert.deepEqual(treeDiff(src, down), []);
    });

    test('progress: files and bytes grow to the totals, which are known once the walk has ended', async () => {
      const seen: TreeProgress[] = [];
      const r = await putTree(peer.client, big, peer.remote(join(base, 'progress-up')), {
        onProgress: (pr) => seen.push({ ...pr }),
      });
      const last = seen[seen.length - 1]!;
      assert.equal(last.files, 1500);
      assert.equal(last.bytes, r.bytes);
      assert.equal(last.totalFiles, 1500);
      assert.equal(last.totalBytes, r.bytes);
      for (let i = 1; i < seen.length; i++) {
        assert.ok(seen[i]!.files >= seen[i - 1]!.files && seen[i]!.bytes >= seen[i - 1]!.bytes);
      }
      const g: TreeProgress[] = [];
      await getTree(peer.client, peer.remote(join(base, 'progress-up')), join(base, 'progress-down'), {
        onProgress: (pr) => g.push({ ...pr }),
      });
      assert.equal(g[g.length - 1]!.files, 1500);
      assert.equal(g[g.length - 1]!.totalBytes, r.bytes);
    });

    test('a session lost in the middle: rejects with a TreeError caused by the lost session, without hanging', async () => {
      const other = await p.open();
      try {
        const err = await putTree(other.client, big, other.remote(join(base, 'lost-up')), {
          onProgress: (pr) => {
            if (pr.files === 100) other.client.session.destroy(new Error('cut by the test'));
          },
        }).catch((e: unknown) => e);
        assert.ok(err instanceof TreeError, String(err));
        assert.ok(
          ['ECONNRESET', 'ERR_SFTP_CLOSED'].includes((err.cause as { code?: string }).code ?? ''),
          String(err.cause),
        );
        assert.ok(err.result.files >= 100 && err.result.files < 1500);
        assert.equal(err.errors.length, 1, 'one error for the lost session, not one per remaining file');
      } finally {
        await other.close();
      }
    });

    test("atomic and resume apply to every file of the tree (through the client's own put/get)", async () => {
      const src = join(base, 'atomic-src');
      writeTree(src, { a: randomBytes(3000), d: { b: randomBytes(10), e: '' } });
      const up = join(base, 'atomic-up');
      writeTree(up, { a: 'old' });
      const sent = tap.sentTypes.length;
      const r = await putTree(peer.client, src, peer.remote(up), { atomic: true });
      const renames = tap.sentTypes.slice(sent).filter((t) => t === T.RENAME || t === T.EXTENDED).length;
      assert.ok(renames >= 3, `each file renamed into place (${renames} RENAME/posix-rename requests)`);
      assert.deepEqual(r.errors, []);
      assert.equal(r.files, 3);
      assert.deepEqual(treeDiff(src, up), [], 'no temporary file left either');
      const down = join(base, 'atomic-down');
      const g = await getTree(peer.client, peer.remote(up), down, { atomic: true, resume: true });
      assert.deepEqual(g.errors, []);
      assert.deepEqual(treeDiff(src, down), []);
      assert.equal(tap.open.size, 0);
    });
  });
}
