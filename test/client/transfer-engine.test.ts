// The transfer engines alone, with scripted readers/writers: the window bound, ascending WRITE order,
// out-of-order and short READ replies, a source that shrinks or grows, abort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AbortError,
  BufferSource,
  SourceChangedError,
  readChunks,
  writeChunks,
  type ChunkSource,
} from '../../src/client/index.js';
import { prng } from '../../bench/lib/peers/fake-sftp-server.js';

const H = Buffer.from('h');
const tick = () => new Promise((r) => setImmediate(r));

/** A reader over `data` whose replies come back in a random order, some short. Tracks the most in flight. */
function scriptedReader(data: Buffer, seed: number) {
  const rnd = prng(seed);
  const waiting: Array<() => void> = [];
  const stats = { inflight: 0, maxInflight: 0, calls: 0 };
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (waiting.length > 0) {
      const i = Math.floor(rnd() * waiting.length);
      waiting.splice(i, 1)[0]!();
      if (rnd() < 0.3) break; // leave some for later
    }
    if (waiting.length > 0 && !scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    stats,
    read(_h: Buffer, offset: number, length: number): Promise<Buffer> {
      stats.calls++;
      stats.inflight++;
      stats.maxInflight = Math.max(stats.maxInflight, stats.inflight);
      return new Promise((resolve) => {
        waiting.push(() => {
          stats.inflight--;
          if (offset >= data.length) return resolve(Buffer.alloc(0));
          let n = Math.min(length, data.length - offset);
          if (rnd() < 0.3) n = 1 + Math.floor(rnd() * n);
          resolve(data.subarray(offset, offset + n));
        });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}

test('readChunks: any reply order and short reads give the exact bytes in order; at most `requests` in flight', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 10 }),
      fc.integer(),
      fc.boolean(),
      async (bytes, chunkSize, requests, seed, knownSize) => {
        const data = Buffer.from(bytes);
        const reader = scriptedReader(data, seed);
        const out: Buffer[] = [];
        let held = 0;
        for await (const b of readChunks(reader, H, {
          chunkSize,
          requests,
          expectSize: knownSize ? data.length : undefined,
        })) {
          out.push(Buffer.from(b));
          held = Math.max(held, reader.stats.inflight);
          if (out.length % 3 === 0) await tick(); // a slow consumer: replies pile up, but only within the window
        }
        assert.ok(Buffer.concat(out).equals(data));
        assert.ok(
          reader.stats.maxInflight <= requests + 1,
          `${reader.stats.maxInflight} in flight for a window of ${requests}`,
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('readChunks reports a source that shrank or grew against the expected size', async () => {
  const data = Buffer.alloc(1000, 1);
  const shrank = readChunks(scriptedReader(data, 1), H, { chunkSize: 100, requests: 4, expectSize: 1500, path: '/f' });
  await assert.rejects(
    async () => {
      for await (const b of shrank) void b;
    },
    (e: unknown) => e instanceof SourceChangedError && e.expected === 1500 && e.actual < 1500,
  );
  const grew = readChunks(scriptedReader(data, 2), H, { chunkSize: 100, requests: 4, expectSize: 500 });
  await assert.rejects(
    async () => {
      for await (const b of grew) void b;
    },
    (e: unknown) => e instanceof SourceChangedError && e.actual > 500 && /grew/.test(e.message),
  );
  // exact size, a multiple of the chunk: the one-byte probe reads EOF, no error, no extra round trip beyond it
  const exact = scriptedReader(data, 3);
  const parts: Buffer[] = [];
  for await (const b of readChunks(exact, H, { chunkSize: 100, requests: 4, expectSize: 1000 })) parts.push(b);
  assert.equal(Buffer.concat(parts).length, 1000);
});

test('readChunks: a range (length) stops there; a READ error rejects the iteration; abort rejects with AbortError', async () => {
  const data = Buffer.from(Array.from({ length: 500 }, (_, i) => i & 0xff));
  const parts: Buffer[] = [];
  for await (const b of readChunks(scriptedReader(data, 4), H, { start: 10, length: 95, chunkSize: 7, requests: 3 }))
    parts.push(b);
  assert.ok(Buffer.concat(parts).equals(data.subarray(10, 105)));
  const failing = {
    read: async (_h: Buffer, o: number) => {
      if (o >= 20) throw new Error('boom');
      return Buffer.alloc(10);
    },
  };
  await assert.rejects(async () => {
    for await (const b of readChunks(failing, H, { chunkSize: 10, requests: 4 })) void b;
  }, /boom/);
  const ac = new AbortController();
  const never = { read: () => new Promise<Buffer>(() => {}) };
  const it = readChunks(never, H, { chunkSize: 10, requests: 2, signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(async () => {
    for await (const b of it) void b;
  }, AbortError);
});

test('writeChunks: ascending offsets, at most `requests` in flight, exact bytes', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 2000 }),
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer(),
      async (bytes, chunkSize, requests, seed) => {
        const rnd = prng(seed);
        const data = Buffer.from(bytes);
        const got = Buffer.alloc(data.length);
        const offsets: number[] = [];
        let inflight = 0;
        let maxInflight = 0;
        const writer = {
          write(_h: Buffer, offset: number, d: Buffer): Promise<void> {
            offsets.push(offset);
            inflight++;
            maxInflight = Math.max(maxInflight, inflight);
            d.copy(got, offset);
            return new Promise((r) => {
              let n = Math.floor(rnd() * 3);
              const later = () => (n-- > 0 ? setImmediate(later) : (inflight--, r()));
              setImmediate(later);
            });
          },
        };
        const progress: number[] = [];
        const n = await writeChunks(writer, H, new BufferSource(data), {
          chunkSize,
          requests,
          expectSize: data.length,
          onProgress: (b) => progress.push(b),
        });
        assert.equal(n, data.length);
        assert.ok(got.equals(data));
        assert.deepEqual(
          offsets,
          [...offsets].sort((a, b) => a - b),
        );
        assert.ok(maxInflight <= requests);
        assert.equal(progress.at(-1) ?? 0, data.length);
      },
    ),
    { numRuns: 150 },
  );
});

test('writeChunks reports a source that shrank or grew; a failed WRITE stops the upload', async () => {
  const data = Buffer.alloc(1000, 2);
  const ok = { write: async () => {} };
  const shrank = await writeChunks(ok, H, new BufferSource(data), {
    chunkSize: 100,
    requests: 4,
    expectSize: 1200,
  }).catch((e: unknown) => e);
  assert.ok(shrank instanceof SourceChangedError && shrank.actual === 1000 && shrank.expected === 1200);
  const grew = await writeChunks(ok, H, new BufferSource(data), { chunkSize: 100, requests: 4, expectSize: 800 }).catch(
    (e: unknown) => e,
  );
  assert.ok(grew instanceof SourceChangedError && grew.actual > 800);
  // a source that grows while being read: the probe past the expected size sees it
  let size = 300;
  const growing: ChunkSource = {
    async read(pos, len) {
      size += 50;
      return Buffer.alloc(Math.max(0, Math.min(len, size - pos)), 3);
    },
  };
  assert.ok(
    (await writeChunks(ok, H, growing, { chunkSize: 100, requests: 2, expectSize: 300 }).catch(
      (e: unknown) => e,
    )) instanceof SourceChangedError,
  );
  let writes = 0;
  const failing = {
    write: async (_h: Buffer, o: number) => {
      writes++;
      if (o === 300) throw new Error('disk full');
    },
  };
  await assert.rejects(
    writeChunks(failing, H, new BufferSource(Buffer.alloc(100_000)), { chunkSize: 100, requests: 4 }),
    /disk full/,
  );
  assert.ok(writes < 20, `${writes} WRITEs were sent after the failure`);
});
