/**
 * READDIR on the server: replies filled by size (the first one small), entries that do not fit carried
 * to the next reply, read-ahead that never loses or repeats an entry, handles closed mid-listing, and
 * LocalDir on its synchronous and thread-pool paths.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet, type PacketOf } from '../../src/protocol/packets.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import type { FileSystem } from '../../src/server/fs/file-system.js';
import { LocalDir } from '../../src/server/fs/local-dir.js';
import { FIRST_REPLY_NAMES, nameReplyBudget } from '../../src/server/handlers/dir-handlers.js';
import { connect, type RawClient } from '../support/raw-client.js';
import { storages } from './helpers/fixtures.js';
import { tempDir } from '../support/temp-dir.js';

type NamePacket = PacketOf<typeof T.NAME>;

/** A listing with `inFlight` READDIRs outstanding at a time, like SftpClient.scandir; every reply kept. */
async function listPipelined(c: RawClient, dir: string, inFlight: number): Promise<NamePacket[]> {
  const h = await c.opendir(dir);
  const replies: NamePacket[] = [];
  const queue: Promise<Packet>[] = [];
  let eof = false;
  for (let i = 0; i < inFlight; i++) queue.push(c.request({ type: T.READDIR, handle: h }));
  while (queue.length > 0) {
    const p = await queue.shift()!;
    if (p.type === T.STATUS) {
      assert.equal(p.code, StatusCode.EOF, p.message);
      eof = true;
      continue;
    }
    assert.equal(p.type, T.NAME);
    assert.ok(!eof, 'a NAME reply after end-of-directory');
    replies.push(p as NamePacket);
    queue.push(c.request({ type: T.READDIR, handle: h }));
  }
  await c.ok({ type: T.CLOSE, handle: h });
  return replies;
}

const longName = (i: number): string => `n${i}-${'L'.repeat(150 + (i % 90))}`;

