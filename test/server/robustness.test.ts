import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketType as T, StatusCode, OpenFlags } from '../../src/protocol/constants.js';
import { encodePacketToBuffer } from '../../src/protocol/packets.js';
import { Writer } from '../../src/protocol/bytes.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { connect, RawClient } from '../support/raw-client.js';
import { socketPair } from '../../bench/lib/peers/streams.js';

function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

describe('malformed input and limits', () => {
  it('an oversized packet gets BAD_MESSAGE for its id and the session goes on', async () => {
    const fs = new MemoryFs();
    const { client: c, served } = await connect(new SftpServer({ fs, limits: { maxPacket: 64 * 1024 } }));
    const h = await c.open('/f', OpenFlags.WRITE | OpenFlags.CREAT);
    const id = c.takeId();
    const reply = c.expect(id);
    // a WRITE like `sftp -B 262144` would send: longer than the limit
    c.writeRaw(encodePacketToBuffer({ type: T.WRITE, id, handle: h, offset: 0, data: Buffer.alloc(200_000, 1) }));
    const p = await reply;
    assert.equal(p.type === T.STATUS && p.code, StatusCode.BAD_MESSAGE);
    assert.match(p.type === T.STATUS ? p.message : '', /exceeds the limit/);
    await c.ok({ type: T.WRITE, handle: h, offset: 0, data: Buffer.from('ok') });
    await c.ok({ type: T.CLOSE, handle: h });
    assert.deepEqual(await c.readFile('/f'), Buffer.from('ok'));
    c.end();
    await served;
  });

  it('a truncated request gets BAD_MESSAGE; an unknown type gets OP_UNSUPPORTED; a reply type is refused', async () => {
    const { client: c, served } = await connect(new SftpServer({ fs: new MemoryFs() }));
    const id1 = c.takeId();
    const r1 = c.expect(id1);
    c.writeRaw(frame(new Writer().u8(T.OPEN).u32(id1).u32(1000).finish())); // path length past the end
    assert.equal((await r1).type === T.STATUS && ((await r1) as { code: number }).code, StatusCode.BAD_MESSAGE);
    const id2 = c.takeId();
    const r2 = c.expect(id2);
    c.writeRaw(frame(new Writer().u8(77).u32(id2).finish()));
    assert.equal(((await r2) as { code: number }).code, StatusCode.OP_UNSUPPORTED);
    const id3 = c.takeId();
    const r3 = c.expect(id3);
    c.writeRaw(encodePacketToBuffer({ type: T.STATUS, id: id3, code: 0, message: '', lang: '' }));
    assert.equal(((await r3) as { code: number }).code, StatusCode.BAD_MESSAGE);
    assert.equal((await c.attrs(T.STAT, '/')).permissions! & 0o40000, 0o40000);
    c.end();
    await served;
  });

  it('a zero-length packet closes the session cleanly', async () => {
    const { client: c, served } = await connect(new SftpServer({ fs: new MemoryFs() }));
    c.writeRaw(Buffer.alloc(4));
    await served;
    await c.closed;
    assert.equal(c.ended, true);
  });

  it('a first packet that is not INIT closes the session', async () => {
    const [a, b] = await socketPair();
    const served = new SftpServer({ fs: new MemoryFs() }).serve(b);
    const c = new RawClient(a);
    c.writeRaw(encodePacketToBuffer({ type: T.STAT, id: 1, path: '/' }));
    await served;
    await c.closed;
    assert.equal(c.ended, true);
  });

  it('a flood from a client that never reads keeps server memory bounded, then completes once read', async () => {
    const fs = new MemoryFs();
    const limits = { maxInFlight: 8, maxOutputBuffer: 512 * 1024, maxRead: 60 * 1024 };
    const { client: c, served, serverSide } = await connect(new SftpServer({ fs, limits }));
    await c.writeFile('/big', Buffer.alloc(60 * 1024, 7));
    const h = await c.open('/big', OpenFlags.READ);
    c.stream.pause(); // stop reading replies
    const N = 2000;
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) replies.push(c.request({ type: T.READ, handle: h, offset: 0, length: 60 * 1024 }));
    // wait until the server has stopped reading
    let maxQueued = 0;
    for (let i = 0; i < 200 && !serverSide.isPaused(); i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 20; i++) {
      maxQueued = Math.max(maxQueued, serverSide.writableLength);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(serverSide.isPaused(), true, 'the server paused its input');
    // at most the output bound plus one in-flight window of replies
    assert.ok(maxQueued <= limits.maxOutputBuffer + limits.maxInFlight * 62 * 1024, `queued ${maxQueued}`);
    c.stream.resume();
    const all = await Promise.all(replies);
    assert.equal(all.length, N);
    assert.ok(all.every((p) => (p as { type: number }).type === T.DATA));
    await c.ok({ type: T.CLOSE, handle: h });
    c.end();
    await served;
  });

  it('a client that writes its whole window of WRITEs before reading is never deadlocked', async () => {
    const fs = new MemoryFs();
    const { client: c, served } = await connect(new SftpServer({ fs, limits: { maxInFlight: 4 } }));
    const h = await c.open('/w', OpenFlags.WRITE | OpenFlags.CREAT);
    c.stream.pause();
    const chunk = Buffer.alloc(32 * 1024, 3);
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 256; i++)
      replies.push(c.request({ type: T.WRITE, handle: h, offset: i * chunk.length, data: chunk }));
    await new Promise((r) => setTimeout(r, 50));
    c.stream.resume();
    await Promise.all(replies);
    await c.ok({ type: T.CLOSE, handle: h });
    assert.equal((await c.attrs(T.STAT, '/w')).size, 256 * chunk.length);
    c.end();
    await served;
  });

  it('arbitrary bytes after INIT never crash the server: every reply decodes, the session ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { maxLength: 12 }),
        fc.boolean(),
        async (chunks, framed) => {
          const { client: c, served } = await connect(new SftpServer({ fs: new MemoryFs() }));
          for (const ch of chunks) c.writeRaw(framed && ch.length > 0 ? frame(Buffer.from(ch)) : Buffer.from(ch));
          c.end();
          await served; // replies that arrive are decoded by RawClient, which throws on garbage
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });
});
