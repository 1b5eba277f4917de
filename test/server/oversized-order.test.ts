/**
 * A request the server cannot run (an oversized packet, or one that does not decode) is answered in its
 * place: after the requests received before it on the same handle, and before the later ones — never
 * overtaking a file's earlier replies (OpenSSH's client refuses to resume a file whose replies came
 * back out of order). Without a handle in its head it waits for everything received before it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { Writer } from '../../src/protocol/bytes.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import type { FsFile, OpenOptions } from '../../src/server/fs/file-system.js';
import { handleInHead } from '../../src/server/session.js';
import { connect, type RawClient } from '../support/raw-client.js';

/** A MemoryFs whose file writes wait until `open()` is called on the gate. */
class GatedFs extends MemoryFs {
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => {};
  writesWaiting = 0;
  close(): void {
    this.gate = new Promise((r) => (this.release = r));
  }
  openGate(): void {
    this.release();
  }
  override async open(p: string, opts: OpenOptions): Promise<FsFile> {
    const f = await super.open(p, opts);
    const wait = async () => {
      this.writesWaiting++;
      await this.gate;
      this.writesWaiting--;
    };
    return {
      read: (pos, len) => f.read(pos, len),
      write: async (pos, data) => {
        await wait();
        return f.write(pos, data);
      },
      writev: async (pos, bufs) => {
        await wait();
        if (f.writev) return f.writev(pos, bufs);
        for (const b of bufs) {
          await f.write(pos, b);
          pos += b.length;
        }
      },
      stat: () => f.stat(),
      setstat: (a) => f.setstat(a),
      sync: () => f.sync(),
      close: () => f.close(),
    };
  }
}

const LIMIT = 16 * 1024;

async function setup() {
  const fs = new GatedFs();
  const { client, served } = await connect(new SftpServer({ fs, limits: { maxPacket: LIMIT } }));
  const h = await client.open('/f', OpenFlags.WRITE | OpenFlags.CREAT);
  return { fs, c: client, served, h };
}

function send(c: RawClient, p: Packet): Promise<Packet> {
  const reply = c.expect((p as { id: number }).id);
  c.writeRaw(encodePacketToBuffer(p));
  return reply;
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

function frame(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length);
  return Buffer.concat([len, payload]);
}

describe('requests the server cannot run keep their place among the replies', () => {
  it("an oversized WRITE on a handle: answered after that handle's earlier WRITE and before its later FSTAT", async () => {
    const { fs, c, served, h } = await setup();
    fs.close();
    const [a, b, d] = [c.takeId(), c.takeId(), c.takeId()];
    const early = send(c, { type: T.WRITE, id: a, handle: h, offset: 0, data: Buffer.from('first') });
    await until(() => fs.writesWaiting === 1);
    const big = send(c, { type: T.WRITE, id: b, handle: h, offset: 5, data: Buffer.alloc(LIMIT + 100, 1) });
    const late = send(c, { type: T.FSTAT, id: d, handle: h });
    // let the server skip the big packet and take the FSTAT while the first WRITE is still held
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(c.arrivals.includes(b), false, 'the BAD_MESSAGE did not overtake the held WRITE');
    fs.openGate();
    const [ra, rb, rd] = await Promise.all([early, big, late]);
    assert.deepEqual(
      c.arrivals.filter((id) => [a, b, d].includes(id)),
      [a, b, d],
    );
    assert.equal(ra.type === T.STATUS && ra.code, StatusCode.OK);
    assert.equal(rb.type === T.STATUS && rb.code, StatusCode.BAD_MESSAGE);
    assert.match(rb.type === T.STATUS ? rb.message : '', /EMSGSIZE/);
    assert.equal(rd.type === T.ATTRS && rd.attrs.size, 5, 'the oversized WRITE wrote nothing');
    c.end();
    await served;
  });

  it('an oversized packet naming no handle waits for every request received before it', async () => {
    const { fs, c, served, h } = await setup();
    const h2 = await c.open('/g', OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT);
    fs.close();
    const [a, b] = [c.takeId(), c.takeId()];
    const early = send(c, { type: T.WRITE, id: a, handle: h, offset: 0, data: Buffer.from('x') });
    await until(() => fs.writesWaiting === 1);
    const big = send(c, { type: T.STAT, id: b, path: '/' + 'p'.repeat(LIMIT + 10) });
    // unrelated and later, on another handle: free to go first (a path request would wait)
    const other = c.request({ type: T.FSTAT, handle: h2 });
    await other;
    assert.equal(c.arrivals.includes(b), false);
    fs.openGate();
    await Promise.all([early, big]);
    assert.ok(c.arrivals.indexOf(a) < c.arrivals.indexOf(b), `arrivals ${c.arrivals}`);
    c.end();
    await served;
  });

  it("an undecodable WRITE is answered in its handle's order too", async () => {
    const { fs, c, served, h } = await setup();
    fs.close();
    const [a, b] = [c.takeId(), c.takeId()];
    const early = send(c, { type: T.WRITE, id: a, handle: h, offset: 0, data: Buffer.from('x') });
    await until(() => fs.writesWaiting === 1);
    const broken = c.expect(b);
    // a WRITE whose data length runs past the end of the packet
    c.writeRaw(frame(new Writer().u8(T.WRITE).u32(b).string(h).u64(0).u32(1000).finish()));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.equal(c.arrivals.includes(b), false);
    fs.openGate();
    const [, rb] = await Promise.all([early, broken]);
    assert.equal(rb.type === T.STATUS && rb.code, StatusCode.BAD_MESSAGE);
    assert.deepEqual(
      c.arrivals.filter((id) => id === a || id === b),
      [a, b],
    );
    c.end();
    await served;
  });

  it('handleInHead reads the handle of file requests only, and only when it is all there', () => {
    const head = (type: number, handle: Buffer, cut = 0) => {
      const b = new Writer().u8(type).u32(7).string(handle).finish();
      return b.subarray(0, b.length - cut);
    };
    const hd = Buffer.from('abc');
    for (const t of [T.CLOSE, T.READ, T.WRITE, T.FSTAT, T.FSETSTAT, T.READDIR])
      assert.deepEqual(handleInHead(head(t, hd)), hd);
    assert.equal(handleInHead(head(T.STAT, hd)), undefined);
    assert.equal(handleInHead(head(T.WRITE, hd, 1)), undefined);
    assert.equal(handleInHead(head(T.WRITE, Buffer.alloc(300))), undefined);
    assert.equal(handleInHead(Buffer.from([T.WRITE, 0, 0])), undefined);
  });
});
