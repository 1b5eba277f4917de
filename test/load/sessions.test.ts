/**
 * Load: 50 SFTP sessions at once over SSH (the ssh2 server helper on loopback, in its own process),
 * each putting and getting 200 small files. Every byte right (over the wire and on the server's disk),
 * every storage handle released afterwards, all 50 sessions held at the same moment; the server
 * process's RSS is reported.
 */
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SftpClient } from '../../src/client/client.js';
import { within } from '../../bench/lib/peers/streams.js';

const SESSIONS = 50;
const FILES = 200;
const IN_FLIGHT = 16;
const SIZES = [0, 1, 100, 1000, 4096, 8191, 16_384];

interface Stats {
  rss: number;
  peakRss: number;
  heapUsed: number;
  active: number;
  peakActive: number;
  sessions: number;
  openHandles: number;
  filesOpened: number;
  dirsOpened: number;
  maxRunning: number;
}

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-load-'));
let child: ChildProcess | undefined;
after(() => {
  child?.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

function ask<T>(c: ChildProcess, msg: unknown, pick: (m: Record<string, unknown>) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>): void => {
      if (!pick(m)) return;
      c.off('message', on);
      resolve(m as T);
    };
    c.on('message', on);
    if (msg !== undefined) c.send(msg as object);
  });
}

/** The bytes of file j of session i: deterministic, different for every file. */
function content(i: number, j: number): Buffer {
  const size = SIZES[(i * 7 + j) % SIZES.length]!;
  const b = Buffer.alloc(size);
  let x = (i * 1_000_003 + j * 7919 + 1) >>> 0;
  for (let k = 0; k < size; k++) {
    x = (Math.imul(x, 1_103_515_245) + 12345) >>> 0;
    b[k] = x >>> 24;
  }
  return b;
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

test(`${SESSIONS} concurrent SSH sessions, each putting and getting ${FILES} files: every byte right, every handle released`, async () => {
  const root = path.join(base, 'root');
  const local = path.join(base, 'local');
  mkdirSync(root);
  mkdirSync(local);
  const key = generateEd25519KeyPair();
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ssh-server-child.ts');
  child = fork(script, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const c = child;
  await within(
    ask(c, undefined, (m) => m.hello === true),
    30_000,
    'the server process loading',
  );
  const ready = ask<{ port: number }>(c, { root, publicKey: key.public }, (m) => m.ready === true);
  const { port } = await within(ready, 30_000, 'the server process starting');
  const stats = (): Promise<Stats> => ask<Stats>(c, { cmd: 'stats' }, (m) => 'rss' in m);
  const idle = await stats();

  // local sources
  for (let i = 0; i < SESSIONS; i++) {
    mkdirSync(path.join(local, `up${i}`));
    mkdirSync(path.join(local, `down${i}`));
    for (let j = 0; j < FILES; j++) writeFileSync(path.join(local, `up${i}`, `f${j}`), content(i, j));
  }

  // 50 sessions, all connected before any transfer starts
  const clients = await within(
    Promise.all(
      Array.from({ length: SESSIONS }, () =>
        SftpClient.connect({
          host: '127.0.0.1',
          port,
          username: 'load',
          privateKey: key.private,
          readyTimeout: 30_000,
        }),
      ),
    ),
    60_000,
    `${SESSIONS} SSH logins`,
  );
  const held = await stats();
  assert.equal(held.active, SESSIONS, `${held.active} sessions active at once`);

  let bytes = 0;
  await within(
    Promise.all(
      clients.map(async (client, i) => {
        await client.mkdir(`/s${i}`);
        const js = Array.from({ length: FILES }, (_, j) => j);
        await pool(js, IN_FLIGHT, async (j) => {
          const r = await client.put(path.join(local, `up${i}`, `f${j}`), `/s${i}/f${j}`);
          assert.equal(r.bytes, content(i, j).length);
        });
        await pool(js, IN_FLIGHT, async (j) => {
          const dst = path.join(local, `down${i}`, `f${j}`);
          await client.get(`/s${i}/f${j}`, dst);
          const got = readFileSync(dst);
          const want = content(i, j);
          assert.ok(got.equals(want), `session ${i} file ${j}: ${got.length} bytes back, ${want.length} sent`);
          bytes += got.length;
        });
      }),
    ),
    120_000,
    'the transfers',
  );
  const busy = await stats();
  await Promise.all(clients.map((cl) => cl.end()));

  // on the server's disk too
  for (let i = 0; i < SESSIONS; i++) {
    for (let j = 0; j < FILES; j++)
      assert.ok(readFileSync(path.join(root, `s${i}`, `f${j}`)).equals(content(i, j)), `disk: s${i}/f${j}`);
  }
  // every session ended and every storage handle released
  let end = await stats();
  for (let tries = 0; tries < 100 && (end.active > 0 || end.openHandles > 0); tries++) {
    await new Promise((r) => setTimeout(r, 50));
    end = await stats();
  }
  assert.equal(end.active, 0, 'sessions still active after every client ended');
  assert.equal(end.openHandles, 0, 'storage handles still open after every session ended');
  assert.equal(end.sessions, SESSIONS);
  assert.ok(end.filesOpened >= SESSIONS * FILES * 2, `${end.filesOpened} files opened`);

  const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
  console.log(
    `load: ${end.peakActive} sessions held at once, ${SESSIONS * FILES} files put and got (${(bytes / 2 ** 20).toFixed(1)} MiB each way), ` +
      `${end.filesOpened} storage opens, all closed; server RSS idle ${mib(idle.rss)} MiB, with ${SESSIONS} sessions ${mib(held.rss)} MiB, ` +
      `after the transfers ${mib(busy.rss)} MiB, peak ${mib(end.peakRss)} MiB, at the end ${mib(end.rss)} MiB`,
  );
  await ask(c, { cmd: 'close' }, (m) => m.closed === true);
});
