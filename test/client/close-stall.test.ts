/**
 * A server that never answers CLOSE (or answers it with an error): transfers send their CLOSE but do
 * not wait for it past the caller's AbortSignal, and a CLOSE error on the success path is a failure.
 * The server is our own SftpServer on a MemoryFs behind a proxy that holds back (or fails) CLOSEs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SftpClient } from '../../src/client/client.js';
import { closeHandle, untilAborted } from '../../src/client/core/close-handle.js';
import {
  PacketFramer,
  PacketType as T,
  StatusCode,
  decodePacket,
  encodePacketToBuffer,
  SftpError,
} from '../../src/protocol/index.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

type CloseMode = 'answer' | 'stall' | 'fail' | 'hold';

function frame(payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  payload.copy(b, 4);
  return b;
}

/**
 * Client <-> proxy <-> SftpServer(MemoryFs). The proxy treats CLOSE requests as `mode` says: 'stall'
 * drops them (never answered), 'fail' answers FAILURE itself, 'hold' keeps them until `release()`.
 */
async function setup(abortGraceMs = 20) {
  const fs = new MemoryFs();
  const [clientEnd, proxyIn] = memoryPair();
  const [proxyOut, serverEnd] = memoryPair();
  const served = new SftpServer({ fs }).serve(serverEnd).catch(() => undefined);
  const state = { mode: 'answer' as CloseMode, held: 0, onClose: () => {} };
  const holding: Buffer[] = [];
  const framer = new PacketFramer(
    {
      onPacket(payload) {
        const p = decodePacket(payload);
        if (p.type === T.CLOSE && state.mode !== 'answer') {
          state.held++;
          state.onClose();
          if (state.mode === 'hold') holding.push(frame(Buffer.from(payload)));
          if (state.mode === 'fail') {
            proxyIn.write(
              encodePacketToBuffer({
                type: T.STATUS,
                id: p.id,
                code: StatusCode.FAILURE,
                message: 'EIO: close failed',
                lang: '',
              }),
            );
          }
          return; // never reaches the server: never answered (stall) or answered by the proxy (fail)
        }
        proxyOut.write(frame(Buffer.from(payload)));
      },
    },
    1 << 24,
  );
  proxyIn.on('data', (c: Buffer) => framer.push(c));
  proxyOut.on('data', (c: Buffer) => proxyIn.write(c));
  const client = await SftpClient.fromStream(clientEnd, { abortGraceMs });
  const local = mkdtempSync(join(tmpdir(), 'sftp-wire-close-stall-'));
  return {
    fs,
    client,
    state,
    local,
    release() {
      for (const b of holding.splice(0)) proxyOut.write(b);
    },
    async done() {
      clientEnd.destroy();
      serverEnd.destroy();
      await served;
      rmSync(local, { recursive: true, force: true });
    },
  };
}

async function abortErrorOf(p: Promise<unknown>, what: string): Promise<void> {
  const err = await within(
    p.then(
      () => undefined,
      (e: unknown) => e,
    ),
    5000,
    what,
  );
  assert.ok(err instanceof Error, `${what} resolved instead of rejecting`);
  assert.equal(err.name, 'AbortError', `${what}: ${err}`);
}