for (const storage of storages) {
  describe(`READDIR replies against ${storage.name}`, () => {
    let made: { fs: FileSystem; cleanup(): void };
    let c: RawClient;
    let served: Promise<void>;
    const COUNT = 1500;

    before(async () => {
      made = storage.make();
      const s = await connect(new SftpServer({ fs: made.fs }));
      c = s.client;
      served = s.served;
      await c.ok({ type: T.MKDIR, path: '/many', attrs: {} });
      for (let i = 0; i < COUNT; i++) {
        const h = await c.open(`/many/${longName(i)}`, OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
        await c.ok({ type: T.CLOSE, handle: h });
      }
    });
    after(async () => {
      c.end();
      await served;
      made.cleanup();
    });

    it('lists every entry once; the first reply holds 100 names, later ones fill the size budget', async () => {
      const replies = await listPipelined(c, '/many', 4);
      const names = replies.flatMap((r) => r.entries.map((e) => e.filename));
      assert.equal(names.length, COUNT + 2);
      assert.equal(new Set(names).size, COUNT + 2);
      for (let i = 0; i < COUNT; i++) assert.ok(names.includes(longName(i)), longName(i));
      assert.ok(names.includes('.') && names.includes('..'));
      assert.equal(replies[0]!.entries.length, FIRST_REPLY_NAMES);
      const budget = nameReplyBudget(256 * 1024 + 1024);
      for (const r of replies)
        assert.ok(encodePacketToBuffer(r).length <= budget, `reply of ${encodePacketToBuffer(r).length} bytes`);
      // filled: every reply but the first and the last is within one entry of the budget
      for (const r of replies.slice(1, -1)) assert.ok(encodePacketToBuffer(r).length > budget - 1024);
      assert.ok(replies.length < (COUNT + 2) / 100, `${replies.length} replies`);
      for (const r of replies) for (const e of r.entries) assert.ok(e.longname.endsWith(` ${e.filename}`));
    });

    it('one READDIR at a time gets the same entries', async () => {
      const a = (await c.names('/many'))
        .flat()
        .map((e) => e.filename)
        .sort();
      const b = (await listPipelined(c, '/many', 1)).flatMap((r) => r.entries.map((e) => e.filename)).sort();
      assert.deepEqual(a, b);
    });

    it('a handle closed after its first reply (read-ahead under way) closes cleanly; the next listing is whole', async () => {
      for (let k = 0; k < 5; k++) {
        const h = await c.opendir('/many');
        const first = await c.request({ type: T.READDIR, handle: h });
        assert.equal(first.type, T.NAME);
        await c.ok({ type: T.CLOSE, handle: h });
        assert.equal(await c.status({ type: T.READDIR, handle: h }), StatusCode.FAILURE);
      }
      const names = (await c.names('/many')).flat();
      assert.equal(names.length, COUNT + 2);
    });

    it('an empty directory lists . and .. then EOF', async () => {
      await c.ok({ type: T.MKDIR, path: '/empty', attrs: {} });
      const replies = await listPipelined(c, '/empty', 3);
      assert.deepEqual(replies.flatMap((r) => r.entries.map((e) => e.filename)).sort(), ['.', '..']);
    });
  });
}

describe('READDIR under a small packet limit', () => {
  it('every reply fits the limit and the listing is whole', async () => {
    const t = tempDir();
    try {
      mkdirSync(path.join(t.dir, 'd'));
      for (let i = 0; i < 300; i++) closeSync(openSync(path.join(t.dir, 'd', longName(i)), 'w'));
      const maxPacket = 2048;
      const s = await connect(new SftpServer({ root: t.dir, limits: { maxPacket } }));
      const replies = await listPipelined(s.client, '/d', 4);
      s.client.end();
      await s.served;
      const names = replies.flatMap((r) => r.entries.map((e) => e.filename));
      assert.equal(new Set(names).size, 302);
      for (const r of replies) assert.ok(encodePacketToBuffer(r).length <= maxPacket);
    } finally {
      t.cleanup();
    }
  });
});

describe('LocalDir', () => {
  let t: { dir: string; cleanup(): void };
  const N = 700;
  before(() => {
    t = tempDir('sftp-wire-localdir-');
    for (let i = 0; i < N; i++) writeFileSync(path.join(t.dir, `f${i}`), 'x'.repeat(i % 50));
    mkdirSync(path.join(t.dir, 'sub'));
    symlinkSync('f1', path.join(t.dir, 'link'));
  });
  after(() => t.cleanup());

  const openFds = (): number => readdirSync('/proc/self/fd').length;

  for (const syncBudgetMs of [undefined, 0]) {
    const label = syncBudgetMs === 0 ? 'on the thread pool (no time for synchronous calls)' : 'synchronous while fast';
    it(`${label}: any sequence of batch sizes yields every entry once, each batch within its size, with lstat`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), async (sizes) => {
          const d = new LocalDir(t.dir, { syncBudgetMs });
          const seen: string[] = [];
          try {
            for (let k = 0; ; k++) {
              const max = sizes[k % sizes.length]!;
              const b = await d.read(max);
              if (b === null) break;
              assert.ok(b.length >= 1 && b.length <= max);
              for (const e of b) {
                seen.push(e.name);
                assert.ok(e.stats, e.name);
                if (e.name === 'sub') assert.equal(e.stats.mode & 0o170000, 0o040000);
                if (e.name === 'link') assert.equal(e.stats.mode & 0o170000, 0o120000);
                if (/^f\d+$/.test(e.name)) assert.equal(e.stats.size, Number(e.name.slice(1)) % 50);
              }
            }
            assert.equal(await d.read(10), null, 'stays at the end');
          } finally {
            await d.close();
          }
          assert.equal(seen.length, N + 2);
          assert.equal(new Set(seen).size, N + 2);
        }),
        { numRuns: 25 },
      );
    });
  }

  it('reads issued at once are served in turn, without losing or repeating entries', async () => {
    const d = new LocalDir(t.dir, { syncBudgetMs: 0 });
    const batches = await Promise.all(Array.from({ length: 20 }, (_, i) => d.read(50 + i)));
    await d.close();
    const names = batches.flatMap((b) => (b ?? []).map((e) => e.name));
    assert.equal(names.length, N + 2);
    assert.equal(new Set(names).size, N + 2);
  });

  it('a name removed after it was read comes without stats; close releases the directory and its pin', async () => {
    const before = openFds();
    let closedPin = 0;
    const d = new LocalDir(t.dir, { onClose: async () => void closedPin++ });
    const first = await d.read(1);
    assert.equal(first!.length, 1);
    // the read-ahead batch may already be read; a name removed now is either listed with stats or not at all
    const gone = 'f699';
    rmSync(path.join(t.dir, gone));
    let rest = 0;
    for (;;) {
      const b = await d.read(100);
      if (!b) break;
      for (const e of b) if (e.name === gone) assert.ok(e.stats === undefined || e.stats.size === 699 % 50);
      rest += b.length;
    }
    assert.ok(rest >= N, `${rest}`);
    await d.close();
    await d.close();
    assert.equal(closedPin, 1);
    assert.equal(openFds(), before);
    writeFileSync(path.join(t.dir, gone), 'x'.repeat(699 % 50));
  });

  it('closed in the middle, with a read-ahead batch pending: no error, nothing left open', async () => {
    const before = openFds();
    for (const syncBudgetMs of [undefined, 0]) {
      const d = new LocalDir(t.dir, { syncBudgetMs });
      assert.ok(await d.read(10));
      await d.close();
      assert.equal(await d.read(10), null);
    }
    assert.equal(openFds(), before);
  });
});
