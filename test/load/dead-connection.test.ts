/**
 * A session paused at its output bound (waiting for a drain that will never come) whose connection
 * dies: it must still shut down. Server in its own process, peer on a real loopback socket that stops
 * reading and is then reset: every storage handle is closed and the atomic upload's temporary file is
 * removed (mode "atomic"), not left for the garbage collector or forever.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import {
  openSftp,
  sshLogin,
  startServerChild,
  watch,
  watchFlood,
  writeRequests,
  type ServerChild,
} from '../../bench/lib/peers/hostile-peer.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-dead-'));
const servers: ServerChild[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});

test('a connection reset while its session is paused: the session shuts down, handles closed, atomic temporary removed', async (t) => {
  const root = path.join(base, 'root');
  mkdirSync(root);
  writeFileSync(path.join(root, 'big'), Buffer.alloc(1024 * 1024, 3));
  const server = await startServerChild({ root, atomicUploads: 'atomic' });
  servers.push(server);
  const peer = await sshLogin(server.port);
  const { channel, raw } = await openSftp(peer);
  const up = await raw.request({
    type: T.OPEN,
    id: 1,
    path: '/upload.bin',
    pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
    attrs: {},
  });
  assert.equal(up?.type, T.HANDLE);
  const upHandle = up!.type === T.HANDLE ? up!.handle : Buffer.alloc(0);
  const w = await raw.request({ type: T.WRITE, id: 2, handle: upHandle, offset: 0, data: Buffer.alloc(10_000, 9) });
  assert.equal(w?.type === T.STATUS && w.code, StatusCode.OK);
  const rd = await raw.request({ type: T.OPEN, id: 3, path: '/big', pflags: OpenFlags.READ, attrs: {} });
  assert.equal(rd?.type, T.HANDLE);
  const handle = rd!.type === T.HANDLE ? rd!.handle : Buffer.alloc(0);
  const during = readdirSync(root).sort();
  assert.equal(during.length, 2, `the upload's temporary exists under a hidden name: ${during}`);
  assert.ok(!during.includes('upload.bin'), 'nothing under the final name before CLOSE');

  // stop reading; ask for far more than the bound: the session pauses, waiting for room
  const idle = await server.stats();
  peer.socket.pause();
  function* reads(): Generator<Packet> {
    for (let i = 0; i < 60_000; i++) yield { type: T.READ, id: 10 + i, handle, offset: 0, length: 261_120 };
  }
  writeRequests(channel, reads());
  const paused = await watchFlood(
    server,
    (s) => (s.sftp?.queuedBytes ?? 0) >= 8 * 1024 * 1024 || s.arrayBuffers - idle.arrayBuffers >= 12 * 1024 * 1024,
    () => false,
    30_000,
  );
  const at = paused[paused.length - 1]!;
  t.diagnostic(`paused with ${at.sftp?.queuedBytes} B counted, ${at.storageHandles} storage handles`);
  assert.equal(at.storageHandles, 2, 'both files open while paused');

  peer.socket.resetAndDestroy();
  const end = await watch(server, (s) => s.storageHandles === 0 && readdirSync(root).length === 1, {
    maxMs: 20_000,
    stableMs: 5000,
  });
  const fin = end[end.length - 1]!;
  assert.equal(fin.storageHandles, 0, 'every storage handle closed');
  assert.deepEqual(readdirSync(root), ['big'], 'the abandoned upload left nothing behind');
  assert.equal(fin.sftp?.sessions, 0);
  assert.equal(fin.sftp?.openHandles, 0);
  assert.equal(fin.ssh?.connections, 0);
  assert.equal(fin.ssh?.queuedBytes, 0);
});
