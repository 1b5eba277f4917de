/**
 * OrderedQueues as a property: for any mix of keyed tasks and barriers, a barrier starts after every
 * task submitted before it has ended and every task submitted after it starts after it ended; tasks
 * sharing a key run one at a time in submission order; and tasks on different keys with no barrier
 * between them do run at the same time (the concurrency that handle I/O keeps).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setImmediate as tick } from 'node:timers/promises';
import { OrderedQueues } from '../../src/server/ordered-queues.js';

type Spec = { alone: true; ticks: number } | { alone: false; keys: string[]; ticks: number };

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ alone: fc.constant(true as const), ticks: fc.nat(3) }),
  fc.record({
    alone: fc.constant(false as const),
    keys: fc.uniqueArray(fc.constantFrom('h1', 'h2', 'h3'), { minLength: 1, maxLength: 2 }),
    ticks: fc.nat(3),
  }),
);

async function runAll(specs: Spec[]): Promise<{ start: number[]; end: number[] }> {
  const q = new OrderedQueues();
  let clock = 0;
  const start: number[] = [];
  const end: number[] = [];
  const all = specs.map((s, i) => {
    const task = async (): Promise<void> => {
      start[i] = clock++;
      for (let t = 0; t < s.ticks; t++) await tick();
      end[i] = clock++;
    };
    return s.alone ? q.runAlone(task) : q.run(s.keys, task);
  });
  await Promise.all(all);
  assert.equal(q.size, 0);
  return { start, end };
}

describe('OrderedQueues', () => {
  it('barriers order against everything, keys against their own', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 1, maxLength: 20 }), async (specs) => {
        const { start, end } = await runAll(specs);
        for (let j = 0; j < specs.length; j++) {
          for (let i = 0; i < j; i++) {
            const a = specs[i]!;
            const b = specs[j]!;
            const shareKey = !a.alone && !b.alone && a.keys.some((k) => b.keys.includes(k));
            if (a.alone || b.alone || shareKey) assert.ok(end[i]! < start[j]!, `task ${i} must end before ${j} starts`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('different handles between two barriers run at the same time', async () => {
    const specs: Spec[] = [
      { alone: true, ticks: 1 },
      { alone: false, keys: ['h1'], ticks: 3 },
      { alone: false, keys: ['h2'], ticks: 3 },
      { alone: true, ticks: 0 },
    ];
    const { start, end } = await runAll(specs);
    assert.ok(start[2]! < end[1]!, 'h2 started while h1 was running');
    assert.ok(end[1]! < start[3]! && end[2]! < start[3]!);
  });
});
