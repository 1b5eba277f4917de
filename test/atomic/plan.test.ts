import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ContiguousTracker,
  planResume,
  verifyUntilContiguous,
  compareRange,
  type RangeReader,
} from '../../src/client/file/atomic/resume-plan.js';

const reader =
  (b: Buffer): RangeReader =>
  async (off, len) =>
    b.subarray(Math.min(off, b.length), Math.min(off + len, b.length));

describe('resume plan', () => {
  it('none/0 -> fresh, P > S -> restart, P <= S -> verify a range ending at P', () => {
    fc.assert(
      fc.property(
        fc.nat(1 << 30),
        fc.nat(1 << 30),
        fc.option(fc.nat(1 << 30), { nil: undefined }),
        fc.integer({ min: 1, max: 1 << 24 }),
        fc.nat(1 << 16),
        (S, P, C, W, sample) => {
          const plan = planResume({ sourceSize: S, partialSize: P, checkpoint: C, window: W, sample });
          if (P === 0) return assert.equal(plan.kind, 'fresh');
          if (P > S) return assert.equal(plan.kind, 'restart');
          assert.equal(plan.kind, 'verify');
          if (plan.kind !== 'verify') return;
          assert.equal(plan.verifyTo, P);
          assert.ok(plan.verifyFrom >= 0 && plan.verifyFrom <= P);
          if (C !== undefined && C <= P) {
            assert.equal(plan.fromCheckpoint, true);
            assert.equal(plan.verifyFrom, Math.max(0, C - sample));
          } else {
            assert.equal(plan.fromCheckpoint, false);
            assert.equal(plan.verifyFrom, Math.max(0, P - W)); // the whole window before P is read back
          }
        },
      ),
    );
  });
});

describe('ContiguousTracker', () => {
  it('reports the end of the acknowledged prefix for acknowledgements in any order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(1000),
        fc.infiniteStream(fc.nat()),
        (count, chunk, start, rnd) => {
          const order = [...Array(count).keys()];
          const it = rnd[Symbol.iterator]();
          for (let i = order.length - 1; i > 0; i--) {
            const j = it.next().value! % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          const t = new ContiguousTracker(start);
          const acked = new Set<number>();
          for (const k of order) {
            t.ack(start + k * chunk, chunk);
            acked.add(k);
            let prefix = 0;
            while (acked.has(prefix)) prefix++;
            assert.equal(t.contiguous, start + prefix * chunk);
          }
        },
      ),
    );
  });

  it('holds a bounded number of ranges above a gap, whatever arrives; the end it reports is never past a missing byte', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(300), fc.integer({ min: 0, max: 40 })), { maxLength: 400 }),
        fc.integer({ min: 1, max: 8 }),
        (acks, cap) => {
          const t = new ContiguousTracker(0, cap);
          const have = new Uint8Array(400);
          for (const [off, len] of acks) {
            const end = t.ack(off, len);
            have.fill(1, off, off + len);
            assert.ok(t.pendingRanges <= cap, `${t.pendingRanges} ranges held, cap ${cap}`);
            let prefix = 0;
            while (have[prefix] === 1) prefix++;
            assert.ok(end <= prefix, `reported ${end}, bytes present up to ${prefix}`);
            assert.equal(end, t.contiguous);
          }
        },
      ),
    );
    // A server that never acknowledges offset 0: the ranges above it stay within the default cap.
    const t = new ContiguousTracker(0);
    for (let i = 1; i <= 20_000; i++) t.ack(i * 2, 1);
    assert.equal(t.contiguous, 0);
    assert.ok(t.pendingRanges <= 4096, `${t.pendingRanges} ranges held`);
  });
});

describe('verifyUntilContiguous', () => {
  it('finds the first difference inside the range, and extends backwards when it is at the range start', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 6000 }),
        fc.nat(6000),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 1, max: 64 }),
        async (size, holeAt, fromSeed, holeLen, window, sample) => {
          const src = Buffer.alloc(size);
          for (let i = 0; i < size; i++) src[i] = 1 + (i % 251);
          const part = Buffer.from(src);
          const h = Math.min(holeAt, size);
          part.fill(0, h, Math.min(size, h + holeLen));
          const from = Math.max(0, size - window, Math.min(fromSeed, size));
          const R = await verifyUntilContiguous(reader(src), reader(part), { from, to: size, chunk: 97, sample });
          const actual = h < size ? h : size;
          // Never past a difference that lies inside what was compared, and every byte before R that
          // was compared matches.
          assert.ok(R <= size);
          if (actual >= from) assert.equal(R, actual);
          assert.equal(await compareRange(reader(src), reader(part), Math.min(R, from), R, 50), R);
          // A difference right at the start of the compared range pushes the check back until matching
          // bytes come first (or the start of the file): R is then the real first difference if the
          // hole touches the compared range.
          if (h < size && Math.min(size, h + holeLen) > from && h < from) assert.equal(R, h);
        },
      ),
      { numRuns: 300 },
    );
  });
});
