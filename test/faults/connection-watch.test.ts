/**
 * How the client treats the SSH connection under it, on real loopback sockets: connect() failures are
 * SftpErrors of op 'connect'; fromSsh leaves the application's ssh2 Client as it found it (no 'error'
 * listener of ours, and our observers gone once the session ends). The SIGKILLed-server cases are in
 * sigkill-server.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorMonitor } from 'node:events';
import net from 'node:net';
import ssh2 from 'ssh2';
import { SftpClient } from '../../src/client/client.js';
import { SftpError } from '../../src/protocol/index.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { startSftpSshServer, type RunningSftpSshServer } from '../../src/transport/ssh-server.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

let running: RunningSftpSshServer;
const user = { username: 'u', password: 'p' };

before(async () => {
  running = await startSftpSshServer({
    server: new SftpServer({ fs: new MemoryFs() }),
    hostKeys: [generateEd25519KeyPair().private],
    host: '127.0.0.1',
    port: 0,
    users: [user],
  });
});
after(() => running.close());

async function rejection(p: Promise<unknown>): Promise<Error> {
  const r = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(r instanceof Error, 'rejected');
  return r;
}

test('connect() to a port nobody listens on rejects with SftpError ECONNREFUSED of op connect, naming the server', async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const err = await rejection(SftpClient.connect({ host: '127.0.0.1', port, ...user }));
  assert.ok(err instanceof SftpError, String(err));
  assert.equal(err.code, 'ECONNREFUSED');
  assert.equal(err.op, 'connect');
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
  assert.equal((err.cause as { code?: string }).code, 'ECONNREFUSED', "ssh2's error is kept as the cause");
});

test("connect() with a refused password still rejects with ssh2's authentication error (not a connection error)", async () => {
  const err = await rejection(
    SftpClient.connect({ host: '127.0.0.1', port: running.port, username: 'u', password: 'wrong' }),
  );
  assert.equal(err instanceof SftpError, false, String(err));
  assert.match(err.message, /authentication/i);
});

test("fromSsh leaves the application's ssh2 Client as it found it: no 'error' listener added, our observers gone after end()", async () => {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: running.port, ...user });
  });
  conn.removeAllListeners('error');
  const onError = (): void => undefined;
  conn.on('error', onError);
  const counts = () => ({
    error: conn.listenerCount('error'),
    monitor: conn.listenerCount(errorMonitor),
    close: conn.listenerCount('close'),
  });
  const before = counts();
  try {
    const a = await SftpClient.fromSsh(conn);
    assert.equal(conn.listenerCount('error'), before.error, "no 'error' listener of ours while the session runs");
    await a.writeFile('/x', 'x');
    await a.end();
    assert.deepEqual(counts(), before, 'nothing of ours left on the connection');
    // the connection is still the application's, and usable
    const b = await SftpClient.fromSsh(conn);
    assert.equal((await b.readFile('/x')).toString(), 'x');
    await b.end();
    assert.deepEqual(counts(), before);
  } finally {
    conn.end();
  }
});

test('fromSsh: the application ending its connection rejects our pending calls with ECONNRESET naming the connection', async () => {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: running.port, ...user });
  });
  conn.on('error', () => undefined);
  const c = await SftpClient.fromSsh(conn);
  await c.writeFile('/big', Buffer.alloc(8 * 1024 * 1024));
  const pending = c.readFile('/big', { chunkSize: 4096, requests: 1 });
  conn.destroy();
  const err = await rejection(pending);
  assert.ok(err instanceof SftpError, String(err));
  assert.equal(err.code, 'ECONNRESET');
  assert.match(err.message, new RegExp(`the SSH connection to 127\\.0\\.0\\.1:${running.port} closed`));
  assert.equal(((await rejection(c.stat('/big'))) as SftpError).code, 'ERR_SFTP_CLOSED');
  await c.end();
});

test('calls still queued behind the request window when the connection goes reject with ECONNRESET too: they were made before the loss', async () => {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: running.port, ...user });
  });
  conn.on('error', () => undefined);
  const c = await SftpClient.fromSsh(conn, { maxRequests: 1 });
  const calls = [c.stat('/'), c.stat('/'), c.stat('/')];
  assert.equal(c.session.queued, 2, 'two calls wait for the window');
  conn.destroy();
  for (const call of calls) {
    const err = await rejection(call);
    assert.ok(err instanceof SftpError, String(err));
    assert.equal(err.code, 'ECONNRESET', err.message);
  }
  await c.end();
});
