// Batching of one handle's queued READs and WRITEs into vectored calls: the replies, their order and
// the file's bytes are exactly those of one-at-a-time execution; only the number of calls changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import type { FileSystem, FsFile, OpenOptions } from '../../src/server/fs/file-system.js';
import { fsError } from '../../src/server/fs/fs-error.js';
import { IoBatch } from '../../src/server/io-batch.js';
import { RawClient, type RequestBody } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

interface Calls {
  write: number;
  read: number;
  /** Buffer counts of each writev/readv call. */
  writev: number[];
  readv: number[];
}

interface Behaviour {
  /** Leave out writev/readv (a FileSystem without vectored I/O). */
  noVectored?: boolean;
  /** writev always fails, and so does a plain write that reaches this offset. */
  failFrom?: number;
}

/** LocalFs with its files' calls counted (and optionally failing). */
function countingFs(root: string, calls: Calls, how: Behaviour = {}): FileSystem {
  const inner = new LocalFs(root);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'open') return Reflect.get(target, prop, receiver);
      return async (p: string, opts: OpenOptions): Promise<FsFile> => {
        const f = await target.open(p, opts);
        const file: FsFile = {
          read: (pos, len) => (calls.read++, f.read(pos, len)),
          write: (pos, data) => {
            calls.write++;
            if (how.failFrom !== undefined && pos + data.length > how.failFrom) return Promise.reject(fsError('EIO'));
            return f.write(pos, data);
          },
          stat: () => f.stat(),
          setstat: (a) => f.setstat(a),
          sync: () => f.sync(),
          close: () => f.close(),
        };
        if (!how.noVectored) {
          file.writev = (pos, bufs) => {
            calls.writev.push(bufs.length);
            if (how.failFrom !== undefined) return Promise.reject(fsError('EIO'));
            return f.writev!(pos, bufs);
          };
          file.readv = (pos, bufs) => (calls.readv.push(bufs.length), f.readv!(pos, bufs));
        }
        return file;
      };
    },
  });
}

/**
 * An in-process stream pair: what the client writes while corked reaches the server as one chunk,
 * so a run of requests is received together, as from a client that pipelines them.
 */
function streamPair(): { client: Duplex; server: Duplex } {
  let server!: Duplex;
  const deliver = (to: () => Duplex, chunks: Buffer[]): void => {
    const b = Buffer.concat(chunks);
    setImmediate(() => to().push(b));
  };
  const client = new Duplex({
    read() {},
    writev(chunks, cb) {
      deliver(
        () => server,
        chunks.map((c) => c.chunk as Buffer),
      );
      cb();
    },
    write(chunk: Buffer, _e, cb) {
      deliver(() => server, [chunk]);
      cb();
    },
    final(cb) {
      setImmediate(() => server.push(null));
      cb();
    },
  });
  server = new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) {
      deliver(() => client, [chunk]);
      cb();
    },
    final(cb) {
      setImmediate(() => client.push(null));
      cb();
    },
  });
  return { client, server };
}

async function session(fs: FileSystem, opts: { atomicUploads?: 'off' | 'atomic' | 'atomic-resume' } = {}) {
  const { client: c, server: s } = streamPair();
  const served = new SftpServer({ fs, ...opts }).serve(s);
  const client = new RawClient(c);
  await client.init();
  return {
    client,
    /** Send all of these at once; replies in arrival order. */
    async pipeline(bodies: RequestBody[]): Promise<Packet[]> {
      c.cork();
      const replies = bodies.map((b) => client.request(b));
      c.uncork();
      return Promise.all(replies);
    },
    async end() {
      client.end();
      await served;
    },
  };
}

const newCalls = (): Calls => ({ write: 0, read: 0, writev: [], readv: [] });
const status = (p: Packet): number => (p.type === T.STATUS ? p.code : -1);
const RW_CREATE = OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;

