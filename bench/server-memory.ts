/**
 * What hostile or numerous peers make the SSH server process hold. Each scenario runs against a fresh
 * server in a child process (lib/peers/bounds-server-child.ts, default limits); its VmRSS and VmHWM (peak)
 * are read from /proc/PID/status:
 *
 *   window flood   one peer raises its channel window to 2^32-1, stops reading TCP, sends 2 MiB of
 *                  255 KiB READs (some 18 GiB asked for)
 *   0-byte flood   one peer never reads its channel (window shut) and sends 800,000 0-byte READs/WRITEs
 *   300 unauth     300 sockets that never authenticate (half silent, half sending a banner a byte at a
 *                  time), then one real login and a REALPATH
 *   300 sessions   30 connections x 10 SFTP sessions, each with a file open after writing and reading
 *                  64 KiB
 *
 *   node --import tsx bench/server-memory.ts [--seconds 10] [--only window,zero,unauth,sessions]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OpenFlags, PacketType as T, type Packet } from '../src/protocol/index.js';
import {
  openSftp,
  openWindowWide,
  rawSocket,
  sleep,
  sshLogin,
  startServerChild,
  writeRequests,
  type ServerChild,
  type SshPeer,
} from './lib/peers/hostile-peer.js';
import type { RawPeer } from './lib/peers/raw-peer.js';
import { procMemory as procStatus } from './lib/process-timing.js';
import { MiB } from './lib/stats.js';
import { renderTable } from './lib/text-table.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    only: { type: 'string', default: 'window,zero,unauth,sessions' },
  },
});
const SECONDS = Number(values.seconds);
const ONLY = new Set(values.only!.split(','));
/** A scenario stops early when the server passes this (a server without the bounds would not stop). */
const RSS_CAP = 3 * 1024 * MiB;

interface Row {
  scenario: string;
  idleRss: number;
  rss: number;
  hwm: number;
  queued?: number;
  note: string;
}

/**
 * Wait until the server counts half its 16 MiB bound queued (at most 60 s: a flood of tiny requests
 * takes a while to fill the peer's window first; a server without the bounds never reports it),
 * then sample its RSS for `seconds` more (or until the cap); returns the last reading.
 */
async function hold(server: ServerChild, seconds: number): Promise<{ rss: number; hwm: number; queued?: number }> {
  const fillBy = Date.now() + 60_000;
  while (
    Date.now() < fillBy &&
    ((await server.stats()).ssh?.queuedBytes ?? 0) < 8 * MiB &&
    procStatus(server.pid).rss < RSS_CAP
  )
    await sleep(250);
  const until = Date.now() + seconds * 1000;
  let queued: number | undefined;
  while (Date.now() < until) {
    const s = await server.stats();
    queued = Math.max(queued ?? 0, s.ssh?.queuedBytes ?? 0);
    if (procStatus(server.pid).rss > RSS_CAP) break;
    await sleep(250);
  }
  return { ...procStatus(server.pid), queued };
}

async function openHandle(raw: RawPeer, name: string, pflags: number = OpenFlags.READ): Promise<Buffer> {
  const r = await raw.request({ type: T.OPEN, id: 1, path: `/${name}`, pflags, attrs: {} });
  if (r?.type !== T.HANDLE) throw new Error(`open ${name}: ${JSON.stringify(r)}`);
  return r.handle;
}

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-server-memory-'));

async function scenario(
  name: string,
  run: (server: ServerChild, root: string) => Promise<Omit<Row, 'scenario' | 'idleRss'>>,
): Promise<Row> {
  const root = path.join(base, name.replace(/\W+/g, '-'));
  mkdirSync(root);
  writeFileSync(path.join(root, 'big'), Buffer.alloc(MiB, 5));
  const server = await startServerChild({ root }, { gc: false });
  try {
    await sleep(500);
    const idleRss = procStatus(server.pid).rss;
    return { scenario: name, idleRss, ...(await run(server, root)) };
  } finally {
    await server.close();
  }
}

const rows: Row[] = [];

