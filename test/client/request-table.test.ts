// The session's table of requests in flight and the read engine's table of replies by offset: each
// behaves as the Map it replaces (checked against one under random operations), and churn on a
// long-lived one allocates nothing in V8's old generation (the reason they are not Maps).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { RequestTable } from '../../src/client/core/request-table.js';
import { OffsetTable } from '../../src/client/engine/offset-table.js';

interface Req {
  id: number;
  tag: number;
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function oldSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
}

describe('RequestTable', () => {
  test('property: get/delete/size/values agree with a Map; ids given out only when free', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.array(fc.oneof(fc.constant('add' as const), fc.nat({ max: 400 })), { maxLength: 600 }),
        (first, ops) => {
          const table = new RequestTable<Req>(4);
          const model = new Map<number, Req>();
          let next = first;
          let tag = 0;
          for (const op of ops) {
            if (op === 'add') {
              const id = table.freeId(next);
              const steps = (id - next) >>> 0;
              assert.ok(steps <= 2 * (model.size + 1), 'a free id is found within the table');
              for (let skipped = next; skipped !== id; skipped = (skipped + 1) >>> 0) {
                assert.ok(
                  [...model.keys()].some((k) => ((k ^ skipped) & 3) === 0),
                  `id ${skipped} was skipped though no request in flight shares its slot`,
                );
              }
              next = (id + 1) >>> 0;
              assert.equal(model.has(id), false, 'a free id is not in flight');
              const r = { id, tag: tag++ };
              table.add(r);
              model.set(id, r);
            } else {
              // delete the op-th request in flight (or a missing id)
              const ids = [...model.keys()];
              const id = ids.length > 0 ? ids[op % ids.length]! : op;
              assert.equal(table.delete(id), model.delete(id));
              assert.equal(table.delete(id), false);
            }
            assert.equal(table.size, model.size);
          }
          for (const [id, r] of model) assert.equal(table.get(id), r);
          assert.equal(table.get((next + 7) >>> 0), model.get((next + 7) >>> 0));
          assert.deepEqual(
            table.values().sort((a, b) => a.tag - b.tag),
            [...model.values()].sort((a, b) => a.tag - b.tag),
          );
          table.clear();
          assert.equal(table.size, 0);
          assert.deepEqual(table.values(), []);
        },
      ),
    );
  });

  test('an id whose slot is taken is refused', () => {
    const table = new RequestTable<Req>(4);
    table.add({ id: 1, tag: 0 });
    assert.equal(table.freeId(5), 6, 'id 5 shares its slot with 1 in flight: skipped');
    assert.throws(() => table.add({ id: 5, tag: 1 }));
    assert.equal(table.get(5), undefined);
    assert.equal(table.delete(5), false);
    assert.equal(table.get(1)!.tag, 0);
  });
});

describe('OffsetTable', () => {
  test('property: get/has/set/delete/size agree with a Map', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'get'), fc.nat({ max: 40 })), { maxLength: 400 }),
        (ops) => {
          const table = new OffsetTable<number>();
          const model = new Map<number, number>();
          let v = 0;
          for (const [op, k] of ops) {
            const offset = k * 4096;
            if (op === 'set') {
              table.set(offset, v);
              model.set(offset, v++);
            } else if (op === 'delete') assert.equal(table.delete(offset), model.delete(offset));
            assert.equal(table.get(offset), model.get(offset));
            assert.equal(table.has(offset), model.has(offset));
            assert.equal(table.size, model.size);
          }
        },
      ),
    );
  });
});

describe('churn on long-lived tables', () => {
  test('adding and removing entries allocates nothing in the old generation (a Map does)', () => {
    const requests = new RequestTable<Req>();
    const offsets = new OffsetTable<Req>();
    const map = new Map<number, Req>();
    const r: Req = { id: 0, tag: 0 };
    const churn = (kind: 'tables' | 'map'): number => {
      gc();
      gc(); // the tables (and the Map) are old now, as they are during a long transfer
      const before = oldSpaceBytes();
      for (let i = 0; i < 20_000; i++) {
        if (kind === 'map') {
          map.set(i, r);
          if (i >= 32) map.delete(i - 32);
        } else {
          const q = { id: i, tag: 0 };
          if (requests.freeId(i) === i) requests.add(q);
          if (i >= 32) requests.delete(i - 32);
          offsets.set(i * 4096, q);
          if (i >= 4) offsets.delete((i - 4) * 4096);
        }
      }
      return oldSpaceBytes() - before;
    };
    const tables = churn('tables');
    const viaMap = churn('map');
    assert.ok(
      viaMap > 512 * 1024,
      `the Map allocated ${viaMap} bytes in the old generation (the cause this guards against)`,
    );
    assert.ok(tables < 256 * 1024, `the tables allocated ${tables} bytes in the old generation`);
  });
});