test('pipelined contiguous WRITEs go out as one writev, answered OK in order', async () => {
  const t = tempDir();
  try {
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls));
    const h = await s.client.open('/f', RW_CREATE);
    const data = Buffer.alloc(20 * 1000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    const first = s.client.arrivals.length;
    const replies = await s.pipeline(
      Array.from({ length: 20 }, (_, i) => ({
        type: T.WRITE,
        handle: h,
        offset: i * 1000,
        data: data.subarray(i * 1000, (i + 1) * 1000),
      })),
    );
    assert.deepEqual(replies.map(status), Array(20).fill(StatusCode.OK));
    const ids = s.client.arrivals.slice(first);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'replies in request order',
    );
    assert.deepEqual(calls.writev, [20]);
    assert.equal(calls.write, 0);
    await s.client.ok({ type: T.CLOSE, handle: h });
    await s.end();
    assert.deepEqual(readFileSync(path.join(t.dir, 'f')), data);
  } finally {
    t.cleanup();
  }
});

test('pipelined READs across the end of file: full DATA, one short DATA, then EOF, from one readv', async () => {
  const t = tempDir();
  try {
    const content = Buffer.alloc(100_000);
    for (let i = 0; i < content.length; i++) content[i] = (i * 13) & 0xff;
    writeFileSync(path.join(t.dir, 'f'), content);
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls));
    const h = await s.client.open('/f', OpenFlags.READ);
    const replies = await s.pipeline(
      Array.from({ length: 6 }, (_, i) => ({ type: T.READ, handle: h, offset: i * 32768, length: 32768 })),
    );
    assert.deepEqual(calls.readv, [6]);
    const kinds = replies.map((p) => (p.type === T.DATA ? p.data.length : `status ${status(p)}`));
    assert.deepEqual(kinds, [
      32768,
      32768,
      32768,
      100_000 - 3 * 32768,
      `status ${StatusCode.EOF}`,
      `status ${StatusCode.EOF}`,
    ]);
    const got = Buffer.concat(replies.flatMap((p) => (p.type === T.DATA ? [p.data] : [])));
    assert.deepEqual(got, content);
    await s.end();
  } finally {
    t.cleanup();
  }
});

test('a READ between WRITEs on the same handle sees the writes before it and none after', async () => {
  const t = tempDir();
  try {
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls));
    const h = await s.client.open('/f', RW_CREATE);
    const a = Buffer.alloc(4000, 0x61);
    const b = Buffer.alloc(4000, 0x62);
    const replies = await s.pipeline([
      { type: T.WRITE, handle: h, offset: 0, data: a.subarray(0, 2000) },
      { type: T.WRITE, handle: h, offset: 2000, data: a.subarray(2000) },
      { type: T.READ, handle: h, offset: 0, length: 8000 },
      { type: T.WRITE, handle: h, offset: 4000, data: b.subarray(0, 2000) },
      { type: T.WRITE, handle: h, offset: 6000, data: b.subarray(2000) },
      { type: T.READ, handle: h, offset: 0, length: 8000 },
    ]);
    assert.equal(replies[2]!.type, T.DATA);
    assert.deepEqual(replies[2]!.type === T.DATA && replies[2]!.data, a);
    assert.deepEqual(replies[5]!.type === T.DATA && replies[5]!.data, Buffer.concat([a, b]));
    assert.deepEqual(calls.writev, [2, 2]);
    await s.end();
  } finally {
    t.cleanup();
  }
});

test('without vectored I/O the same requests run one by one, with the same replies', async () => {
  const t = tempDir();
  try {
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls, { noVectored: true }));
    const h = await s.client.open('/f', RW_CREATE);
    const replies = await s.pipeline([
      ...Array.from({ length: 5 }, (_, i) => ({
        type: T.WRITE,
        handle: h,
        offset: i * 10,
        data: Buffer.alloc(10, 0x30 + i),
      })),
      ...Array.from({ length: 3 }, (_, i) => ({ type: T.READ, handle: h, offset: i * 20, length: 20 })),
    ]);
    assert.deepEqual(replies.slice(0, 5).map(status), Array(5).fill(StatusCode.OK));
    assert.equal(calls.write, 5);
    assert.equal(calls.read, 3);
    assert.deepEqual(
      replies.slice(5).map((p) => (p.type === T.DATA ? p.data.toString() : status(p))),
      ['00000000001111111111', '22222222223333333333', '4444444444'],
    );
    await s.end();
  } finally {
    t.cleanup();
  }
});

