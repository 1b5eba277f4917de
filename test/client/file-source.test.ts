import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { FileSource, writeChunks } from '../../src/client/engine/write-chunks.js';
import { SourceChangedError } from '../../src/client/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-file-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

test('FileSource: chunks equal the file at every offset, and chunks still out are never overwritten by block reuse', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 120_000 }),
      fc.integer({ min: 1, max: 9_000 }),
      fc.integer({ min: 1, max: 40_000 }),
      fc.nat({ max: 130_000 }),
      fc.array(fc.boolean(), { maxLength: 400 }),
      async (size, chunk, block, startRaw, steps) => {
        const content = pattern(size, n);
        const path = join(dir, `p${n++}`);
        writeFileSync(path, content);
        const fh = await open(path, 'r');
        try {
          const src = new FileSource(fh, chunk, block);
          const start = Math.min(startRaw, size);
          const held: Array<{ buf: Buffer; pos: number }> = [];
          let pos = start;
          let step = 0;
          while (pos < size) {
            // Release some held chunk now and then (in any order), as acknowledged WRITEs do.
            if (held.length > 0 && steps[step++ % Math.max(1, steps.length)]) {
              const [h] = held.splice((pos * 7) % held.length, 1);
              src.release(h!.buf);
            }
            const want = Math.min(chunk, size - pos);
            const buf = await src.read(pos, want);
            assert.equal(buf.length, want);
            assert.ok(buf.equals(content.subarray(pos, pos + want)), `chunk at ${pos}`);
            held.push({ buf, pos });
            pos += want;
          }
          // At the end: nothing more (the probe writeChunks makes).
          assert.equal((await src.read(size, 1)).length, 0);
          for (const h of held)
            assert.ok(h.buf.equals(content.subarray(h.pos, h.pos + h.buf.length)), `held chunk at ${h.pos} intact`);
        } finally {
          await fh.close();
          rmSync(path, { force: true });
        }
      },
    ),
    { numRuns: 60 },
  );
});

test('FileSource: released chunks give their block memory back (a long file reuses a few blocks)', async () => {
  const chunk = 4096;
  const block = 4 * chunk;
  const content = pattern(200 * chunk, 3);
  const path = join(dir, 'reuse');
  writeFileSync(path, content);
  const fh = await open(path, 'r');
  try {
    const src = new FileSource(fh, chunk, block);
    const memories = new Set<ArrayBufferLike>();
    for (let pos = 0; pos < content.length; pos += chunk) {
      const buf = await src.read(pos, chunk);
      assert.ok(buf.equals(content.subarray(pos, pos + chunk)));
      memories.add(buf.buffer);
      src.release(buf);
    }
    assert.ok(memories.size <= 4, `50 blocks read through ${memories.size} block memories`);
  } finally {
    await fh.close();
  }
});

test('FileSource: past a short block (the end when read) the file is read again, so growth is seen', async () => {
  const path = join(dir, 'grow');
  writeFileSync(path, pattern(10, 1));
  const fh = await open(path, 'r');
  try {
    const src = new FileSource(fh, 4, 8);
    assert.equal((await src.read(0, 4)).length, 4);
    assert.equal((await src.read(4, 4)).length, 4);
    assert.equal((await src.read(8, 4)).length, 2);
    appendFileSync(path, pattern(5, 2));
    assert.equal((await src.read(10, 1)).length, 1, 'the byte appended since');
  } finally {
    await fh.close();
  }
});

test('FileSource under writeChunks: a source that grew or shrank against the expected size is a SourceChangedError', async () => {
  const path = join(dir, 'changed');
  writeFileSync(path, pattern(50_000, 4));
  const writes: Array<[number, number]> = [];
  const client = {
    async write(_h: Buffer, offset: number, data: Buffer) {
      writes.push([offset, data.length]);
    },
  };
  const fh = await open(path, 'r');
  try {
    const n = await writeChunks(client, Buffer.from('h'), new FileSource(fh, 4096, 16_384), {
      chunkSize: 4096,
      requests: 4,
      expectSize: 50_000,
    });
    assert.equal(n, 50_000);
    for (let i = 1; i < writes.length; i++) assert.ok(writes[i]![0] > writes[i - 1]![0], 'ascending offsets');
    await assert.rejects(
      writeChunks(client, Buffer.from('h'), new FileSource(fh, 4096, 16_384), {
        chunkSize: 4096,
        requests: 4,
        expectSize: 40_000,
      }),
      (e: unknown) => e instanceof SourceChangedError,
    );
    await assert.rejects(
      writeChunks(client, Buffer.from('h'), new FileSource(fh, 4096, 16_384), {
        chunkSize: 4096,
        requests: 4,
        expectSize: 60_000,
      }),
      (e: unknown) => e instanceof SourceChangedError,
    );
  } finally {
    await fh.close();
  }
});
