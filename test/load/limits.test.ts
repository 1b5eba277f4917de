/**
 * Server limits, enforced: open handles, requests in flight, packet size, READ length, the reply
 * buffer of a client that floods requests and never reads, and the memory that stays bounded then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import type { ServerLimits } from '../../src/server/options.js';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, type Packet } from '../../src/protocol/packets.js';
import { CountingFs } from '../../bench/lib/peers/counting-fs.js';
import { RawPeer, type Reply } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, socketPair, sleep, within } from '../../bench/lib/peers/streams.js';

const RW = OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT;

async function session(limits: ServerLimits, opts: { socket?: boolean; fs?: CountingFs } = {}) {
  const fs = opts.fs ?? new CountingFs(new MemoryFs());
  const server = new SftpServer({ fs, limits });
  const [c, s] = opts.socket ? await socketPair() : memoryPair();
  const served = server.serve(s);
  const peer = new RawPeer(c);
  const version = await peer.init();
  assert.equal(version?.type, T.VERSION);
  return { fs, server, peer, served, serverSide: s, clientSide: c };
}

function handleOf(p: Reply | undefined): Buffer {
  assert.equal(p?.type, T.HANDLE, `expected HANDLE, got ${JSON.stringify(p)}`);
  return (p as Extract<Reply, { type: typeof T.HANDLE }>).handle;
}

function statusOf(p: Reply | undefined): { code: number; message: string } {
  assert.equal(p?.type, T.STATUS, `expected STATUS, got ${JSON.stringify(p)}`);
  return p as Extract<Reply, { type: typeof T.STATUS }>;
}

/** Poll until `read()` has not changed for `quiet` polls in a row (the system is at rest). */
async function settle(read: () => string, quiet = 6, everyMs = 40): Promise<void> {
  let last = read();
  let same = 0;
  while (same < quiet) {
    await sleep(everyMs);
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
}

test('open handles: the limit counts files and directories, a refused open leaves nothing open, a close frees a slot', async () => {
  const { fs, peer, served } = await session({ maxHandles: 4 });
  assert.equal(statusOf(await peer.request({ type: T.MKDIR, id: 1, path: '/d', attrs: {} })).code, StatusCode.OK);
  const handles: Buffer[] = [];
  handles.push(handleOf(await peer.request({ type: T.OPEN, id: 2, path: '/a', pflags: RW, attrs: {} })));
  handles.push(handleOf(await peer.request({ type: T.OPENDIR, id: 3, path: '/d' })));
  handles.push(handleOf(await peer.request({ type: T.OPEN, id: 4, path: '/b', pflags: RW, attrs: {} })));
  handles.push(handleOf(await peer.request({ type: T.OPENDIR, id: 5, path: '/' })));
  assert.equal(fs.openHandles, 4);

  const refusedFile = statusOf(await peer.request({ type: T.OPEN, id: 6, path: '/c', pflags: RW, attrs: {} }));
  const refusedDir = statusOf(await peer.request({ type: T.OPENDIR, id: 7, path: '/d' }));
  for (const s of [refusedFile, refusedDir]) {
    assert.equal(s.code, StatusCode.FAILURE);
    assert.match(s.message, /^EMFILE/);
  }
  assert.equal(fs.openHandles, 4, 'a refused open must not leave a storage handle open');
  assert.equal(
    statusOf(await peer.request({ type: T.LSTAT, id: 8, path: '/c' })).code,
    StatusCode.NO_SUCH_FILE,
    'a refused OPEN|CREAT must not create the file',
  );

  assert.equal(statusOf(await peer.request({ type: T.CLOSE, id: 9, handle: handles[0]! })).code, StatusCode.OK);
  handleOf(await peer.request({ type: T.OPEN, id: 10, path: '/c', pflags: RW, attrs: {} }));
  assert.equal(fs.openHandles, 4);

  peer.stream.end();
  await within(served, 5000, 'serve after end');
  assert.equal(fs.openHandles, 0, 'every handle left open by the client is closed at session end');
});

test('requests in flight: the storage never sees more than maxInFlight requests, even when 200 arrive in one chunk', async () => {
  const { fs, peer, served } = await session({ maxInFlight: 4 });
  assert.equal(statusOf(await peer.request({ type: T.MKDIR, id: 1, path: '/x', attrs: {} })).code, StatusCode.OK);
  fs.maxRunning = 0;
  fs.hold();
  const ids = Array.from({ length: 200 }, (_, i) => 100 + i);
  peer.sendRaw(Buffer.concat(ids.map((id) => encodePacketToBuffer({ type: T.STAT, id, path: '/x' }))));
  await settle(() => `${fs.running}/${fs.calls}`);
  assert.ok(fs.running <= 4, `${fs.running} storage calls held at once; the limit is 4`);
  assert.ok(fs.running >= 1, 'some requests were started');
  fs.release();
  const replies = await within(Promise.all(ids.map((id) => peer.reply(id))), 10_000, '200 STAT replies');
  for (const r of replies) assert.equal(r?.type, T.ATTRS);
  assert.ok(fs.maxRunning <= 4, `at most 4 requests ran at once, saw ${fs.maxRunning}`);
  peer.stream.end();
  await within(served, 5000, 'serve after end');
});

test('packet size: an oversized WRITE gets BAD_MESSAGE with its id and writes nothing; the session carries on', async () => {
  const { fs, peer, served } = await session({ maxPacket: 4096 });
  const h = handleOf(await peer.request({ type: T.OPEN, id: 1, path: '/f', pflags: RW, attrs: {} }));
  const big = statusOf(await peer.request({ type: T.WRITE, id: 2, handle: h, offset: 0, data: Buffer.alloc(8000, 1) }));
  assert.equal(big.code, StatusCode.BAD_MESSAGE);
  assert.match(big.message, /^EMSGSIZE/);
  assert.equal(
    statusOf(await peer.request({ type: T.WRITE, id: 3, handle: h, offset: 0, data: Buffer.alloc(3000, 2) })).code,
    StatusCode.OK,
  );
  const st = await peer.request({ type: T.FSTAT, id: 4, handle: h });
  assert.equal(st?.type === T.ATTRS && st.attrs.size, 3000, 'only the WRITE within the limit landed');
  // a length field of 4 GiB - 1 with a few bytes behind it: skipped without allocating, then the stream ends
  const lying = Buffer.alloc(9);
  lying.writeUInt32BE(0xffffffff, 0);
  lying[4] = T.WRITE;
  lying.writeUInt32BE(77, 5);
  peer.sendRaw(lying);
  peer.stream.end();
  await within(served, 5000, 'serve after a cut oversized packet');
  assert.equal(fs.openHandles, 0);
  assert.equal(peer.repliesTo(77).length, 0, 'a packet that never arrived whole is not answered');
});

test('packet size: an oversized first packet (no request id) closes the session; the server serves the next one', async () => {
  const fs = new CountingFs(new MemoryFs());
  const server = new SftpServer({ fs, limits: { maxPacket: 2048 } });
  const [c, s] = memoryPair();
  const served = server.serve(s);
  const peer = new RawPeer(c);
  peer.send({ type: T.INIT, version: 3, extensions: [{ name: 'x', data: Buffer.alloc(5000) }] });
  await within(served, 5000, 'serve after an oversized INIT');
  await within(peer.closed, 5000, 'the server closing its end');
  assert.equal(peer.replies.length, 0);

  const [c2, s2] = memoryPair();
  const served2 = server.serve(s2);
  const peer2 = new RawPeer(c2);
  assert.equal((await peer2.init())?.type, T.VERSION);
  const r = await peer2.request({ type: T.REALPATH, id: 1, path: '.' });
  assert.equal(r?.type === T.NAME && r.entries[0]?.filename, '/');
  peer2.stream.end();
  await within(served2, 5000, 'second session');
});

test('READ length: a READ asking 4 GiB gets at most maxRead bytes (default 261120; 1000 when configured)', async () => {
  for (const [limits, expected] of [
    [{}, 261_120],
    [{ maxRead: 1000 }, 1000],
  ] as const) {
    const { peer, served } = await session(limits);
    const h = handleOf(await peer.request({ type: T.OPEN, id: 1, path: '/big', pflags: RW, attrs: {} }));
    for (let off = 0; off < 1 << 20; off += 1 << 16) {
      const w = statusOf(
        await peer.request({
          type: T.WRITE,
          id: 2 + off / 65536,
          handle: h,
          offset: off,
          data: Buffer.alloc(1 << 16, off / 65536),
        }),
      );
      assert.equal(w.code, StatusCode.OK);
    }
    const r = await peer.request({ type: T.READ, id: 99, handle: h, offset: 0, length: 0xffffffff });
    assert.equal(r?.type, T.DATA);
    assert.equal(r?.type === T.DATA && r.data.length, expected);
    peer.stream.end();
    await within(served, 5000, 'serve');
  }
});

test('flood: a client that sends READs as fast as it can and never reads replies cannot grow the server beyond its bounds', async () => {
  const limits = { maxInFlight: 64, maxOutputBuffer: 4 * 1024 * 1024 };
  const { fs, peer, served, serverSide, clientSide } = await session(limits, { socket: true });
  const h = handleOf(await peer.request({ type: T.OPEN, id: 1, path: '/blob', pflags: RW, attrs: {} }));
  assert.equal(
    statusOf(await peer.request({ type: T.WRITE, id: 2, handle: h, offset: 0, data: Buffer.alloc(261_120, 9) })).code,
    StatusCode.OK,
  );

  clientSide.pause(); // never read a reply from now on
  const heapBefore = process.memoryUsage();
  // 4,400 READ requests of 255 KiB each (1.1 GiB asked) in two 64 KiB bursts, or fewer if the connection pushes back.
  let id = 1000;
  let requested = 0;
  for (let burst = 0; burst < 2; burst++) {
    const batch: Buffer[] = [];
    for (let i = 0; i < 2200; i++)
      batch.push(encodePacketToBuffer({ type: T.READ, id: id++, handle: h, offset: 0, length: 261_120 }));
    requested += batch.length;
    if (!clientSide.write(Buffer.concat(batch))) break;
    await sleep(1);
  }
  await settle(() => `${serverSide.writableLength}/${fs.calls}`);
  const buffered = serverSide.writableLength;
  const heapAfter = process.memoryUsage();
  const reply = 261_120 + 13;
  const bound = limits.maxOutputBuffer + limits.maxInFlight * reply;
  const grown = heapAfter.arrayBuffers - heapBefore.arrayBuffers;
  console.log(
    `flood: ${requested} READs of 255 KiB sent (${((requested * 29) / 2 ** 20).toFixed(1)} MiB of requests, ` +
      `${((requested * 261_120) / 2 ** 30).toFixed(1)} GiB asked); server reply buffer ${(buffered / 2 ** 20).toFixed(1)} MiB ` +
      `(bound ${(bound / 2 ** 20).toFixed(1)} MiB); storage reads ${fs.calls}; process arrayBuffers grew ${(grown / 2 ** 20).toFixed(1)} MiB`,
  );
  assert.ok(buffered <= bound, `server buffered ${buffered} bytes of replies, bound ${bound}`);
  assert.ok(grown < 96 * 2 ** 20, `process buffers grew by ${grown} bytes`);

  // Now read: every request is answered exactly once, in order for the one handle, and nothing deadlocks.
  const lastId = id - 1;
  let seen = 0;
  let expectNext = 1000;
  const done = new Promise<void>((resolve, reject) => {
    const check = (): void => {
      for (; seen < peer.replies.length; seen++) {
        const p = peer.replies[seen]!;
        if (!('id' in p) || p.id < 1000) continue;
        if (p.id !== expectNext) return reject(new Error(`reply ${p.id} where ${expectNext} was due`));
        if (p.type !== T.DATA || p.data.length !== 261_120)
          return reject(new Error(`reply ${p.id} is ${JSON.stringify(p).slice(0, 80)}`));
        expectNext++;
      }
      if (expectNext > lastId) resolve();
    };
    clientSide.on('data', () => setImmediate(check));
  });
  clientSide.resume();
  await within(done, 120_000, `${requested} replies`);
  clientSide.end();
  await within(served, 10_000, 'serve after the flood');
  assert.equal(fs.openHandles, 0);
});

test("a reply buffer limit smaller than the stream's own buffer does not stall the session", async () => {
  const { peer, served } = await session({ maxOutputBuffer: 1024, maxInFlight: 2 }, { socket: true });
  const h = handleOf(await peer.request({ type: T.OPEN, id: 1, path: '/f', pflags: RW, attrs: {} }));
  assert.equal(
    statusOf(await peer.request({ type: T.WRITE, id: 2, handle: h, offset: 0, data: Buffer.alloc(8192, 3) })).code,
    StatusCode.OK,
  );
  const ids = Array.from({ length: 300 }, (_, i) => 10 + i);
  const packets: Packet[] = ids.map((id) => ({ type: T.READ, id, handle: h, offset: 0, length: 8192 }));
  peer.sendRaw(Buffer.concat(packets.map(encodePacketToBuffer)));
  const replies = await within(Promise.all(ids.map((id) => peer.reply(id))), 30_000, '300 READ replies');
  for (const r of replies) assert.equal(r?.type === T.DATA && r.data.length, 8192);
  peer.stream.end();
  await within(served, 5000, 'serve');
});
