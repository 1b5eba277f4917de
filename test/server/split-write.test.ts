/**
 * WRITEs whose packets span several input chunks are written from those chunks' views (SplitWrite),
 * never joined first: the bytes on disk, the replies and every error are the same as for a WRITE
 * that arrived whole, whatever the chunking.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { splitWrite, writeLength, writePieces } from '../../src/server/split-write.js';
import { RawPeer, type Reply } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';
import { tempDir } from '../support/temp-dir.js';

/** Cut `bytes` at `points` into chunks, each copied into memory of its own (as a socket delivers them). */
function chunksOf(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % bytes.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...at, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  return out;
}

async function session(server: SftpServer) {
  const [c, s] = memoryPair(1024 * 1024);
  const served = server.serve(s);
  const peer = new RawPeer(c, 16 * 1024 * 1024, { strict: true });
  assert.equal((await peer.init())?.type, T.VERSION);
  return { peer, served };
}

async function openNew(peer: RawPeer, path: string, id: number): Promise<Buffer> {
  const r = await peer.request({
    type: T.OPEN,
    id,
    path,
    pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
    attrs: {},
  });
  assert.equal(r?.type, T.HANDLE);
  return r?.type === T.HANDLE ? r.handle : Buffer.alloc(0);
}

function statusOf(r: Reply | undefined): { code: number; message: string } {
  assert.equal(r?.type, T.STATUS);
  return r?.type === T.STATUS ? { code: r.code, message: r.message } : { code: -1, message: '' };
}

const wire = (p: Packet): Buffer => encodePacketToBuffer(p);

describe('splitWrite: the WRITE in a packet split over chunks', () => {
  it('decodes id, handle, offset and gives the data as views of the pieces, for every split', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (handle, offset, data, points) => {
          const p = wire({ type: T.WRITE, id: 9, handle: Buffer.from(handle), offset, data: Buffer.from(data) });
          const payload = p.subarray(4);
          const pieces = chunksOf(payload, points);
          const w = splitWrite(pieces, payload.length);
          assert.ok(w);
          assert.equal(w.id, 9);
          assert.deepEqual(w.handle, Buffer.from(handle));
          assert.equal(w.offset, offset);
          assert.equal(writeLength(w), data.length);
          const views = writePieces(w);
          assert.ok(
            views.every((v) => pieces.some((piece) => piece.buffer === v.buffer)),
            'views, not copies',
          );
          assert.deepEqual(Buffer.concat(views as Buffer[]), Buffer.from(data));
          assert.deepEqual(w.data, Buffer.from(data));
        },
      ),
      { numRuns: 200 },
    );
  });
  it('leaves what is not a well-formed WRITE to the ordinary path (undefined)', () => {
    const close = wire({ type: T.CLOSE, id: 1, handle: Buffer.from('h') }).subarray(4);
    assert.equal(splitWrite([close.subarray(0, 3), close.subarray(3)], close.length), undefined);
    const write = wire({ type: T.WRITE, id: 1, handle: Buffer.from('h'), offset: 0, data: Buffer.alloc(100) });
    const payload = Buffer.from(write.subarray(4));
    payload.writeUInt32BE(101, 1 + 4 + 4 + 1 + 8); // data runs past the packet
    assert.equal(splitWrite([payload.subarray(0, 50), payload.subarray(50)], payload.length), undefined);
    const longHandle = Buffer.from(payload);
    longHandle.writeUInt32BE(1000, 5); // handle runs past the packet
    assert.equal(splitWrite([longHandle.subarray(0, 50), longHandle.subarray(50)], longHandle.length), undefined);
  });
});

