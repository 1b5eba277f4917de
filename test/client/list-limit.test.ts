// list() collects a directory in memory, so it is bounded (maxEntries); scandir streams and is not.
// A lying server whose READDIR never ends must not grow the client without end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T, SftpError, StatusCode } from '../../src/protocol/index.js';
import { SftpClient, DEFAULT_LIST_MAX_ENTRIES } from '../../src/client/index.js';
import { FakeServer } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { rejectionOf } from './helpers.js';

/**
 * A server with one directory `/d`: READDIR answers `batch` entries at a time until `total` were sent
 * (Infinity: never ends), then EOF. Counts READDIRs and CLOSEs of the directory handle.
 */
async function dirServer(total: number, batch: number, tiny = false) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  const seen = { readdirs: 0, closes: 0, sent: 0 };
  server.onRequest = (r) => {
    const status = (code: number) => server.send({ type: T.STATUS, id: r.id, code, message: '', lang: '' });
    switch (r.type) {
      case T.OPENDIR:
        if (r.path !== '/d') return status(StatusCode.NO_SUCH_FILE);
        return server.send({ type: T.HANDLE, id: r.id, handle: Buffer.from('dir') });
      case T.READDIR: {
        seen.readdirs++;
        const n = Math.min(batch, total - seen.sent);
        if (n <= 0) return status(StatusCode.EOF);
        const entries = Array.from({ length: n }, (_, i) => {
          const k = seen.sent + i;
          if (tiny) return { filename: `f${k}`, longname: '', attrs: {} };
          return {
            filename: `file-${k}`,
            longname: `-rw-r--r--    1 u g  ${k} Jan  1 00:00 file-${k}`,
            attrs: { size: k, permissions: 0o100644 },
          };
        });
        // The first batch also carries . and .. (they are not counted).
        if (seen.sent === 0)
          entries.unshift({ filename: '.', longname: '', attrs: {} }, { filename: '..', longname: '', attrs: {} });
        seen.sent += n;
        return server.send({ type: T.NAME, id: r.id, entries });
      }
      case T.CLOSE:
        seen.closes++;
        return status(StatusCode.OK);
      case T.STAT:
        return server.send({ type: T.ATTRS, id: r.id, attrs: { size: 1, permissions: 0o100644 } });
      default:
        return status(StatusCode.OP_UNSUPPORTED);
    }
  };
  const client = await SftpClient.fromStream(a);
  return { client, seen, close: () => client.end().catch(() => {}) };
}

test(
  'list() of a directory whose READDIR never ends rejects at maxEntries, closes the handle, and the session goes on',
  { timeout: 20_000 },
  async () => {
    const s = await dirServer(Infinity, 500);
    try {
      const err = await rejectionOf(s.client.list('/d', { maxEntries: 20_000 }));
      assert.ok(err instanceof SftpError, String(err));
      assert.equal(err.code, 'ERR_SFTP_LIST_LIMIT');
      assert.equal(err.path, '/d');
      assert.match(err.message, /more than 20000 entries/);
      assert.match(err.message, /maxEntries/);
      assert.match(err.message, /scandir/);
      assert.equal(s.seen.closes, 1, 'the directory handle was closed');
      // It stopped: what was asked is the limit's worth of batches plus the READDIRs kept in flight.
      assert.ok(s.seen.readdirs <= 20_000 / 500 + 1 + 4, `${s.seen.readdirs} READDIRs`);
      await new Promise((r) => setTimeout(r, 50));
      const after = s.seen.readdirs;
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(s.seen.readdirs, after, 'no READDIR is sent after the rejection');
      assert.equal((await s.client.stat('/x')).size, 1, 'the session still works');
    } finally {
      await s.close();
    }
  },
);

test('list() without options stops at DEFAULT_LIST_MAX_ENTRIES', { timeout: 30_000 }, async () => {
  const s = await dirServer(Infinity, 2000, true);
  try {
    const err = await rejectionOf(s.client.list('/d'));
    assert.equal(err.code, 'ERR_SFTP_LIST_LIMIT');
    assert.match(err.message, new RegExp(`more than ${DEFAULT_LIST_MAX_ENTRIES} entries`));
    assert.equal(s.seen.closes, 1);
  } finally {
    await s.close();
  }
});

test('scandir of the same endless directory stays a stream: the caller decides when to stop', async () => {
  const s = await dirServer(Infinity, 500);
  try {
    let n = 0;
    for await (const e of s.client.scandir('/d')) {
      if (e.filename.startsWith('file-')) n++;
      if (n === 30_000) break; // past list()'s limit above: scandir has none of its own
    }
    assert.equal(n, 30_000);
    assert.equal(s.seen.closes, 1);
  } finally {
    await s.close();
  }
});

test('property: list() resolves with every entry when there are at most maxEntries, rejects otherwise; the handle is closed either way', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 1, max: 40 }),
      async (total, max, batch) => {
        const s = await dirServer(total, batch);
        try {
          const p = s.client.list('/d', { maxEntries: max });
          if (total <= max) {
            const entries = await p;
            assert.deepEqual(
              entries.map((e) => e.filename),
              Array.from({ length: total }, (_, i) => `file-${i}`),
            );
          } else {
            const err = await rejectionOf(p);
            assert.equal(err.code, 'ERR_SFTP_LIST_LIMIT');
          }
          assert.equal(s.seen.closes, 1);
        } finally {
          await s.close();
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('list() refuses a maxEntries that is not a number >= 0', async () => {
  const s = await dirServer(3, 3);
  try {
    const err = await rejectionOf(s.client.list('/d', { maxEntries: -1 }));
    assert.ok(err instanceof TypeError);
    assert.equal(s.seen.readdirs, 0, 'nothing was sent');
  } finally {
    await s.close();
  }
});