test('a failing writev falls back to single writes: OK up to the failure, then the error, as without batching', async () => {
  const t = tempDir();
  try {
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls, { failFrom: 3000 }), { atomicUploads: 'atomic' });
    const h = await s.client.open('/f', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
    const replies = await s.pipeline(
      Array.from({ length: 5 }, (_, i) => ({
        type: T.WRITE,
        handle: h,
        offset: i * 1000,
        data: Buffer.alloc(1000, 1),
      })),
    );
    assert.deepEqual(calls.writev, [5]);
    assert.deepEqual(replies.map(status), [
      StatusCode.OK,
      StatusCode.OK,
      StatusCode.OK,
      StatusCode.FAILURE,
      StatusCode.FAILURE,
    ]);
    assert.match(replies[4]!.type === T.STATUS ? replies[4]!.message : '', /earlier write/);
    // the atomic upload is not committed
    const close = await s.client.statusOf({ type: T.CLOSE, handle: h });
    assert.equal(close.code, StatusCode.FAILURE);
    await s.end();
  } finally {
    t.cleanup();
  }
});

test('atomic-resume: a session cut after batched writes keeps the whole written prefix', async () => {
  const t = tempDir();
  try {
    const calls = newCalls();
    const fs = countingFs(t.dir, calls);
    const s = await session(fs, { atomicUploads: 'atomic-resume' });
    const h = await s.client.open('/big', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
    const data = Buffer.alloc(12_000, 0x5a);
    await s.pipeline(
      Array.from({ length: 12 }, (_, i) => ({
        type: T.WRITE,
        handle: h,
        offset: i * 1000,
        data: data.subarray(i * 1000, (i + 1) * 1000),
      })),
    );
    assert.ok(
      calls.writev.some((n) => n > 1),
      'the writes were merged',
    );
    await s.end(); // no CLOSE: the upload is kept as a partial
    const s2 = await session(fs, { atomicUploads: 'atomic-resume' });
    const h2 = await s2.client.open('/big', OpenFlags.WRITE | OpenFlags.CREAT);
    const st = await s2.client.request({ type: T.FSTAT, handle: h2 });
    assert.equal(st.type === T.ATTRS && st.attrs.size, 12_000);
    await s2.end();
  } finally {
    t.cleanup();
  }
});

test('a batch on a handle that fails its checks answers every request with that error', async () => {
  const t = tempDir();
  try {
    writeFileSync(path.join(t.dir, 'ro'), 'x'.repeat(100));
    const calls = newCalls();
    const s = await session(countingFs(t.dir, calls));
    const h = await s.client.open('/ro', OpenFlags.READ);
    const writes = await s.pipeline(
      Array.from({ length: 4 }, (_, i) => ({ type: T.WRITE, handle: h, offset: i * 10, data: Buffer.alloc(10) })),
    );
    assert.deepEqual(writes.map(status), Array(4).fill(StatusCode.PERMISSION_DENIED));
    const bogus = Buffer.from([9, 9, 9, 9]);
    const reads = await s.pipeline(
      Array.from({ length: 3 }, (_, i) => ({ type: T.READ, handle: bogus, offset: i * 10, length: 10 })),
    );
    assert.deepEqual(reads.map(status), Array(3).fill(StatusCode.FAILURE));
    assert.deepEqual(calls.writev, []);
    assert.deepEqual(readFileSync(path.join(t.dir, 'ro'), 'utf8'), 'x'.repeat(100));
    await s.end();
  } finally {
    t.cleanup();
  }
});

test('IoBatch takes only contiguous requests of its kind on its handle, within its bounds', () => {
  const h = Buffer.from([0, 0, 0, 1]);
  const other = Buffer.from([0, 0, 0, 2]);
  const w = (offset: number, n: number, handle = h) =>
    ({ type: T.WRITE, id: 1, handle, offset, data: Buffer.alloc(n) }) as const;
  const r = (offset: number, length: number) => ({ type: T.READ, id: 1, handle: h, offset, length }) as const;
  const b = new IoBatch(w(0, 10), 100, { maxBytes: 35, maxRequests: 10 });
  assert.equal(b.offer(w(11, 5)), false, 'a gap');
  assert.equal(b.offer(r(10, 5)), false, 'another kind');
  assert.equal(b.offer(w(10, 5, other)), false, 'another handle');
  assert.equal(b.offer(w(10, 0)), false, 'zero length');
  assert.equal(b.offer(w(10, 20)), true);
  assert.equal(b.offer(w(30, 6)), false, 'over maxBytes');
  assert.equal(b.offer(w(30, 5)), true);
  b.seal();
  assert.equal(b.offer(w(35, 1)), false, 'sealed');
  assert.equal(b.requests.length, 3);
  const reads = new IoBatch(r(0, 500), 100, { maxBytes: 1000, maxRequests: 2 });
  assert.equal(reads.offer(r(500, 100)), false, 'a READ longer than maxRead counts as maxRead');
  assert.equal(reads.offer(r(100, 100)), true);
  assert.equal(reads.offer(r(200, 100)), false, 'over maxRequests');
});

test('property: any pipelined mix of READs and WRITEs on one handle answers like sequential execution', async () => {
  const t = tempDir();
  try {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('w' as const),
        offset: fc.nat(3000),
        length: fc.integer({ min: 0, max: 900 }),
        fill: fc.nat(255),
      }),
      fc.record({ kind: fc.constant('r' as const), offset: fc.nat(3500), length: fc.integer({ min: 0, max: 1200 }) }),
      // runs of contiguous ones, the case that batches
      fc.record({
        kind: fc.constant('run' as const),
        write: fc.boolean(),
        offset: fc.nat(2000),
        size: fc.integer({ min: 1, max: 400 }),
        count: fc.integer({ min: 2, max: 6 }),
      }),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const calls = newCalls();
        const s = await session(countingFs(t.dir, calls));
        const name = `/p${n++}`;
        const h = await s.client.open(name, RW_CREATE);
        const bodies: RequestBody[] = [];
        let model = Buffer.alloc(0);
        const expected: (Buffer | number)[] = [];
        const write = (offset: number, data: Buffer): void => {
          bodies.push({ type: T.WRITE, handle: h, offset, data });
          if (offset + data.length > model.length && data.length > 0)
            model = Buffer.concat([model, Buffer.alloc(offset + data.length - model.length)]);
          data.copy(model, offset);
          expected.push(StatusCode.OK);
        };
        const read = (offset: number, length: number): void => {
          bodies.push({ type: T.READ, handle: h, offset, length });
          const got = model.subarray(Math.min(offset, model.length), Math.min(offset + length, model.length));
          expected.push(length > 0 && got.length === 0 ? StatusCode.EOF : Buffer.from(got));
        };
        for (const o of ops) {
          if (o.kind === 'w') write(o.offset, Buffer.alloc(o.length, o.fill));
          else if (o.kind === 'r') read(o.offset, o.length);
          else
            for (let i = 0; i < o.count; i++) {
              if (o.write) write(o.offset + i * o.size, Buffer.alloc(o.size, (o.offset + i) & 0xff));
              else read(o.offset + i * o.size, o.size);
            }
        }
        const replies = await s.pipeline(bodies);
        await s.client.ok({ type: T.CLOSE, handle: h });
        await s.end();
        const got = replies.map((p) => (p.type === T.DATA ? Buffer.from(p.data) : status(p)));
        assert.deepEqual(got, expected);
        assert.deepEqual(readFileSync(path.join(t.dir, name.slice(1))), model);
      }),
      { numRuns: 60 },
    );
  } finally {
    t.cleanup();
  }
});