describe('split WRITEs through a session', () => {
  it('contiguous WRITEs of up to 40 KiB, cut anywhere: every reply OK and the file holds exactly the bytes sent', async () => {
    const t = tempDir('sftp-wire-split-');
    try {
      const server = new SftpServer({ fs: new LocalFs(t.dir) });
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 40 * 1024 }), { minLength: 1, maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          fc.integer(),
          async (sizes, points, seed) => {
            const { peer, served } = await session(server);
            const name = `f${round++}`;
            const handle = await openNew(peer, `/${name}`, 1);
            const parts: Buffer[] = [];
            const wires: Buffer[] = [];
            let offset = 0;
            sizes.forEach((n, i) => {
              const data = Buffer.alloc(n, (seed + i) & 0xff);
              if (n >= 4) data.writeInt32LE(seed ^ i, 0);
              parts.push(data);
              wires.push(wire({ type: T.WRITE, id: 10 + i, handle, offset, data }));
              offset += n;
            });
            const replies = sizes.map((_, i) => peer.reply(10 + i));
            for (const c of chunksOf(Buffer.concat(wires), points)) peer.sendRaw(c);
            for (const r of await Promise.all(replies)) assert.equal(statusOf(r).code, StatusCode.OK);
            assert.equal(statusOf(await peer.request({ type: T.CLOSE, id: 2, handle })).code, StatusCode.OK);
            assert.deepEqual(readFileSync(join(t.dir, name)), Buffer.concat(parts));
            peer.stream.end();
            await within(served, 5000, 'serve');
          },
        ),
        { numRuns: 25 },
      );
    } finally {
      t.cleanup();
    }
  });

  it('a split WRITE fails exactly as a whole one: bad handle, data past the packet, read-only, and a split non-WRITE', async () => {
    const big = Buffer.alloc(30 * 1024, 1);
    /** The replies to the same packets sent whole and sent split in two chunks. */
    async function both(readOnly: boolean, make: (handle: Buffer) => Buffer[]): Promise<[Reply[], Reply[]]> {
      const out: Reply[][] = [];
      for (const split of [false, true]) {
        const fs = new MemoryFs();
        const server = new SftpServer({ fs });
        const { peer, served } = await session(server);
        const handle = await openNew(peer, '/f', 1);
        if (readOnly) {
          const ro = new SftpServer({ fs, readOnly: true });
          const s2 = await session(ro);
          peer.stream.end();
          await within(served, 5000, 'serve');
          const h = await s2.peer.request({ type: T.OPEN, id: 1, path: '/f', pflags: OpenFlags.READ, attrs: {} });
          assert.equal(h?.type, T.HANDLE);
          out.push(await send(s2.peer, make(h?.type === T.HANDLE ? h.handle : Buffer.alloc(0)), split));
          s2.peer.stream.end();
          await within(s2.served, 5000, 'serve');
        } else {
          out.push(await send(peer, make(handle), split));
          peer.stream.end();
          await within(served, 5000, 'serve');
        }
      }
      return [out[0]!, out[1]!];
    }
    async function send(peer: RawPeer, packets: Buffer[], split: boolean): Promise<Reply[]> {
      const ids = packets.map((p) => p.readUInt32BE(5));
      const replies = ids.map((id) => peer.reply(id));
      for (const p of packets) {
        if (split) {
          peer.sendRaw(Buffer.from(p.subarray(0, 20)));
          peer.sendRaw(Buffer.from(p.subarray(20)));
        } else peer.sendRaw(p);
      }
      return (await Promise.all(replies)).map((r) => r!);
    }

    const badHandle = await both(false, () => [
      wire({ type: T.WRITE, id: 5, handle: Buffer.from('nope'), offset: 0, data: big }),
    ]);
    assert.equal(badHandle[0][0]!.type, T.STATUS);
    assert.deepEqual(badHandle[1], badHandle[0]);

    const pastEnd = await both(false, (h) => {
      const p = wire({ type: T.WRITE, id: 6, handle: h, offset: 0, data: big });
      p.writeUInt32BE(big.length + 1, 4 + 1 + 4 + 4 + h.length + 8);
      return [p];
    });
    assert.equal(statusOf(pastEnd[0][0]).code, StatusCode.BAD_MESSAGE);
    assert.deepEqual(pastEnd[1], pastEnd[0]);

    const readOnly = await both(true, (h) => [wire({ type: T.WRITE, id: 7, handle: h, offset: 0, data: big })]);
    assert.equal(statusOf(readOnly[0][0]).code, StatusCode.PERMISSION_DENIED);
    assert.deepEqual(readOnly[1], readOnly[0]);

    const extended = await both(false, () => [
      wire({ type: T.EXTENDED, id: 8, request: 'nothing@example.com', data: big }),
    ]);
    assert.equal(statusOf(extended[0][0]).code, StatusCode.OP_UNSUPPORTED);
    assert.deepEqual(extended[1], extended[0]);
  });
});