test('CLOSE never answered: get, readFile, put, writeFile, atomic put and streams reject with AbortError when the signal fires', async () => {
  const s = await setup();
  try {
    const data = Buffer.alloc(100_000, 0x5a);
    await s.client.writeFile('/src.bin', data);
    writeFileSync(join(s.local, 'up.bin'), data);
    s.state.mode = 'stall';
    // Each call's signal fires once the proxy has swallowed a CLOSE (after that CLOSE, a few
    // milliseconds later): a fixed timeout could fire before a slow machine had even opened the file,
    // and then no CLOSE would be owed. 3 s bounds a call that never sends one.
    const timeout = (): AbortSignal => {
      const ac = new AbortController();
      s.state.onClose = () => setTimeout(() => ac.abort(), 5);
      return AbortSignal.any([ac.signal, AbortSignal.timeout(3000)]);
    };

    await abortErrorOf(s.client.get('/src.bin', join(s.local, 'down.bin'), { signal: timeout() }), 'get');
    await abortErrorOf(
      s.client.get('/src.bin', join(s.local, 'down2.bin'), { signal: timeout(), atomic: true }),
      'atomic get',
    );
    assert.equal(existsSync(join(s.local, 'down2.bin')), false, 'an aborted atomic get never shows the destination');
    await abortErrorOf(s.client.readFile('/src.bin', { signal: timeout() }), 'readFile');
    await abortErrorOf(s.client.put(join(s.local, 'up.bin'), '/up.bin', { signal: timeout() }), 'put');
    await abortErrorOf(s.client.writeFile('/w.bin', data, { signal: timeout() }), 'writeFile');
    await abortErrorOf(
      s.client.put(join(s.local, 'up.bin'), '/atomic.bin', {
        signal: timeout(),
        atomic: true,
        stateDir: join(s.local, 'state'),
      }),
      'atomic put',
    );
    assert.equal(
      await s.client.stat('/atomic.bin').catch((e: SftpError) => e.code),
      'ENOENT',
      'an aborted atomic put commits nothing',
    );
    await abortErrorOf(
      pipeline(
        s.client.createReadStream('/src.bin', { signal: timeout() }),
        new Writable({ write: (_c, _e, cb) => cb() }),
      ),
      'createReadStream',
    );
    const ws = s.client.createWriteStream('/ws.bin', { signal: timeout() });
    await abortErrorOf(
      pipeline(async function* () {
        yield data;
      }, ws),
      'createWriteStream',
    );
    await abortErrorOf(
      (async () => {
        for await (const _ of s.client.scandir('/', { signal: timeout() })) void _;
      })(),
      'scandir',
    );
    // every one of them did send its CLOSE (the handle is not left open because the caller gave up)
    assert.equal(s.state.held, 9);
    // the session is still usable: the dropped CLOSE replies are simply owed
    assert.equal((await s.client.stat('/src.bin')).size, data.length);
  } finally {
    await s.done();
  }
});

