/**
 * What a peer that stops reading can make the server hold, with the server in its own process and the
 * peer on a real loopback socket: the peer logs in, raises its channel window to 2^32-1 (so ssh2
 * writes every reply straight to the socket), stops reading TCP and floods requests. The server must
 * stop taking requests when the connection has its bound queued, counting each queued write at least
 * WRITE_OVERHEAD bytes, and give everything back when the peer goes.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import { WRITE_OVERHEAD } from '../../src/server/output-meter.js';
import {
  openSftp,
  openWindowWide,
  sshLogin,
  startServerChild,
  watch,
  watchFlood,
  writeRequests,
  type ServerChild,
} from '../../bench/lib/peers/hostile-peer.js';

const MiB = 1024 * 1024;
/** The server's default maxOutputBuffer. */
const BOUND = 16 * MiB;
/** The server's default maxRead, what one READ can add once the bound is reached. */
const MAX_READ = 261_120;

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-bounds-'));
const servers: ServerChild[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});

async function openHandle(raw: Awaited<ReturnType<typeof openSftp>>['raw'], name: string): Promise<Buffer> {
  const r = await raw.request({ type: T.OPEN, id: 1, path: `/${name}`, pflags: OpenFlags.READ, attrs: {} });
  assert.equal(r?.type, T.HANDLE, `open ${name}: ${JSON.stringify(r)}`);
  return r!.type === T.HANDLE ? r!.handle : Buffer.alloc(0);
}

function* reads(handle: Buffer, count: number, length: number, firstId: number): Generator<Packet> {
  for (let i = 0; i < count; i++) yield { type: T.READ, id: firstId + i, handle, offset: 0, length };
}

test('window flood: a peer with a 4 GiB window that stops reading gets at most the bound queued on its socket', async (t) => {
  const root = path.join(base, 'flood');
  (await import('node:fs')).mkdirSync(root);
  writeFileSync(path.join(root, 'big'), Buffer.alloc(1 * MiB, 7));
  const server = await startServerChild({ root });
  servers.push(server);
  const peer = await sshLogin(server.port);
  const { channel, raw } = await openSftp(peer);
  const handle = await openHandle(raw, 'big');
  const idle = await server.stats();
  openWindowWide(peer, channel);
  peer.socket.pause();
  // 2 MiB of READs (what the server's window lets in): some 18 GiB of replies asked for
  writeRequests(channel, reads(handle, 70_000, MAX_READ, 10));
  const samples = await watchFlood(
    server,
    (s) => (s.ssh?.queuedBytes ?? 0) >= BOUND / 2,
    (s) => s.arrayBuffers - idle.arrayBuffers > 64 * MiB,
  );
  const worstSocket = Math.max(...samples.map((s) => s.ssh?.socketBytes ?? Infinity));
  const worstQueued = Math.max(...samples.map((s) => s.ssh?.queuedBytes ?? Infinity));
  const worstBuffers = Math.max(...samples.map((s) => s.arrayBuffers)) - idle.arrayBuffers;
  const last = samples[samples.length - 1]!;
  t.diagnostic(
    `worst: socket ${worstSocket} B, counted ${worstQueued} B, buffers +${worstBuffers} B; peak RSS ${last.hwm} B`,
  );
  assert.ok(worstBuffers < 64 * MiB, `buffers grew by ${worstBuffers} bytes`);
  assert.ok(last.ssh && last.ssh.socketBytes > 4 * MiB, `the flood did fill the socket: ${JSON.stringify(last.ssh)}`);
  // the bound, plus what one READ adds once reached, plus the requests of other packets
  assert.ok(
    worstQueued <= BOUND + 2 * (MAX_READ + WRITE_OVERHEAD),
    `counted on the connection at worst ${worstQueued}`,
  );
  assert.ok(worstSocket <= BOUND + 2 * MAX_READ, `queued on the socket at worst ${worstSocket} bytes`);
  // the peer goes: everything it held is given back
  peer.socket.destroy();
  const end = await watch(server, (s) => s.ssh?.connections === 0 && s.sftp?.sessions === 0 && s.storageHandles === 0, {
    maxMs: 20_000,
  });
  const fin = end[end.length - 1]!;
  assert.deepEqual(
    {
      connections: fin.ssh?.connections,
      queued: fin.ssh?.queuedBytes,
      sessions: fin.sftp?.sessions,
      sftpQueued: fin.sftp?.queuedBytes,
      handles: fin.storageHandles,
    },
    { connections: 0, queued: 0, sessions: 0, sftpQueued: 0, handles: 0 },
  );
});

test('0-byte flood: with its channel window shut, tiny replies count at least WRITE_OVERHEAD each; the session stays within its bound', async (t) => {
  const root = path.join(base, 'tiny');
  (await import('node:fs')).mkdirSync(root);
  writeFileSync(path.join(root, 'f'), Buffer.alloc(4096, 1));
  const server = await startServerChild({ root });
  servers.push(server);
  const peer = await sshLogin(server.port);
  const { channel, raw } = await openSftp(peer);
  const handle = await openHandle(raw, 'f');
  const idle = await server.stats();
  // the peer reads TCP (so it sees the server's window adjusts and keeps sending) but never reads
  // the channel: once the 2 MiB window it gave is used up, replies queue in the server's channel
  channel.pause();
  function* flood(): Generator<Packet> {
    for (let i = 0; i < 800_000; i++) {
      yield i % 2 === 0
        ? { type: T.READ, id: 100 + i, handle, offset: 0, length: 0 }
        : { type: T.WRITE, id: 100 + i, handle, offset: 0, data: Buffer.alloc(0) };
    }
  }
  const sent = writeRequests(channel, flood());
  const samples = await watchFlood(
    server,
    (s) => (s.sftp?.queuedBytes ?? 0) >= BOUND / 2,
    (s) => s.heapUsed + s.arrayBuffers - (idle.heapUsed + idle.arrayBuffers) > 48 * MiB,
  );
  const worstSession = Math.max(...samples.map((s) => s.sftp?.queuedBytes ?? Infinity));
  const grown = Math.max(...samples.map((s) => s.heapUsed + s.arrayBuffers)) - (idle.heapUsed + idle.arrayBuffers);
  const last = samples[samples.length - 1]!;
  t.diagnostic(
    `sent ${sent}; worst counted in the session ${worstSession} B, heap+buffers +${grown} B; peak RSS ${last.hwm} B`,
  );
  assert.ok(grown < 48 * MiB, `heap and buffers (live, after GC) grew by ${grown} bytes`);
  assert.ok(
    last.sftp && last.sftp.queuedBytes >= BOUND / 2,
    `the flood reached the bound: ${JSON.stringify(last.sftp)}`,
  );
  // the bound, plus the in-flight requests' reservations
  assert.ok(worstSession <= BOUND + 64 * WRITE_OVERHEAD, `counted in the session at worst ${worstSession}`);
  peer.socket.destroy();
  const end = await watch(server, (s) => s.ssh?.connections === 0 && s.sftp?.sessions === 0 && s.storageHandles === 0, {
    maxMs: 20_000,
  });
  const fin = end[end.length - 1]!;
  assert.equal(fin.sftp?.sessions, 0);
  assert.equal(fin.storageHandles, 0);
});