if (ONLY.has('window')) {
  rows.push(
    await scenario('window flood', async (server) => {
      const peer = await sshLogin(server.port);
      const { channel, raw } = await openSftp(peer);
      const handle = await openHandle(raw, 'big');
      openWindowWide(peer, channel);
      peer.socket.pause();
      function* reads(): Generator<Packet> {
        for (let i = 0; i < 70_000; i++) yield { type: T.READ, id: 10 + i, handle, offset: 0, length: 261_120 };
      }
      writeRequests(channel, reads());
      const r = await hold(server, SECONDS);
      peer.socket.destroy();
      return { ...r, note: `${SECONDS} s at the bound after 70,000 READs of 255 KiB` };
    }),
  );
}

if (ONLY.has('zero')) {
  rows.push(
    await scenario('0-byte flood', async (server) => {
      const peer = await sshLogin(server.port);
      const { channel, raw } = await openSftp(peer);
      const handle = await openHandle(raw, 'big');
      channel.pause();
      function* flood(): Generator<Packet> {
        for (let i = 0; i < 800_000; i++) {
          yield i % 2 === 0
            ? { type: T.READ, id: 100 + i, handle, offset: 0, length: 0 }
            : { type: T.WRITE, id: 100 + i, handle, offset: 0, data: Buffer.alloc(0) };
        }
      }
      writeRequests(channel, flood());
      const r = await hold(server, SECONDS);
      peer.socket.destroy();
      return { ...r, note: `${SECONDS} s at the bound after 800,000 0-byte READs/WRITEs` };
    }),
  );
}

if (ONLY.has('unauth')) {
  rows.push(
    await scenario('300 unauth + 1 login', async (server) => {
      const crowd = [];
      for (let i = 0; i < 300; i++) {
        crowd.push(
          i % 2 === 0 ? rawSocket(server.port) : rawSocket(server.port, { banner: 'SSH-2.0-slowly', everyMs: 500 }),
        );
        if (i % 50 === 49) await sleep(50);
      }
      await sleep(2000);
      let note: string;
      try {
        const peer = await sshLogin(server.port, 20_000);
        const { raw } = await openSftp(peer);
        const rp = await raw.request({ type: T.REALPATH, id: 1, path: '.' });
        note = rp?.type === T.NAME ? 'the real login worked' : 'the real login got no REALPATH answer';
        peer.client.end();
      } catch (err) {
        note = `the real login failed: ${(err as Error).message}`;
      }
      const s = await server.stats();
      const r = procStatus(server.pid);
      for (const c of crowd) c.socket.destroy();
      return {
        ...r,
        note: `${note}; ${s.ssh?.connections ?? '?'} connections, ${s.ssh?.unauthenticated ?? '?'} unauthenticated held`,
      };
    }),
  );
}

if (ONLY.has('sessions')) {
  rows.push(
    await scenario('300 sessions', async (server) => {
      const peers: SshPeer[] = [];
      let sessions = 0;
      const payload = Buffer.alloc(64 * 1024, 9);
      await Promise.all(
        Array.from({ length: 30 }, async (_, c) => {
          const peer = await sshLogin(server.port, 60_000);
          peers.push(peer);
          for (let k = 0; k < 10; k++) {
            const { raw } = await openSftp(peer);
            const h = await openHandle(raw, `f-${c}-${k}`, OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT);
            await raw.request({ type: T.WRITE, id: 2, handle: h, offset: 0, data: payload });
            const d = await raw.request({ type: T.READ, id: 3, handle: h, offset: 0, length: payload.length });
            if (d?.type !== T.DATA || d.data.length !== payload.length) throw new Error('read back failed');
            sessions++;
          }
        }),
      );
      const s = await server.stats();
      const r = procStatus(server.pid);
      for (const p of peers) p.socket.destroy();
      return { ...r, note: `${sessions} sessions, ${s.sftp?.openHandles ?? '?'} handles open` };
    }),
  );
}

rmSync(base, { recursive: true, force: true });
const mib = (n: number | undefined): string => (n === undefined ? '-' : (n / MiB).toFixed(1));
console.log(
  renderTable(
    ['scenario', 'idle RSS MiB', 'RSS MiB', 'peak (VmHWM) MiB', 'max counted MiB', 'note'],
    rows.map((r) => [r.scenario, mib(r.idleRss), mib(r.rss), mib(r.hwm), mib(r.queued), r.note]),
    { align: ['l', 'r', 'r', 'r', 'r', 'l'] },
  ),
);
process.exit(0);
