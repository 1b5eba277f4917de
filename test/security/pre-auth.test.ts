/**
 * Before authentication a peer has proved nothing: connections not authenticated yet are capped
 * (maxStartups, the oldest closed to admit a new one) and each has a deadline from accept to the end
 * of authentication that traffic does not extend (loginGraceMs, as OpenSSH's LoginGraceTime). Server
 * in its own process, peers on real loopback sockets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PacketType as T } from '../../src/protocol/constants.js';
import * as sshServer from '../../src/transport/ssh-server.js';
import {
  openSftp,
  rawSocket,
  sleep,
  sshLogin,
  startServerChild,
  watch,
  type ServerChild,
} from '../../bench/lib/peers/hostile-peer.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-preauth-'));
const servers: ServerChild[] = [];
const sockets: Array<ReturnType<typeof rawSocket>> = [];
after(async () => {
  for (const s of sockets) s.socket.destroy();
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});

test('300 idle and trickling unauthenticated sockets: a real client still logs in and works', async () => {
  const root = path.join(base, 'crowd');
  mkdirSync(root);
  // the defaults: maxConnections 256, maxStartups 64, login grace 120 s
  const server = await startServerChild({ root });
  servers.push(server);
  const crowd: Array<ReturnType<typeof rawSocket>> = [];
  for (let i = 0; i < 300; i++) {
    const s =
      i % 2 === 0 ? rawSocket(server.port) : rawSocket(server.port, { banner: 'SSH-2.0-slowly-slowly', everyMs: 500 });
    crowd.push(s);
    sockets.push(s);
    if (i % 50 === 49) await sleep(50);
  }
  await watch(server, () => false, {
    maxMs: 10_000,
    stableMs: 1000,
    key: (s) => `${s.ssh?.connections}|${s.ssh?.unauthenticated}`,
  });
  const before = await server.stats();
  const peer = await sshLogin(server.port, 20_000);
  const { raw } = await openSftp(peer);
  const rp = await raw.request({ type: T.REALPATH, id: 1, path: '.' });
  assert.equal(rp?.type, T.NAME);
  const after = await server.stats();
  assert.ok(
    before.ssh && before.ssh.unauthenticated <= 64,
    `unauthenticated connections held: ${JSON.stringify(before.ssh)}`,
  );
  assert.ok(after.ssh && after.ssh.connections <= 65, `connections: ${JSON.stringify(after.ssh)}`);
  const alive = crowd.filter((s) => !s.socket.destroyed).length;
  assert.ok(alive <= 64, `the crowd kept ${alive} sockets open`);
  assert.ok(
    before.logs.some((l) => l.includes('maxStartups')),
    `logged: ${before.logs.slice(0, 5)}`,
  );
  peer.client.end();
  assert.equal((sshServer as Record<string, unknown>).DEFAULT_MAX_STARTUPS, 64);
});

test('a crowd that keeps reconnecting and sends nothing cannot evict a client that has sent its version line', async () => {
  const root = path.join(base, 'churn');
  mkdirSync(root);
  const server = await startServerChild({ root, maxStartups: 16 });
  servers.push(server);
  let stop = false;
  let opened = 0;
  const churn = async (): Promise<void> => {
    while (!stop) {
      const s = rawSocket(server.port);
      opened++;
      sockets.push(s);
      await s.closed;
    }
  };
  const crowd = Array.from({ length: 40 }, () => churn());
  await sleep(500);
  let logins = 0;
  try {
    for (let i = 0; i < 3; i++) {
      const peer = await sshLogin(server.port, 20_000);
      const { raw } = await openSftp(peer);
      assert.equal((await raw.request({ type: T.REALPATH, id: 1, path: '.' }))?.type, T.NAME);
      logins++;
      peer.client.end();
    }
  } finally {
    stop = true;
    for (const s of sockets) s.socket.destroy();
    await Promise.all(crowd);
  }
  assert.equal(logins, 3);
  assert.ok(opened > 40 * 3, `the crowd did churn: ${opened} sockets`);
});

test('login grace: a peer sending its banner a byte at a time (more often than the idle timeout) is closed at the deadline', async () => {
  const root = path.join(base, 'grace');
  mkdirSync(root);
  const server = await startServerChild({ root, loginGraceMs: 1500, idleTimeoutMs: 1000 });
  servers.push(server);
  const trickler = rawSocket(server.port, { banner: 'SSH-2.0-one-byte-at-a-time-forever', everyMs: 200 });
  sockets.push(trickler);
  const idle = rawSocket(server.port);
  sockets.push(idle);
  const started = Date.now();
  const outcome = await Promise.race([
    trickler.closed.then(() => 'closed'),
    sleep(20_000).then(() => 'still open after 20 s'),
  ]);
  assert.equal(outcome, 'closed');
  assert.ok(Date.now() - started >= 1000, 'not before the deadline');
  await Promise.race([idle.closed, sleep(20_000)]);
  assert.ok(idle.socket.destroyed, 'an idle socket is closed too');
  // a real client that logs in within the deadline is not touched by it
  const peer = await sshLogin(server.port);
  const { raw } = await openSftp(peer);
  for (let i = 0; i < 4; i++) {
    assert.equal((await raw.request({ type: T.REALPATH, id: 10 + i, path: '.' }))?.type, T.NAME);
    await sleep(600);
  }
  const s = await server.stats();
  assert.equal(s.ssh?.connections, 1);
  assert.ok(
    s.logs.some((l) => l.includes('loginGraceMs')),
    `logged: ${s.logs}`,
  );
  peer.client.end();
  assert.equal((sshServer as Record<string, unknown>).DEFAULT_LOGIN_GRACE_MS, 120_000);
});
