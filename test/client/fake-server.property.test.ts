// fast-check: a scripted server that answers in ANY order, returns short reads and splits its bytes
// anywhere. Whatever it does, the client's results equal a model's, every request is answered exactly
// once, and uploads arrive as WRITEs in ascending offset order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T, StatusCode, encodePacketToBuffer, type Packet } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { FakeServer, prng, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

type Op =
  | { k: 'stat'; file: number }
  | { k: 'read'; file: number; offset: number; length: number }
  | { k: 'readFile'; file: number }
  | { k: 'list'; dir: number }
  | { k: 'writeFile'; name: number; data: Uint8Array }
  | { k: 'realpath'; dir: number };

interface World {
  files: Uint8Array[];
  dirs: number[]; // entry count of each directory
}

const NO_SUCH = 99; // file index past the end: a missing file

/** A server over the model `world`, misbehaving (within the protocol) as `seed` dictates. */
function scriptedServer(server: FakeServer, world: World, seed: number) {
  const rnd = prng(seed);
  const files = new Map<string, Buffer>(world.files.map((d, i) => [`/f${i}`, Buffer.from(d)]));
  const uploads = new Map<string, Buffer>();
  const handles = new Map<string, { path: string; dirPos?: number }>();
  const pending: Request[] = [];
  const seenIds = new Set<number>();
  const stats = { answered: 0, duplicates: 0, writesOutOfOrder: 0 };
  let nextHandle = 0;
  let scheduled = false;
  const status = (id: number, code: number): Packet => ({ type: T.STATUS, id, code, message: '', lang: '' });

  function answer(r: Request): Packet {
    switch (r.type) {
      case T.OPEN: {
        const isWrite = (r.pflags & 0x02) !== 0;
        if (!isWrite && !files.has(r.path)) return status(r.id, StatusCode.NO_SUCH_FILE);
        if (isWrite) uploads.set(r.path, Buffer.alloc(0));
        const h = `h${nextHandle++}`;
        handles.set(h, { path: r.path });
        return { type: T.HANDLE, id: r.id, handle: Buffer.from(h) };
      }
      case T.OPENDIR: {
        const m = /^\/d(\d+)$/.exec(r.path);
        if (!m || Number(m[1]) >= world.dirs.length) return status(r.id, StatusCode.NO_SUCH_FILE);
        const h = `h${nextHandle++}`;
        handles.set(h, { path: r.path, dirPos: 0 });
        return { type: T.HANDLE, id: r.id, handle: Buffer.from(h) };
      }
      case T.CLOSE:
        handles.delete(r.handle.toString());
        return status(r.id, StatusCode.OK);
      case T.READ: {
        const h = handles.get(r.handle.toString());
        const data = h && files.get(h.path);
        if (!data) return status(r.id, StatusCode.FAILURE);
        if (r.offset >= data.length) return status(r.id, StatusCode.EOF);
        let n = Math.min(r.length, data.length - r.offset);
        if (rnd() < 0.3) n = 1 + Math.floor(rnd() * n); // a short read
        return { type: T.DATA, id: r.id, data: data.subarray(r.offset, r.offset + n) };
      }
      case T.WRITE: {
        const h = handles.get(r.handle.toString());
        if (!h) return status(r.id, StatusCode.FAILURE);
        const cur = uploads.get(h.path)!;
        const next = Buffer.alloc(Math.max(cur.length, r.offset + r.data.length));
        cur.copy(next);
        r.data.copy(next, r.offset);
        uploads.set(h.path, next);
        return status(r.id, StatusCode.OK);
      }
      case T.STAT:
      case T.LSTAT: {
        const data = files.get(r.path);
        return data
          ? { type: T.ATTRS, id: r.id, attrs: { size: data.length, permissions: 0o100644 } }
          : status(r.id, StatusCode.NO_SUCH_FILE);
      }
      case T.FSTAT: {
        const h = handles.get(r.handle.toString());
        const data = h && files.get(h.path);
        return data ? { type: T.ATTRS, id: r.id, attrs: { size: data.length } } : status(r.id, StatusCode.FAILURE);
      }
      case T.READDIR: {
        const h = handles.get(r.handle.toString());
        if (!h || h.dirPos === undefined) return status(r.id, StatusCode.FAILURE);
        const total = world.dirs[Number(h.path.slice(2))]!;
        if (h.dirPos >= total) return status(r.id, StatusCode.EOF);
        const n = Math.min(total - h.dirPos, 1 + Math.floor(rnd() * 5));
        const entries = Array.from({ length: n }, (_, i) => ({
          filename: `e${h.dirPos! + i}`,
          longname: `-rw-r--r-- e${h.dirPos! + i}`,
          attrs: { size: h.dirPos! + i },
        }));
        h.dirPos += n;
        return { type: T.NAME, id: r.id, entries };
      }
      case T.REALPATH:
        return { type: T.NAME, id: r.id, entries: [{ filename: `/real${r.path}`, longname: '', attrs: {} }] };
      default:
        return status(r.id, StatusCode.OP_UNSUPPORTED);
    }
  }

  function pump() {
    scheduled = false;
    if (pending.length === 0) return;
    // Answer a random number of the pending requests, in a random order.
    for (let i = pending.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [pending[i], pending[j]] = [pending[j]!, pending[i]!];
    }
    const take = 1 + Math.floor(rnd() * pending.length);
    const bytes = Buffer.concat(
      pending.splice(0, take).map((r) => {
        seenIds.delete(r.id);
        stats.answered++;
        return encodePacketToBuffer(answer(r));
      }),
    );
    // Split the bytes anywhere.
    let pos = 0;
    while (pos < bytes.length) {
      const n = rnd() < 0.2 ? 1 : 1 + Math.floor(rnd() * Math.min(bytes.length - pos, 300));
      server.sendRaw(bytes.subarray(pos, pos + n));
      pos += n;
    }
    schedule();
  }
  function schedule() {
    if (!scheduled && pending.length > 0) {
      scheduled = true;
      // wait a random number of ticks so more requests can pile up
      let ticks = Math.floor(rnd() * 4);
      const later = () => (ticks-- > 0 ? setImmediate(later) : pump());
      setImmediate(later);
    }
  }
  const lastWriteArrived = new Map<string, number>();
  server.onRequest = (r) => {
    if (r.type === T.WRITE) {
      // WRITEs of one handle must ARRIVE in ascending offset order (the server may process them in any order)
      const key = r.handle.toString();
      if ((lastWriteArrived.get(key) ?? -1) >= r.offset) stats.writesOutOfOrder++;
      lastWriteArrived.set(key, r.offset);
    }
    if (seenIds.has(r.id)) stats.duplicates++;
    seenIds.add(r.id);
    pending.push(r);
    schedule();
  };
  return { stats, uploads, openHandles: () => handles.size };
}

