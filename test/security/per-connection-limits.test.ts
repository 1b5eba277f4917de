/**
 * One client must not take what the process has for everyone: session channels per connection
 * (maxSessions, default 10 as OpenSSH's MaxSessions) and file handles across all sessions
 * (limits.maxServerHandles), which are refused with a FAILURE the client reads as EMFILE. Server in its
 * own process, clients on real loopback sockets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { SftpError } from '../../src/protocol/errors.js';
import * as sshServer from '../../src/transport/ssh-server.js';
import * as options from '../../src/server/options.js';
import { openSftp, sshLogin, startServerChild, watch, type ServerChild } from '../../bench/lib/peers/hostile-peer.js';

const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-limits-'));
const servers: ServerChild[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});

test('maxSessions: the 11th session channel on one connection is refused; a closed one frees its slot; other connections unaffected', async () => {
  const root = path.join(base, 'sessions');
  mkdirSync(root);
  const server = await startServerChild({ root });
  servers.push(server);
  const peer = await sshLogin(server.port);
  const open = [];
  for (let i = 0; i < 10; i++) open.push(await openSftp(peer));
  await assert.rejects(openSftp(peer), /open failure|prohibited|refused|failure/i, 'the 11th channel');
  const s = await server.stats();
  assert.equal(s.ssh?.sessions, 10);
  assert.equal(s.sftp?.sessions, 10);
  // another connection has its own 10
  const other = await sshLogin(server.port);
  await openSftp(other);
  // closing one channel frees a slot on its connection
  open[0]!.channel.close();
  await watch(server, (st) => st.ssh?.sessions === 10, { maxMs: 10_000 });
  await openSftp(peer);
  assert.ok(
    s.logs.some((l) => l.includes('maxSessions')),
    `logged: ${s.logs}`,
  );
  peer.client.end();
  other.client.end();
  assert.equal((sshServer as Record<string, unknown>).DEFAULT_MAX_SESSIONS, 10, 'the default, as OpenSSH');
});

test('maxServerHandles: past the server-wide budget OPEN and OPENDIR fail with EMFILE, whichever session asks; closing one frees one', async () => {
  const root = path.join(base, 'handles');
  mkdirSync(root);
  for (let i = 0; i < 40; i++) writeFileSync(path.join(root, `f${i}`), `file ${i}`);
  const server = await startServerChild({ root, limits: { maxServerHandles: 25, maxOpenHandles: 1024 } });
  servers.push(server);
  const clients: SftpClient[] = [];
  const peers = [await sshLogin(server.port), await sshLogin(server.port)];
  for (const peer of peers) {
    for (let i = 0; i < 2; i++) {
      const { channel } = await new Promise<{ channel: import('ssh2').ClientChannel }>((resolve, reject) =>
        peer.client.subsys('sftp', (err, ch) => (err ? reject(err) : resolve({ channel: ch }))),
      );
      clients.push(await SftpClient.fromStream(channel));
    }
  }
  const handles: Array<{ client: SftpClient; handle: Buffer }> = [];
  // four sessions on two connections take 24 handles between them
  for (let i = 0; i < 24; i++) {
    const client = clients[i % clients.length]!;
    handles.push({ client, handle: i % 6 === 5 ? await client.opendir('/') : await client.open(`/f${i}`, 'r') });
  }
  handles.push({ client: clients[0]!, handle: await clients[0]!.open('/f30', 'r') });
  const full = await server.stats();
  assert.equal(full.storageHandles, 25);
  for (const [i, client] of clients.entries()) {
    const err = await client.open(`/f${31 + i}`, 'r').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SftpError, `session ${i}: refused (${err})`);
    assert.equal(err.code, 'EMFILE');
    assert.match(err.message, /too many open files/);
    const dirErr = await client.opendir('/').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(dirErr instanceof SftpError && dirErr.code === 'EMFILE', `session ${i}: OPENDIR refused (${dirErr})`);
  }
  assert.equal((await server.stats()).storageHandles, 25, 'nothing opened past the budget');
  assert.equal(full.sftp?.openHandles, 25, 'the server counts them');
  // a handle closed in one session is room for another session
  const first = handles.shift()!;
  await first.client.close(first.handle);
  const again = await clients[3]!.open('/f39', 'r');
  assert.ok(Buffer.isBuffer(again));
  // a session's end gives its handles back
  for (const p of peers) p.socket.destroy();
  const end = await watch(server, (s) => s.sftp?.openHandles === 0 && s.storageHandles === 0, { maxMs: 20_000 });
  assert.equal(end[end.length - 1]!.sftp?.openHandles, 0);
  assert.equal(end[end.length - 1]!.storageHandles, 0);
  assert.equal((options as Record<string, unknown>).DEFAULT_MAX_SERVER_HANDLES, 4096, 'the documented default');
});
