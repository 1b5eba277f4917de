/**
 * serve()'s options from the transport: `signal` ends a session whose stream will never say so (its
 * transport is gone), and sessions that end leave nothing attached to the transport's signal or
 * output meter, however many come and go on one connection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Duplex } from 'node:stream';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { OutputMeter } from '../../src/server/output-meter.js';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import { RawPeer } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

test('an aborted signal ends a session whose stream never ends: its handles are closed', async () => {
  const server = new SftpServer({ fs: new MemoryFs() });
  const [c, s] = memoryPair();
  // a stream that stays silent from here on: no 'end', no 'close' (like a paused ssh2 channel whose connection died)
  const silent = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      s.write(chunk, cb);
    },
  });
  s.on('data', (d: Buffer) => silent.push(d));
  const gone = new AbortController();
  const served = server.serve(silent, { signal: gone.signal });
  const peer = new RawPeer(c);
  await peer.init();
  const open = await peer.request({
    type: T.OPEN,
    id: 1,
    path: '/f',
    pflags: OpenFlags.WRITE | OpenFlags.CREAT,
    attrs: {},
  });
  assert.equal(open?.type, T.HANDLE);
  assert.equal(server.stats().openHandles, 1);
  assert.equal(server.stats().sessions, 1);
  gone.abort();
  await within(served, 5000, 'the session ending');
  assert.deepEqual(server.stats(), { sessions: 0, openHandles: 0, queuedBytes: 0 });
});

test('50 sessions one after another on one connection leave no listener on its signal or meter', async () => {
  const server = new SftpServer({ fs: new MemoryFs() });
  const gone = new AbortController();
  const connection = new OutputMeter(1 << 20);
  for (let i = 0; i < 50; i++) {
    const [c, s] = memoryPair();
    const served = server.serve(s, { signal: gone.signal, connection });
    const peer = new RawPeer(c);
    await peer.init();
    const r = await peer.request({ type: T.REALPATH, id: 1, path: '.' });
    assert.equal(r?.type, T.NAME);
    c.end();
    await within(served, 5000, `session ${i}`);
  }
  assert.equal(getEventListeners(gone.signal, 'abort').length, 0);
  assert.equal(connection.listenerCount('room'), 0);
  assert.equal(connection.queued, 0);
});