const opArb = (world: World): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      k: fc.constant('stat' as const),
      file: fc.oneof(fc.nat(world.files.length - 1), fc.constant(NO_SUCH)),
    }),
    fc.record({
      k: fc.constant('read' as const),
      file: fc.nat(world.files.length - 1),
      offset: fc.nat(300),
      length: fc.integer({ min: 1, max: 200 }),
    }),
    fc.record({
      k: fc.constant('readFile' as const),
      file: fc.oneof(fc.nat(world.files.length - 1), fc.constant(NO_SUCH)),
    }),
    fc.record({ k: fc.constant('list' as const), dir: fc.nat(world.dirs.length) }),
    fc.record({ k: fc.constant('writeFile' as const), name: fc.nat(3), data: fc.uint8Array({ maxLength: 400 }) }),
    fc.record({ k: fc.constant('realpath' as const), dir: fc.nat(5) }),
  );

const worldArb: fc.Arbitrary<World> = fc.record({
  files: fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 4 }),
  dirs: fc.array(fc.nat(40), { minLength: 1, maxLength: 3 }),
});

test('any reply order, short reads and byte splits: results equal the model, nothing lost or doubled', async () => {
  await fc.assert(
    fc.asyncProperty(
      worldArb.chain((world) =>
        fc.record({
          world: fc.constant(world),
          ops: fc.array(opArb(world), { minLength: 1, maxLength: 12 }),
          seed: fc.integer(),
          chunkSize: fc.integer({ min: 1, max: 128 }),
          requests: fc.integer({ min: 1, max: 8 }),
          maxRequests: fc.integer({ min: 1, max: 64 }),
        }),
      ),
      async ({ world, ops, seed, chunkSize, requests, maxRequests }) => {
        const [a, b] = memoryPair(512);
        const server = new FakeServer(b);
        const script = scriptedServer(server, world, seed);
        const client = await SftpClient.fromStream(a, { chunkSize, requests, maxRequests });
        // Every op starts at once: their requests interleave on the wire.
        const results = await Promise.allSettled(
          ops.map(async (op): Promise<unknown> => {
            switch (op.k) {
              case 'stat':
                return (await client.stat(`/f${op.file}`)).size;
              case 'read': {
                const h = await client.open(`/f${op.file}`, 'r');
                try {
                  return await client.read(h, op.offset, op.length);
                } finally {
                  await client.close(h);
                }
              }
              case 'readFile':
                return client.readFile(`/f${op.file}`);
              case 'list':
                return (await client.list(`/d${op.dir}`)).map((e) => e.filename);
              case 'writeFile':
                return (await client.writeFile(`/up${op.name}-${ops.indexOf(op)}`, Buffer.from(op.data))).bytes;
              case 'realpath':
                return client.realpath(`/x${op.dir}`);
            }
          }),
        );
        assert.equal(results.length, ops.length);
        ops.forEach((op, i) => {
          const r = results[i]!;
          const file = 'file' in op ? world.files[op.file] : undefined;
          const code = r.status === 'rejected' ? (r.reason as { code?: string }).code : undefined;
          switch (op.k) {
            case 'stat':
              if (file) assert.equal(r.status === 'fulfilled' && r.value, file.length);
              else assert.equal(code, 'ENOENT');
              break;
            case 'read': {
              assert.equal(r.status, 'fulfilled', String(r.status === 'rejected' && r.reason));
              const got = (r as PromiseFulfilledResult<Buffer>).value;
              const want = Buffer.from(file!).subarray(op.offset, op.offset + op.length);
              // one READ may be short, never wrong: a non-empty prefix, or empty exactly at EOF
              assert.ok(want.subarray(0, got.length).equals(got));
              assert.equal(got.length === 0, want.length === 0);
              break;
            }
            case 'readFile':
              if (file)
                assert.ok(
                  r.status === 'fulfilled' && (r.value as Buffer).equals(Buffer.from(file)),
                  String(r.status === 'rejected' && r.reason),
                );
              else assert.equal(code, 'ENOENT');
              break;
            case 'list':
              if (op.dir < world.dirs.length) {
                assert.equal(r.status, 'fulfilled');
                const names = (r as PromiseFulfilledResult<string[]>).value;
                assert.deepEqual(
                  [...names].sort(),
                  Array.from({ length: world.dirs[op.dir]! }, (_, j) => `e${j}`).sort(),
                );
              } else assert.equal(code, 'ENOENT');
              break;
            case 'writeFile': {
              assert.equal(r.status === 'fulfilled' && r.value, op.data.length);
              assert.ok(script.uploads.get(`/up${op.name}-${i}`)!.equals(Buffer.from(op.data)));
              break;
            }
            case 'realpath':
              assert.equal(r.status === 'fulfilled' && r.value, `/real/x${op.dir}`);
              break;
          }
        });
        await client.end();
        assert.equal(script.stats.duplicates, 0, 'an id was reused while in flight');
        assert.equal(script.stats.answered, server.received.length, 'a request was left unanswered');
        assert.equal(script.stats.writesOutOfOrder, 0, 'WRITEs went out of ascending order');
        assert.equal(script.openHandles(), 0, 'a handle was left open');
        assert.equal(client.session.inFlight, 0);
      },
    ),
    { numRuns: 300 },
  );
});
