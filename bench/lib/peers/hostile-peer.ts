/**
 * Peers of the load tests and bench/server-memory.ts: the server of bounds-server-child.ts in its own
 * process, and SSH peers on real loopback sockets that misbehave: raise their channel window and stop
 * reading, open many channels, send nothing, or send their banner one byte at a time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { encodePacketToBuffer, type Packet } from '../../../src/protocol/index.js';
import { RawPeer } from './raw-peer.js';
import { within } from './streams.js';
import type { BoundsChildConfig, BoundsChildStats } from './bounds-server-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bounds-server-child.ts');

export interface ServerChild {
  port: number;
  pid: number;
  child: ChildProcess;
  stats(): Promise<BoundsChildStats>;
  close(): Promise<void>;
}

function ask<T>(c: ChildProcess, msg: unknown, pick: (m: Record<string, unknown>) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: Record<string, unknown>): void => {
      if (!pick(m)) return;
      c.off('message', on);
      c.off('exit', gone);
      resolve(m as T);
    };
    const gone = (): void => reject(new Error('the server process exited'));
    c.on('message', on);
    c.once('exit', gone);
    if (msg !== undefined) c.send(msg as object);
  });
}

/**
 * Start the server in a child process. With `gc` (the default) each stats reading follows a full
 * garbage collection, so heapUsed and arrayBuffers are what is live, not garbage awaiting collection.
 */
export async function startServerChild(cfg: BoundsChildConfig, opts: { gc?: boolean } = {}): Promise<ServerChild> {
  const execArgv = ['--import', 'tsx', ...(opts.gc === false ? [] : ['--expose-gc'])];
  const child = fork(CHILD, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await within(
    ask(child, undefined, (m) => m.hello === true),
    30_000,
    'the server process loading',
  );
  const { port } = await within(
    ask<{ port: number }>(child, cfg, (m) => m.ready === true),
    30_000,
    'the server process starting',
  );
  return {
    port,
    pid: child.pid!,
    child,
    stats: () =>
      within(
        ask<BoundsChildStats>(child, { cmd: 'stats' }, (m) => 'rss' in m),
        30_000,
        'stats',
      ),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface SshPeer {
  client: ssh2.Client;
  /** The TCP socket under the SSH connection (ours: pause it to stop reading). */
  socket: net.Socket;
  /** Resolves when the connection is closed (either side). */
  closed: Promise<void>;
}

/** Log in as u/p over a socket of our own. */
export async function sshLogin(port: number, timeoutMs = 30_000): Promise<SshPeer> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const client = new ssh2.Client();
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  client.on('error', () => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.once('close', () => reject(new Error('closed before login')));
  });
  client.connect({ sock: socket, username: 'u', password: 'p', readyTimeout: timeoutMs });
  await within(ready, timeoutMs, 'ssh login');
  return { client, socket, closed };
}

/** Open an `sftp` subsystem channel and do INIT/VERSION on it. */
export async function openSftp(peer: SshPeer): Promise<{ channel: ClientChannel; raw: RawPeer }> {
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    peer.client.subsys('sftp', (err, ch) => (err ? reject(err) : resolve(ch)));
  });
  const raw = new RawPeer(channel);
  const v = await within(raw.init(), 10_000, 'VERSION');
  if (!v) throw new Error('no VERSION');
  return { channel, raw };
}

interface ChannelInternals {
  outgoing: { id: number };
}
interface ClientInternals {
  _protocol: { channelWindowAdjust(id: number, amount: number): void };
}

/** Grow the window we give the server on `channel` to 2^32-1 bytes: it may send us that much unasked. */
export function openWindowWide(peer: SshPeer, channel: ClientChannel): void {
  const id = (channel as unknown as ChannelInternals).outgoing.id;
  (peer.client as unknown as ClientInternals)._protocol.channelWindowAdjust(id, 2 ** 32 - 1 - 2 * 1024 * 1024);
}

/** Many requests written at once (one buffer: ssh2 cuts it into packets within the server's window). */
export function writeRequests(channel: ClientChannel, packets: Iterable<Packet>): number {
  const bufs: Buffer[] = [];
  let n = 0;
  for (const p of packets) {
    bufs.push(encodePacketToBuffer(p));
    n++;
  }
  channel.write(Buffer.concat(bufs));
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll the server's stats until `settled` says it is done or the figures stop changing for
 * `stableMs`; returns every sample. Bounded by `maxMs`.
 */
export async function watch(
  server: ServerChild,
  settled: (s: BoundsChildStats) => boolean,
  opts: { stableMs?: number; maxMs?: number; everyMs?: number; key?: (s: BoundsChildStats) => string } = {},
): Promise<BoundsChildStats[]> {
  const samples: BoundsChildStats[] = [];
  const every = opts.everyMs ?? 200;
  const stableMs = opts.stableMs ?? 2000;
  const key =
    opts.key ??
    ((s) =>
      `${s.ssh?.socketBytes}|${s.ssh?.queuedBytes}|${s.sftp?.queuedBytes}|${Math.round((s.heapUsed + s.arrayBuffers) / (8 * 1024 * 1024))}`);
  const start = Date.now();
  let lastKey = '';
  let since = Date.now();
  while (Date.now() - start < (opts.maxMs ?? 30_000)) {
    const s = await server.stats();
    samples.push(s);
    if (settled(s)) break;
    const k = key(s);
    if (k !== lastKey) {
      lastKey = k;
      since = Date.now();
    } else if (Date.now() - since >= stableMs) break;
    await sleep(every);
  }
  return samples;
}

/**
 * Watch a flood: until `reached` (the server is at its bound) or `overgrown` (it has failed to stop),
 * then on until the figures are stable for 3 s, so that growth past the bound would be seen. Every
 * sample is returned; bounded by `maxMs`.
 */
export async function watchFlood(
  server: ServerChild,
  reached: (s: BoundsChildStats) => boolean,
  overgrown: (s: BoundsChildStats) => boolean,
  maxMs = 60_000,
): Promise<BoundsChildStats[]> {
  const start = Date.now();
  const first = await watch(server, (s) => reached(s) || overgrown(s), { maxMs, stableMs: maxMs });
  const last = first[first.length - 1]!;
  if (overgrown(last) || !reached(last)) return first;
  const rest = await watch(server, overgrown, { maxMs: Math.max(5000, maxMs - (Date.now() - start)), stableMs: 3000 });
  return [...first, ...rest];
}

/** A raw TCP socket that never sends a byte (or sends `banner` one byte every `everyMs`). */
export function rawSocket(
  port: number,
  trickle?: { banner: string; everyMs: number },
): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  if (trickle) {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      if (socket.connecting) return;
      socket.write(trickle.banner[i % trickle.banner.length]!);
      i++;
    }, trickle.everyMs);
    socket.once('close', () => clearInterval(timer));
  }
  return { socket, closed };
}
