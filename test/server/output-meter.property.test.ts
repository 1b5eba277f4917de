/**
 * The accounting under the server's bounds, for all sequences of operations: OutputMeter (what a
 * session and its connection have queued) and HandleBudget (handles open in all sessions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import fc from 'fast-check';
import { OutputMeter, WRITE_OVERHEAD, meterSocket } from '../../src/server/output-meter.js';
import { HandleBudget, HandleTable, type HandleEntry } from '../../src/server/handle-table.js';
import { StatusError } from '../../src/server/status-error.js';

type Op = { child: number; charge: boolean; n: number } | { child: number; detach: true };

test('OutputMeter: the parent counts what its children hold; never negative; blocked from the bound to half of it; detach gives everything back', () => {
  const BOUND = 1000;
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 10,
      arbitrary: fc.record({ child: fc.nat(2), charge: fc.boolean(), n: fc.integer({ min: 0, max: 600 }) }),
    },
    { weight: 1, arbitrary: fc.record({ child: fc.nat(2), detach: fc.constant(true as const) }) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const parent = new OutputMeter(BOUND);
      const children = [0, 1, 2].map(() => new OutputMeter(BOUND, parent));
      const model = [0, 0, 0];
      const detached = [false, false, false];
      let parentBlocked = false;
      let rooms = 0;
      parent.on('room', () => rooms++);
      for (const o of ops) {
        const c = children[o.child]!;
        if ('detach' in o) {
          c.detach();
          model[o.child] = 0;
          detached[o.child] = true;
        } else if (!detached[o.child]) {
          if (o.charge) {
            c.charge(o.n);
            model[o.child]! += o.n;
          } else {
            c.release(o.n);
            model[o.child] = Math.max(0, model[o.child]! - o.n);
          }
        }
        const total = model.reduce((a, b) => a + b, 0);
        children.forEach((ch, i) => assert.equal(ch.queued, detached[i] ? 0 : model[i]));
        assert.equal(parent.queued, total);
        const before = parentBlocked;
        if (total >= BOUND) parentBlocked = true;
        else if (total <= BOUND / 2) parentBlocked = false;
        assert.equal(parent.blocked, parentBlocked);
        if (before && !parentBlocked) assert.ok(rooms > 0, 'room is announced when it unblocks');
      }
    }),
  );
});

test('OutputMeter.write and meterSocket count each write at its bytes plus WRITE_OVERHEAD until the stream takes it', async () => {
  const meter = new OutputMeter(1 << 20);
  const taken: Array<() => void> = [];
  const slow = new Writable({
    highWaterMark: 1,
    write(_chunk, _enc, cb) {
      taken.push(cb);
    },
  });
  meter.write(slow, Buffer.alloc(10));
  meter.write(slow, Buffer.alloc(0));
  assert.equal(meter.queued, 10 + 2 * WRITE_OVERHEAD);
  taken.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal(meter.queued, WRITE_OVERHEAD);
  taken.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal(meter.queued, 0);

  const conn = new OutputMeter(1 << 20);
  const sock = new PassThrough({ highWaterMark: 4 });
  meterSocket(sock, conn);
  let called = 0;
  sock.write(Buffer.alloc(100), () => called++);
  sock.write('abc', 'latin1', () => called++);
  sock.write(Buffer.alloc(5));
  assert.equal(conn.queued, 108 + 3 * WRITE_OVERHEAD);
  sock.resume();
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.queued, 0);
  assert.equal(called, 2, 'the writers own callbacks still run');
  sock.pause();
  sock.write(Buffer.alloc(50));
  sock.write(Buffer.alloc(50));
  assert.ok(conn.queued > 0);
  sock.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.queued, 0, 'a closed socket holds nothing');
});

test('OutputMeter.writeAll: every chunk written in order, all counted (bytes plus WRITE_OVERHEAD each) until the stream takes the last; then taken runs once', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 12 }), async (sizes) => {
      const meter = new OutputMeter(1 << 20);
      const pending: Array<() => void> = [];
      const seen: Buffer[] = [];
      const slow = new Writable({
        highWaterMark: 1,
        write(chunk: Buffer, _enc, cb) {
          seen.push(chunk);
          pending.push(cb);
        },
      });
      const chunks = sizes.map((n, i) => Buffer.alloc(n, i));
      let taken = 0;
      meter.writeAll(slow, chunks, () => taken++);
      const total = sizes.reduce((a, b) => a + b, 0) + sizes.length * WRITE_OVERHEAD;
      assert.equal(meter.queued, total);
      while (pending.length > 0) {
        assert.equal(taken, 0, 'not before the last chunk is taken');
        assert.equal(meter.queued, total, 'everything counted until the last chunk is taken');
        pending.shift()!();
        await new Promise((r) => setImmediate(r));
      }
      assert.deepEqual(seen, chunks);
      assert.equal(meter.queued, 0);
      assert.equal(taken, sizes.length > 0 ? 1 : 0);
    }),
    { numRuns: 100 },
  );
});

test('HandleBudget: across any tables and any adds and removes, the budget counts exactly the handles open and never passes its max', () => {
  const entry = (): HandleEntry => ({ kind: 'dir', path: '/', dir: {} as never, dotsSent: false });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 8 }),
      fc.array(fc.record({ table: fc.nat(3), kind: fc.constantFrom('add', 'take', 'drain') }), { maxLength: 150 }),
      (max, perTable, ops) => {
        const budget = new HandleBudget(max);
        const tables = [0, 1, 2, 3].map(() => new HandleTable(perTable, budget));
        const open: Buffer[][] = [[], [], [], []];
        for (const o of ops) {
          const t = tables[o.table]!;
          if (o.kind === 'add') {
            const total = open.reduce((a, h) => a + h.length, 0);
            const room = open[o.table]!.length < perTable && total < max;
            try {
              open[o.table]!.push(t.add(entry()));
              assert.ok(room, 'added only with room');
            } catch (err) {
              assert.ok(!room, 'refused only without room');
              assert.ok(err instanceof StatusError && /^EMFILE: too many open files/.test(err.message), String(err));
            }
          } else if (o.kind === 'take') {
            const h = open[o.table]!.pop();
            if (h) assert.ok(t.take(h));
          } else {
            assert.equal(t.drain().length, open[o.table]!.length);
            open[o.table] = [];
          }
          const total = open.reduce((a, h) => a + h.length, 0);
          assert.equal(budget.used, total);
          assert.ok(budget.used <= max);
        }
      },
    ),
  );
});