test('CLOSE never answered: putTree, getTree and rmtree reject with AbortError when the signal fires', async () => {
  const s = await setup();
  try {
    const src = join(s.local, 'tree');
    mkdirSync(join(src, 'sub'), { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(src, i % 2 ? 'sub' : '', `f${i}.txt`), `file ${i}\n`.repeat(100));
    await s.client.putTree(src, '/tree');
    s.state.mode = 'stall';
    await abortErrorOf(
      s.client.putTree(src, '/tree2', { signal: AbortSignal.timeout(40), maxOpenFiles: 2 }),
      'putTree',
    );
    await abortErrorOf(
      s.client.getTree('/tree', join(s.local, 'back'), { signal: AbortSignal.timeout(40), maxOpenFiles: 3 }),
      'getTree',
    );
    await abortErrorOf(
      s.client.putTree(src, '/tree3', { signal: AbortSignal.timeout(40), atomic: true }),
      'putTree atomic',
    );
    await abortErrorOf(s.client.rmtree('/tree', { signal: AbortSignal.timeout(40) }), 'rmtree');
    assert.ok(s.state.held > 0);
  } finally {
    await s.done();
  }
});

test('after the abort, a CLOSE answered within abortGraceMs is waited for: the handle is closed when the call settles', async () => {
  const s = await setup(60_000);
  try {
    const data = Buffer.alloc(50_000, 0x33);
    await s.client.writeFile('/g.bin', data);
    s.state.mode = 'hold';
    const ac = new AbortController();
    s.state.onClose = () => ac.abort(); // the caller gives up just as the CLOSE goes out
    let settled = false;
    const getting = s.client
      .get('/g.bin', join(s.local, 'g.bin'), { signal: ac.signal })
      .finally(() => (settled = true));
    while (s.state.held === 0) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(ac.signal.aborted, true);
    assert.equal(settled, false, 'still waiting for the CLOSE reply within the grace');
    assert.equal(s.client.session.inFlight, 1);
    s.release();
    const r = await within(getting, 5000, 'get after the CLOSE was answered');
    assert.equal(r.bytes, data.length, 'the CLOSE succeeded: the download is complete');
    assert.equal(s.client.session.inFlight, 0, 'nothing owed when the call settled');
    // an atomic upload whose signal fires during its CLOSE commits nothing, and its temporary file is removed
    writeFileSync(join(s.local, 'a.bin'), data);
    const ac2 = new AbortController();
    s.state.onClose = () => {
      ac2.abort();
      setImmediate(() => s.release());
    };
    const err = await within(
      s.client
        .put(join(s.local, 'a.bin'), '/a.bin', { atomic: true, signal: ac2.signal, stateDir: join(s.local, 'state') })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
      5000,
      'atomic put',
    );
    assert.equal((err as Error)?.name, 'AbortError');
    s.state.mode = 'answer';
    assert.deepEqual(
      (await s.client.list('/')).map((e) => e.filename).sort(),
      ['g.bin'],
      'no destination, no temporary file',
    );
  } finally {
    await s.done();
  }
});

test('a CLOSE error on the success path fails the transfer; an atomic upload then commits nothing', async () => {
  const s = await setup();
  try {
    writeFileSync(join(s.local, 'up.bin'), 'new contents');
    await s.client.writeFile('/dest.txt', 'old contents');
    s.state.mode = 'fail';
    const err = await s.client
      .put(join(s.local, 'up.bin'), '/dest.txt', { atomic: true, stateDir: join(s.local, 'state') })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof SftpError, `atomic put: ${err}`);
    assert.equal(err.op, 'close');
    s.state.mode = 'answer';
    assert.equal((await s.client.readFile('/dest.txt')).toString(), 'old contents');
    const names = (await s.client.list('/')).map((e) => e.filename);
    assert.deepEqual(names, ['dest.txt'], 'the temporary file was removed');
    s.state.mode = 'fail';
    const e2 = await s.client.get('/dest.txt', join(s.local, 'd.txt'), { atomic: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(e2 instanceof SftpError && e2.op === 'close', `atomic get: ${e2}`);
    assert.deepEqual(readdirSync(s.local), ['up.bin'], 'an atomic get whose CLOSE failed leaves nothing behind');
    const e3 = await s.client.readFile('/dest.txt').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(e3 instanceof SftpError && e3.op === 'close', `readFile: ${e3}`);
  } finally {
    await s.done();
  }
});

test('closeHandle: one abort listener per signal however many wait; resolves as the CLOSE does when the signal stays quiet', async () => {
  const ac = new AbortController();
  const releases: Array<() => void> = [];
  const closer = { close: () => new Promise<void>((r) => releases.push(r)), options: { abortGraceMs: 0 } };
  const waits = Array.from({ length: 50 }, () => closeHandle(closer, Buffer.from('h'), ac.signal));
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  releases[0]!();
  await waits[0];
  for (const r of releases.slice(1, 10)) r();
  await Promise.all(waits.slice(1, 10));
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  ac.abort();
  const rest = await Promise.allSettled(waits.slice(10));
  assert.ok(rest.every((r) => r.status === 'rejected' && (r.reason as Error).name === 'AbortError'));
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  // a close that settles while the signal is quiet takes its listener away
  const quiet = new AbortController();
  await untilAborted(Promise.resolve(7), quiet.signal).then((v) => assert.equal(v, 7));
  await assert.rejects(untilAborted(Promise.reject(new Error('boom')), quiet.signal), /boom/);
  assert.equal(getEventListeners(quiet.signal, 'abort').length, 0);
  // already aborted: the CLOSE is still sent, the caller is not held
  let sent = 0;
  const never = { close: () => (sent++, new Promise<void>(() => {})), options: { abortGraceMs: 5 } };
  await assert.rejects(closeHandle(never, Buffer.from('h'), AbortSignal.abort()), { name: 'AbortError' });
  assert.equal(sent, 1);
});

test('end() does not wait forever for a CLOSE the server never answers: it gives up after stallMs', async () => {
  const s = await setup();
  try {
    await s.client.writeFile('/e.bin', Buffer.alloc(1000, 1));
    s.state.mode = 'stall';
    const handle = await s.client.open('/e.bin', 'r');
    const closing = s.client.close(handle).then(
      () => 'closed',
      (e: SftpError) => e.code,
    );
    await within(s.client.end({ stallMs: 50 }), 5000, 'end() with a stalled CLOSE');
    assert.equal(await closing, 'ECONNRESET', 'the stalled CLOSE rejects as lost when end() gives up on the channel');
  } finally {
    await s.done();
  }
});

test('end() waits for a slow server that keeps answering', async () => {
  const s = await setup();
  try {
    await s.client.writeFile('/slow.bin', Buffer.alloc(1000, 2));
    s.state.mode = 'hold';
    const handle = await s.client.open('/slow.bin', 'r');
    const closing = s.client.close(handle);
    // the CLOSE is released after 30 ms: well within the 200 ms stall allowance
    setTimeout(() => s.release(), 30);
    await within(s.client.end({ stallMs: 200 }), 5000, 'end() with a slow CLOSE');
    await closing; // answered, not rejected
  } finally {
    await s.done();
  }
});
