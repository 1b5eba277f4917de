/**
 * A peer that sends channel data past the window the server granted (ssh2 accepts it: it only checks
 * for a window of exactly 0) while the session is paused would have it buffered without limit. Server
 * in its own process, peer on a real loopback socket: the connection is closed instead.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import { encodePacketToBuffer } from '../../src/protocol/packets.js';
import { openSftp, sshLogin, startServerChild, watch, type ServerChild } from '../../bench/lib/peers/hostile-peer.js';

const MiB = 1024 * 1024;
const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-overrun-'));
const servers: ServerChild[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});

test('data sent past the channel window while the session is paused closes the connection; memory stays put', async (t) => {
  const root = path.join(base, 'root');
  mkdirSync(root);
  writeFileSync(path.join(root, 'big'), Buffer.alloc(MiB, 1));
  const server = await startServerChild({ root });
  servers.push(server);
  const peer = await sshLogin(server.port);
  const { channel, raw } = await openSftp(peer);
  const r = await raw.request({ type: T.OPEN, id: 1, path: '/big', pflags: OpenFlags.READ, attrs: {} });
  assert.equal(r?.type, T.HANDLE);
  const handle = r!.type === T.HANDLE ? r!.handle : Buffer.alloc(0);
  const idle = await server.stats();
  // stop reading: the session fills its bound and pauses
  peer.socket.pause();
  // then ignore the window the server grants and send 64 MiB of requests, in packets of 10,000 bytes
  // (the window never comes to exactly 0, where ssh2 would drop them)
  (channel as unknown as { outgoing: { window: number } }).outgoing.window = 2 ** 32 - 1;
  const flood = Buffer.concat(
    Array.from({ length: Math.floor((64 * MiB) / 29) }, (_, i) =>
      encodePacketToBuffer({ type: T.READ, id: 10 + i, handle, offset: 0, length: 261_120 }),
    ),
  );
  for (let at = 0; at < flood.length; at += 10_000) channel.write(flood.subarray(at, at + 10_000));
  const samples = await watch(
    server,
    (s) => s.ssh?.connections === 0 || s.arrayBuffers - idle.arrayBuffers > 512 * MiB,
    {
      maxMs: 30_000,
      stableMs: 5000,
    },
  );
  const last = samples[samples.length - 1]!;
  const grown = Math.max(...samples.map((s) => s.arrayBuffers + s.heapUsed)) - (idle.arrayBuffers + idle.heapUsed);
  t.diagnostic(`grew by ${grown} B; ${JSON.stringify(last.ssh)}`);
  // the 64 MiB sent are not all held (the session's own bound is 16 MiB, the channel's buffer 4 MiB)
  assert.ok(grown < 64 * MiB, `grew by ${grown} bytes`);
  assert.equal(last.ssh?.connections, 0, 'the connection was closed');
  assert.ok(
    last.logs.some((l) => l.includes('past its channel window')),
    `logged: ${last.logs}`,
  );
  const end = await watch(server, (s) => s.sftp?.sessions === 0 && s.storageHandles === 0, { maxMs: 20_000 });
  assert.equal(end[end.length - 1]!.storageHandles, 0);
});
