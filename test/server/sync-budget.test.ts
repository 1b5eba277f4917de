import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SyncBudget } from '../../src/server/fs/sync-budget.js';

/** A call that began this many milliseconds ago. */
const ago = (ms: number): number => performance.now() - ms;
const BUDGET = 50;
const SLOW = 10 * BUDGET;

describe('SyncBudget', () => {
  it('after a slow call the next 1, 2, 4 ... 64 calls go to the thread pool; a fast one resets the run', () => {
    const b = new SyncBudget(BUDGET);
    const poolRun = (): number => {
      let n = 0;
      while (!b.take()) n++;
      return n;
    };
    assert.equal(b.take(), true);
    const runs: number[] = [];
    for (let i = 0; i < 9; i++) {
      b.done(ago(SLOW));
      runs.push(poolRun());
    }
    assert.deepEqual(runs, [1, 2, 4, 8, 16, 32, 64, 64, 64]);
    b.done(ago(0)); // fast: the next slow call sends only one call away
    b.done(ago(SLOW));
    assert.equal(poolRun(), 1);
  });

  it('a budget of 0 sends every call to the thread pool', () => {
    const b = new SyncBudget(0);
    for (let i = 0; i < 100; i++) assert.equal(b.take(), false);
  });

  it('for any run of fast and slow calls, no more than 64 calls in a row go to the pool', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (slow) => {
        const b = new SyncBudget(BUDGET);
        let inRow = 0;
        for (const s of slow) {
          if (b.take()) {
            inRow = 0;
            b.done(ago(s ? SLOW : 0));
          } else assert.ok(++inRow <= 64);
        }
      }),
    );
  });
});
