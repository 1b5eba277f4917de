// The write-behind download sink: bytes land where they belong whatever the chunking, at most the
// bound waits unwritten, a write error surfaces on the next write or flush, and flush waits for all.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { writeBehindFileSink } from '../../src/client/engine/write-behind.js';
import type { FileHandle } from 'node:fs/promises';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sftp-wire-wb-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('write-behind file sink', () => {
  test('property: in-order chunks (with a jump) end up byte-identical after flush', async () => {
    await withDir(async (dir) => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 70_000 }), { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 200_000 }),
          fc.nat({ max: 29 }),
          async (sizes, bound, jumpAt) => {
            const path = join(dir, `f${run++}`);
            const fh = await open(path, 'w');
            const expected: Buffer[] = [];
            /** Where the last byte written ends: a hole followed only by empty chunks is never written. */
            let end = 0;
            try {
              const sink = writeBehindFileSink(fh, bound);
              let pos = 0;
              for (let i = 0; i < sizes.length; i++) {
                if (i === jumpAt && pos > 0) {
                  // a non-contiguous offset (a hole of 10 bytes): earlier bytes must be written first
                  expected.push(Buffer.alloc(10));
                  pos += 10;
                }
                const chunk = Buffer.alloc(sizes[i]!, (i * 37 + 1) & 0xff);
                expected.push(chunk);
                await sink.write(pos, chunk);
                pos += chunk.length;
                if (chunk.length > 0) end = pos;
              }
              await sink.flush!();
            } finally {
              await fh.close();
            }
            assert.ok((await readFile(path)).equals(Buffer.concat(expected).subarray(0, end)));
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  test('at most the bound waits unwritten: write() waits once more is pending', async () => {
    let inWrite = 0;
    let maxPending = 0;
    let accepted = 0;
    let written = 0;
    let release: (() => void) | undefined;
    const fh = {
      async writev(bufs: Buffer[]) {
        inWrite++;
        await new Promise<void>((r) => (release = r));
        inWrite--;
        const n = bufs.reduce((a, b) => a + b.length, 0);
        written += n;
        return { bytesWritten: n, buffers: bufs };
      },
    } as unknown as FileHandle;
    const sink = writeBehindFileSink(fh, 100);
    const writer = (async () => {
      for (let i = 0; i < 10; i++) {
        await sink.write(i * 40, Buffer.alloc(40));
        accepted += 40;
        maxPending = Math.max(maxPending, accepted - written);
      }
      await sink.flush!();
    })();
    for (let i = 0; i < 100 && written < 400; i++) {
      await new Promise((r) => setImmediate(r));
      assert.ok(inWrite <= 1, 'one writev at a time');
      release?.();
      release = undefined;
    }
    await writer;
    assert.equal(written, 400);
    assert.ok(maxPending <= 100 + 40, `pending reached ${maxPending}`);
  });

  test('a write error is reported by the next write or by flush, and nothing hangs', async () => {
    const boom = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    const fh = {
      async writev() {
        throw boom;
      },
    } as unknown as FileHandle;
    const sink = writeBehindFileSink(fh, 1 << 20);
    await sink.write(0, Buffer.alloc(10)); // accepted; the failure happens behind
    await new Promise((r) => setImmediate(r));
    await assert.rejects(sink.write(10, Buffer.alloc(10)), (e: unknown) => e === boom);
    await assert.rejects(sink.flush!(), (e: unknown) => e === boom);
  });

  test('a short writev is continued from where it stopped', async () => {
    const out = Buffer.alloc(30);
    const fh = {
      async writev(bufs: Buffer[], pos: number) {
        const first = bufs[0]!.subarray(0, Math.min(7, bufs[0]!.length)); // 7 bytes at most per call
        first.copy(out, pos);
        return { bytesWritten: first.length, buffers: bufs };
      },
    } as unknown as FileHandle;
    const sink = writeBehindFileSink(fh);
    await sink.write(0, Buffer.from('abcdefghij'));
    await sink.write(10, Buffer.from('klmnopqrst'));
    await sink.write(20, Buffer.from('uvwxyz0123'));
    await sink.flush!();
    assert.equal(out.toString(), 'abcdefghijklmnopqrstuvwxyz0123');
  });
});
