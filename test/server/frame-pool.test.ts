// DATA frames reused once sent: the pool's bounds, which streams may reuse a written buffer, and a
// download over a real loopback socket (where frames are reused) that must carry every byte intact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { doneAtCallback, FramePool, markDoneAtCallback } from '../../src/server/frame-pool.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { SftpClient } from '../../src/client/client.js';
import { joinReadWrite } from '../../src/transport/stdio.js';

describe('FramePool', () => {
  it('gives back a kept frame of the size asked, never more than maxBytes, and forgets another size', () => {
    const pool = new FramePool(3 * 100);
    const a = pool.take(100);
    assert.equal(a.length, 100);
    pool.give(a);
    assert.equal(pool.take(100), a, 'the frame given back is reused');
    assert.notEqual(pool.take(100), a, 'and handed out once only');
    for (let i = 0; i < 5; i++) pool.give(Buffer.alloc(100));
    assert.equal(pool.kept, 300, 'bounded by maxBytes');
    assert.equal(pool.take(50).length, 50, 'another size is allocated');
    pool.give(Buffer.alloc(50));
    assert.equal(pool.kept, 50, 'frames of the old size are dropped when the size changes');
    pool.clear();
    assert.equal(pool.kept, 0);
  });
});

describe('doneAtCallback', () => {
  it('holds for a plain socket and a marked stream, not for a PassThrough or another Duplex', () => {
    assert.equal(doneAtCallback(new net.Socket()), true);
    assert.equal(doneAtCallback(new PassThrough()), false);
    assert.equal(doneAtCallback(new Duplex({ read() {}, write: (_c, _e, cb) => cb() })), false);
    assert.equal(doneAtCallback(markDoneAtCallback(new PassThrough())), true);
  });

  it("joinReadWrite runs a write's callback only after the output's callback for it", async () => {
    const held: Array<() => void> = [];
    const output = new Writable({
      write(_chunk: Buffer, _enc, cb) {
        held.push(cb);
      },
      writev(_chunks, cb) {
        held.push(cb);
      },
    });
    const d = joinReadWrite(new PassThrough(), output);
    const done: number[] = [];
    d.write(Buffer.from('a'), () => done.push(1));
    d.write(Buffer.from('b'), () => done.push(2));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, [], 'nothing is done while the output holds the first write');
    held.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, [1]);
    held.shift()!();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(done, [1, 2]);
  });
});

describe('a download over a loopback socket, DATA frames reused', () => {
  it('carries every byte of many concurrent READs of one size, whatever their offsets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frame-pool-'));
    const data = randomBytes(3 * 1024 * 1024 + 777);
    writeFileSync(join(dir, 'f.bin'), data);
    const server = new SftpServer({ root: dir });
    const sessions: Promise<void>[] = [];
    const listener = net.createServer((sock) => void sessions.push(server.serve(sock)));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const { port } = listener.address() as net.AddressInfo;
    const sock = net.connect(port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    const client = await SftpClient.fromStream(sock);
    try {
      const h = await client.open('/f.bin', 'r');
      const size = 32 * 1024;
      for (let round = 0; round < 6; round++) {
        // 64 READs in flight, at scattered offsets: each reply must hold its own range
        const offsets = Array.from({ length: 64 }, (_, i) => ((i * 7919 + round * 104729) * 4096) % data.length);
        const got = await Promise.all(offsets.map((o) => client.read(h, o, size)));
        got.forEach((b, i) => {
          const o = offsets[i]!;
          assert.ok(b.equals(data.subarray(o, o + size)), `round ${round}: bytes at ${o}`);
        });
        // and contiguous runs, which the server reads as one vectored call
        const base = round * 512 * 1024;
        const run = await Promise.all(Array.from({ length: 32 }, (_, i) => client.read(h, base + i * size, size)));
        assert.ok(Buffer.concat(run).equals(data.subarray(base, base + 32 * size)), `round ${round}: run at ${base}`);
      }
      await client.close(h);
    } finally {
      await client.end();
      sock.destroy();
      await Promise.all(sessions);
      await new Promise((r) => listener.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
