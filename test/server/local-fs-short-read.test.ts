import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { writeFileSync } from 'node:fs';
import path from 'node:path';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { tempDir } from '../support/temp-dir.js';
import { READ_ONLY } from '../support/open-options.js';

/** Run `fn` counting the synchronous vectored reads it makes. */
async function countReadv<T>(fn: () => Promise<T>): Promise<{ value: T; calls: number }> {
  const real = fs.readvSync;
  let calls = 0;
  fs.readvSync = ((...args: Parameters<typeof real>) => {
    calls++;
    return real(...args);
  }) as typeof real;
  try {
    return { value: await fn(), calls };
  } finally {
    fs.readvSync = real;
  }
}

describe('LocalFs reads: a read cut short in the last buffer is answered without another call', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('one buffer past the end: the bytes there, one call', async () => {
    const base = t.fresh();
    writeFileSync(path.join(base, 'f'), Buffer.alloc(4096, 7));
    const file = await new LocalFs(base).open('/f', READ_ONLY);
    const buf = Buffer.alloc(4097);
    const { value, calls } = await countReadv(() => file.readv!(0, [buf]));
    assert.equal(value, 4096);
    assert.equal(calls, 1);
    assert.equal((await file.read(0, 4097)).length, 4096);
    await file.close();
  });

  it('short inside the last of several buffers: one call; short at a boundary: asked again', async () => {
    const base = t.fresh();
    writeFileSync(path.join(base, 'f'), Buffer.from('0123456789'));
    const file = await new LocalFs(base).open('/f', READ_ONLY);
    const a = Buffer.alloc(8);
    const b = Buffer.alloc(8);
    const inside = await countReadv(() => file.readv!(0, [a, b]));
    assert.deepEqual([inside.value, inside.calls], [10, 1]);
    assert.equal(Buffer.concat([a, b.subarray(0, 2)]).toString(), '0123456789');
    const boundary = await countReadv(() => file.readv!(0, [Buffer.alloc(10), Buffer.alloc(8)]));
    assert.deepEqual([boundary.value, boundary.calls], [10, 2]);
    const past = await countReadv(() => file.readv!(10, [Buffer.alloc(8)]));
    assert.deepEqual([past.value, past.calls], [0, 1]);
    await file.close();
  });
});
