// READ replies as pieces: readChunkPieces (the engine, with scripted readers), the session's
// requestPieces and the client's readPieces (against a scripted server that sends its DATA in many
// chunks), and a download through them. The bytes are exact; the checks of a DATA are those of read().
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { PacketType as T, SftpProtocolError, encodePacketToBuffer } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { readChunkPieces } from '../../src/client/engine/read-chunks.js';
import { FakeServer, prng } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { rejectionOf } from './helpers.js';

const H = Buffer.from('h');
const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition never became true');
}

/** A piece reader over `data`: replies in a random order, some short, each cut into random pieces. */
function scriptedPieceReader(data: Buffer, seed: number) {
  const rnd = prng(seed);
  const waiting: Array<() => void> = [];
  const stats = { inflight: 0, maxInflight: 0 };
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (waiting.length > 0) {
      waiting.splice(Math.floor(rnd() * waiting.length), 1)[0]!();
      if (rnd() < 0.3) break;
    }
    if (waiting.length > 0 && !scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    stats,
    readPieces(_h: Buffer, offset: number, length: number): Promise<Buffer[]> {
      stats.inflight++;
      stats.maxInflight = Math.max(stats.maxInflight, stats.inflight);
      return new Promise((resolve) => {
        waiting.push(() => {
          stats.inflight--;
          if (offset >= data.length) return resolve([]);
          let n = Math.min(length, data.length - offset);
          if (rnd() < 0.3) n = 1 + Math.floor(rnd() * n);
          const pieces: Buffer[] = [];
          for (let at = offset; at < offset + n;) {
            const k = Math.min(offset + n - at, 1 + Math.floor(rnd() * 40));
            pieces.push(data.subarray(at, at + k));
            at += k;
          }
          resolve(pieces);
        });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

test('readChunkPieces: any reply order, short reads and pieces give the exact bytes in order; at most `requests` in flight', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer(),
      fc.boolean(),
      fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
      async (bytes, chunkSize, requests, seed, knownSize, refillBatch) => {
        const data = Buffer.from(bytes);
        const reader = scriptedPieceReader(data, seed);
        const out: Buffer[] = [];
        let i = 0;
        for await (const pieces of readChunkPieces(reader, H, {
          chunkSize,
          requests,
          refillBatch,
          expectSize: knownSize ? data.length : undefined,
        })) {
          assert.ok(pieces.length > 0 && pieces.every((p) => p.length > 0), 'no empty list, no empty piece');
          for (const p of pieces) out.push(Buffer.from(p));
          if (++i % 3 === 0) await tick();
        }
        assert.ok(Buffer.concat(out).equals(data));
        assert.ok(reader.stats.maxInflight <= requests, `${reader.stats.maxInflight} in flight for ${requests}`);
      },
    ),
    { numRuns: 200 },
  );
});

/** A client on a scripted server whose DATA replies are written in chunks of `cut` bytes. */
async function chunkedServer(file: Buffer, cut: number) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  const sendCut = (buf: Buffer) => {
    for (let at = 0; at < buf.length; at += cut) b.write(buf.subarray(at, at + cut));
  };
  server.onRequest = (r) => {
    if (r.type === T.OPEN) return server.send({ type: T.HANDLE, id: r.id, handle: H });
    if (r.type === T.STAT || r.type === T.FSTAT)
      return server.send({ type: T.ATTRS, id: r.id, attrs: { size: file.length, permissions: 0o100644 } });
    if (r.type === T.READ) {
      const at = Number(r.offset);
      if (at >= file.length) return server.send({ type: T.STATUS, id: r.id, code: 1, message: 'EOF', lang: '' });
      return sendCut(encodePacketToBuffer({ type: T.DATA, id: r.id, data: file.subarray(at, at + r.length) }));
    }
    return server.ok(r.id);
  };
  const client = await SftpClient.fromStream(a, { chunkSize: 64 * 1024, requests: 8 });
  return { client, server, b, sendCut };
}

function pattern(size: number): Buffer {
  const file = Buffer.alloc(size);
  for (let i = 0; i < size; i++) file[i] = (i * 131 + (i >> 8)) & 0xff;
  return file;
}

describe('READ replies as pieces through the session', () => {
  test('readPieces: a DATA spread over many chunks comes as several pieces with the exact bytes; read() gets them joined', async () => {
    const file = pattern(100_000);
    const { client } = await chunkedServer(file, 7000);
    try {
      const pieces = await client.readPieces(H, 1000, 60_000);
      assert.ok(pieces.length > 1, `${pieces.length} piece(s)`);
      assert.ok(Buffer.concat(pieces).equals(file.subarray(1000, 61_000)));
      const joined = await client.read(H, 1000, 60_000);
      assert.ok(joined.equals(file.subarray(1000, 61_000)));
      assert.deepEqual(await client.readPieces(H, file.length, 10), [], 'EOF is an empty list');
    } finally {
      await client.end().catch(() => {});
    }
  });

  test('a DATA in pieces longer than the READ asked fails the session, as it does in one piece', async () => {
    const file = pattern(100_000);
    const { client, server, sendCut } = await chunkedServer(file, 5000);
    server.onRequest = (r) => {
      if (r.type === T.READ) sendCut(encodePacketToBuffer({ type: T.DATA, id: r.id, data: file.subarray(0, 40_001) }));
    };
    const e = await rejectionOf(client.readPieces(H, 0, 40_000));
    assert.ok(e instanceof SftpProtocolError);
    assert.match(e.message, /DATA of 40001 bytes answers a READ of 40000/);
  });

  test('get() of a file whose replies arrive in pieces writes the exact bytes', async () => {
    const file = pattern(1024 * 1024 + 4321);
    const { client } = await chunkedServer(file, 3000);
    const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-pieces-'));
    try {
      const out = join(dir, 'f');
      const r = await client.get('/f', out);
      assert.equal(r.bytes, file.length);
      assert.ok(readFileSync(out).equals(file));
      assert.ok((await client.readFile('/f')).equals(file), 'readFile (one buffer) agrees');
    } finally {
      await client.end().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a READ abandoned by its caller drops its DATA in pieces; the session carries on', async () => {
    const file = pattern(100_000);
    const { client, server } = await chunkedServer(file, 4000);
    const ac = new AbortController();
    const held: Array<() => void> = [];
    const onRequest = server.onRequest;
    server.onRequest = (r) => (r.type === T.READ && held.length === 0 ? held.push(() => onRequest(r)) : onRequest(r));
    const p = client.readPieces(H, 0, 50_000, { signal: ac.signal });
    await until(() => held.length === 1);
    ac.abort();
    assert.equal((await rejectionOf(p)).name, 'AbortError');
    held[0]!();
    const again = await client.readPieces(H, 10, 30_000);
    assert.ok(Buffer.concat(again).equals(file.subarray(10, 30_010)));
    await client.end();
  });
});
