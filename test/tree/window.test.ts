import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Window as TreeWindow } from '../../src/client/core/window.js';
import { DirQueue, TreeDir } from '../../src/client/tree/dirs.js';
import { childRel, isPlainName, remoteJoin } from '../../src/client/tree/names.js';

test('TreeWindow: takes at once while there is room, then queues in FIFO order', async () => {
  const w = new TreeWindow(2, 100);
  assert.equal(w.acquire(10), undefined);
  assert.equal(w.acquire(10), undefined);
  const order: number[] = [];
  const a = w.acquire(1)!.then(() => order.push(1));
  const b = w.acquire(1)!.then(() => order.push(2));
  assert.equal(w.waiting, 2);
  w.release(10);
  w.release(10);
  await Promise.all([a, b]);
  assert.deepEqual(order, [1, 2]);
  assert.equal(w.inUse, 2);
});

test('TreeWindow: a taker never jumps the queue, even when its cost would fit', async () => {
  const w = new TreeWindow(10, 100);
  assert.equal(w.acquire(90), undefined);
  const big = w.acquire(50)!;
  assert.ok(big instanceof Promise, 'over the byte cap: waits');
  const small = w.acquire(1);
  assert.ok(small instanceof Promise, 'fits, but someone is waiting ahead of it');
  w.release(90);
  await big;
  await small;
  assert.equal(w.bytesInUse, 51);
});

test('TreeWindow: urgent takers (requests on open handles) go before ordinary ones, FIFO among themselves', async () => {
  const w = new TreeWindow(1);
  w.acquire();
  const order: string[] = [];
  const open1 = w.acquire(0)!.then(() => order.push('open1'));
  const write1 = w.acquire(0, true)!.then(() => order.push('write1'));
  const close1 = w.acquire(0, true)!.then(() => order.push('close1'));
  for (let i = 0; i < 3; i++) {
    w.release();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all([open1, write1, close1]);
  assert.deepEqual(order, ['write1', 'close1', 'open1']);
});

test('TreeWindow: one taker always goes when nothing is held, whatever its cost', () => {
  const w = new TreeWindow(4, 10);
  assert.equal(w.acquire(1000), undefined);
  assert.ok(w.acquire(1) instanceof Promise);
});

test('TreeWindow: fail rejects the waiting and every later taker', async () => {
  const w = new TreeWindow(1);
  w.acquire();
  const waiting = w.acquire()!;
  const boom = new Error('stop');
  w.fail(boom);
  await assert.rejects(waiting, boom);
  await assert.rejects(w.acquire()!, boom);
});

test('TreeWindow: property — held slots and bytes never exceed the caps; every taker is served, FIFO within its class', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 64 }),
      fc.array(fc.record({ cost: fc.integer({ min: 0, max: 80 }), urgent: fc.boolean() }), {
        minLength: 1,
        maxLength: 60,
      }),
      async (maxCount, maxBytes, takers) => {
        const costs = takers.map((t) => t.cost);
        const w = new TreeWindow(maxCount, maxBytes);
        const served: number[] = [];
        const held: Array<{ i: number; cost: number }> = [];
        const check = () => {
          assert.ok(w.inUse <= maxCount);
          assert.ok(w.inUse <= 1 || w.bytesInUse <= maxBytes);
        };
        const waits: Promise<void>[] = takers.map(({ cost, urgent }, i) => {
          const p = w.acquire(cost, urgent);
          const got = () => {
            served.push(i);
            held.push({ i, cost });
            check();
          };
          if (!p) {
            got();
            return Promise.resolve();
          }
          return p.then(got);
        });
        // Release the oldest held slot until everyone was served.
        while (served.length < costs.length) {
          await new Promise((r) => setImmediate(r));
          const h = held.shift();
          if (h) w.release(h.cost);
        }
        await Promise.all(waits);
        // FIFO within each class.
        for (const cls of [true, false]) {
          const mine = served.filter((i) => takers[i]!.urgent === cls);
          assert.deepEqual(
            mine,
            [...mine].sort((a, b) => a - b),
          );
        }
        assert.equal(new Set(served).size, takers.length);
      },
    ),
    { numRuns: 100 },
  );
});

test('TreeDir: completes once the listing and every child are done, and finds loops through ancestors', () => {
  const done: string[] = [];
  const root = new TreeDir(undefined, '', '/a', '/b', {}, (d) => done.push(d.rel), 'id-root');
  const sub = new TreeDir(root, 'x', '/a/x', '/b/x', {}, (d) => done.push(d.rel), 'id-x');
  root.hold(); // the child directory
  root.hold(); // a file
  root.release(); // root's listing ends
  assert.deepEqual(done, []);
  root.release(); // the file
  sub.release(); // sub's listing ends -> sub completes
  assert.deepEqual(done, ['x']);
  root.release(); // (the caller releases the parent after sub's completion work)
  assert.deepEqual(done, ['x', '']);
  assert.equal(sub.isLoop('id-root'), true);
  assert.equal(sub.isLoop('id-x'), true);
  assert.equal(root.isLoop('id-x'), false);
});

test('DirQueue: hands out directories to several listers and ends when none is busy and none is queued', async () => {
  const q = new DirQueue();
  const mk = (rel: string) => new TreeDir(undefined, rel, rel, rel, {}, () => {});
  q.push(mk('a'));
  const first = await q.next();
  assert.equal(first?.rel, 'a');
  const waiting = q.next(); // nothing queued, one lister busy: waits
  q.push(mk('b'));
  assert.equal((await waiting)?.rel, 'b');
  q.done(); // 'a' finished
  const third = q.next();
  q.done(); // 'b' finished: nothing more can come
  assert.equal(await third, undefined);
  assert.equal(await q.next(), undefined);
});

test('names: a listed name must be one plain entry; relative and remote joins', () => {
  for (const bad of ['', '.', '..', 'a/b', '../x', 'nul\0byte', '/abs'])
    assert.equal(isPlainName(bad), false, JSON.stringify(bad));
  for (const good of ['a', '...', 'with space', 'new\nline', 'quote"\'', 'ünïcødé', '-rf'])
    assert.equal(isPlainName(good), true, JSON.stringify(good));
  assert.equal(childRel('', 'a'), 'a');
  assert.equal(childRel('a', 'b'), 'a/b');
  assert.equal(remoteJoin('/', 'a'), '/a');
  assert.equal(remoteJoin('/x', 'a'), '/x/a');
  assert.equal(remoteJoin('/x/', 'a'), '/x/a');
  assert.equal(remoteJoin('', 'a'), 'a');
});
