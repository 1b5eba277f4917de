import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as C, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNC_IO_MAX_BYTES, SyncWhileFast } from '../../src/server/fs/sync-while-fast.js';
import { DEFAULT_BATCH_BOUNDS } from '../../src/server/io-batch.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-while-fast-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Spin for `ms` milliseconds: a synchronous call that is too slow. */
function spin(ms: number): number {
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
  return 0;
}

describe('SyncWhileFast', () => {
  it(
    'allows small calls on a regular file, never more than SYNC_IO_MAX_BYTES',
    withDir((dir) => {
      writeFileSync(join(dir, 'f'), 'abc');
      const fd = openSync(join(dir, 'f'), 'r');
      try {
        const d = new SyncWhileFast({ fd, closed: false });
        assert.equal(d.allows(1), true);
        assert.equal(d.allows(SYNC_IO_MAX_BYTES), true);
        assert.equal(d.allows(SYNC_IO_MAX_BYTES + 1), false);
      } finally {
        closeSync(fd);
      }
    }),
  );

  it('a whole batch of READs or WRITEs is within SYNC_IO_MAX_BYTES', () => {
    assert.ok(SYNC_IO_MAX_BYTES >= DEFAULT_BATCH_BOUNDS.maxBytes);
  });

  it(
    'never allows a synchronous call on a FIFO (its other end could hold the event loop)',
    withDir((dir) => {
      const fifo = join(dir, 'fifo');
      execFileSync('mkfifo', [fifo]);
      const fd = openSync(fifo, C.O_RDWR | C.O_NONBLOCK);
      try {
        const d = new SyncWhileFast({ fd, closed: false });
        assert.equal(d.allows(1), false);
        assert.equal(d.allows(1), false);
      } finally {
        closeSync(fd);
      }
    }),
  );

  it(
    'sends the calls after a slow one to the thread pool, 1, 2, 4 ... while they stay slow, and returns after a fast one',
    withDir((dir) => {
      writeFileSync(join(dir, 'f'), 'abc');
      const fd = openSync(join(dir, 'f'), 'r');
      try {
        const d = new SyncWhileFast({ fd, closed: false }, 3);
        /** How many calls in a row are refused now. */
        const refusedRun = (): number => {
          let n = 0;
          while (!d.allows(1)) n++;
          return n;
        };
        assert.equal(refusedRun(), 0);
        d.run(() => spin(20));
        assert.equal(refusedRun(), 1);
        d.run(() => spin(20));
        assert.equal(refusedRun(), 2);
        d.run(() => spin(20));
        assert.equal(refusedRun(), 4);
        d.run(() => 0); // fast again: the next slow one costs a single call only
        d.run(() => spin(20));
        assert.equal(refusedRun(), 1);
        // an error is thrown through, and a slow failing call counts like any other
        assert.throws(
          () =>
            d.run(() => {
              spin(20);
              throw new Error('boom');
            }),
          /boom/,
        );
        assert.equal(refusedRun(), 2);
      } finally {
        closeSync(fd);
      }
    }),
  );
  it(
    'never calls a closed file synchronously: allows() is false and run() is EBADF without touching the descriptor',
    withDir((dir) => {
      writeFileSync(join(dir, 'f'), 'abc');
      const fd = openSync(join(dir, 'f'), 'r');
      try {
        const file = { fd, closed: false };
        const d = new SyncWhileFast(file);
        assert.equal(d.allows(1), true);
        file.closed = true;
        assert.equal(d.allows(1), false);
        let touched = false;
        assert.throws(
          () =>
            d.run(() => {
              touched = true;
              return 0;
            }),
          (err: NodeJS.ErrnoException) => err.code === 'EBADF',
        );
        assert.equal(touched, false);
      } finally {
        closeSync(fd);
      }
    }),
  );
});

describe('LocalFs files with small synchronous calls', () => {
  it(
    'read, write, readv and writev give the same bytes whether small (synchronous) or large (thread pool)',
    withDir(async (dir) => {
      const fs = new LocalFs(dir);
      const f = await fs.open('/f', {
        read: true,
        write: true,
        create: true,
        truncate: true,
        append: false,
        exclusive: false,
      });
      try {
        const big = Buffer.alloc(SYNC_IO_MAX_BYTES * 2 + 3);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
        await f.write(0, big.subarray(0, 10)); // small: synchronous
        await f.write(10, big.subarray(10, SYNC_IO_MAX_BYTES + 20)); // large: thread pool
        await f.writev!(SYNC_IO_MAX_BYTES + 20, [big.subarray(SYNC_IO_MAX_BYTES + 20, SYNC_IO_MAX_BYTES + 30)]);
        await f.writev!(SYNC_IO_MAX_BYTES + 30, [big.subarray(SYNC_IO_MAX_BYTES + 30)]);
        assert.deepEqual(await f.read(0, big.length + 100), big);
        assert.deepEqual(await f.read(5, 7), big.subarray(5, 12));
        const a = Buffer.alloc(4);
        const b = Buffer.alloc(SYNC_IO_MAX_BYTES + 1);
        assert.equal(await f.readv!(1, [a]), 4);
        assert.deepEqual(a, big.subarray(1, 5));
        assert.equal(await f.readv!(2, [a, b]), 4 + b.length);
        assert.deepEqual(Buffer.concat([a, b]), big.subarray(2, 2 + 4 + b.length));
        // past the end: a short count
        assert.equal(await f.readv!(big.length - 2, [a]), 2);
        assert.equal(await f.readv!(big.length, [a]), 0);
      } finally {
        await f.close();
      }
      // after close every call fails with an error, synchronous or not
      await assert.rejects(f.read(0, 1));
      await assert.rejects(f.write(0, Buffer.from('x')));
    }),
  );
});
