/**
 * Connecting cannot hang: a server that never sends VERSION, never answers limits@openssh.com, never
 * opens the sftp channel or never finishes the SSH handshake makes fromStream/fromSsh/connect reject
 * (ETIMEDOUT after handshakeTimeoutMs, or AbortError when the caller's signal fires), with the stream
 * torn down. A limits query that fails falls back to the default limits.
 */
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import net from 'node:net';
import ssh2 from 'ssh2';
import { DEFAULT_LIMITS, SftpClient } from '../../src/client/client.js';
import {
  Extensions,
  PacketType as T,
  SftpError,
  StatusCode,
  Writer,
  type ExtensionPair,
} from '../../src/protocol/index.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

const limitsExt: ExtensionPair[] = [{ name: Extensions.limits.name, data: Buffer.from('1') }];

/** A scripted server: VERSION as told (or never), and `onRequest` for what comes after. */
function scripted(
  opts: { version?: boolean; extensions?: ExtensionPair[]; onRequest?: (s: FakeServer, r: Request) => void } = {},
) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  server.extensions = opts.extensions ?? [];
  if (opts.version === false) {
    server.framer.push = () => undefined; // swallow INIT: VERSION never comes
  }
  server.onRequest = (r) => opts.onRequest?.(server, r);
  return { a, b, server };
}

async function rejection(p: Promise<unknown>, what: string): Promise<Error & { code?: string }> {
  const e = await within(
    p.then(
      () => undefined,
      (err: unknown) => err,
    ),
    5000,
    what,
  );
  assert.ok(e instanceof Error, `${what} resolved`);
  return e as Error & { code?: string };
}

test('no VERSION: fromStream rejects with ETIMEDOUT after handshakeTimeoutMs and destroys the stream', async () => {
  const { a } = scripted({ version: false });
  const err = await rejection(SftpClient.fromStream(a, { handshakeTimeoutMs: 50 }), 'fromStream');
  assert.ok(err instanceof SftpError);
  assert.equal(err.code, 'ETIMEDOUT');
  assert.equal(err.op, 'connect');
  assert.equal(a.destroyed, true);
});

test("no VERSION: the caller's signal rejects fromStream with AbortError and destroys the stream", async () => {
  const { a } = scripted({ version: false });
  const ac = new AbortController();
  const connecting = SftpClient.fromStream(a, { signal: ac.signal });
  setImmediate(() => ac.abort());
  const err = await rejection(connecting, 'fromStream');
  assert.equal(err.name, 'AbortError');
  assert.equal(a.destroyed, true);
  // an already aborted signal sends nothing and rejects at once
  const { a: a2, server } = scripted();
  const err2 = await rejection(SftpClient.fromStream(a2, { signal: AbortSignal.abort() }), 'fromStream');
  assert.equal(err2.name, 'AbortError');
  assert.equal(a2.destroyed, true);
  assert.deepEqual(server.received, []);
});

test('limits@openssh.com never answered: ETIMEDOUT; answered with an error or garbage: the default limits', async () => {
  const stalled = scripted({ extensions: limitsExt, onRequest: () => undefined });
  const err = await rejection(SftpClient.fromStream(stalled.a, { handshakeTimeoutMs: 50 }), 'fromStream');
  assert.equal(err.code, 'ETIMEDOUT');
  assert.equal(stalled.a.destroyed, true);
  assert.equal(stalled.server.received[0]?.type, T.EXTENDED);

  const failing = scripted({
    extensions: limitsExt,
    onRequest: (s, r) => s.send({ type: T.STATUS, id: r.id, code: StatusCode.OP_UNSUPPORTED, message: 'no', lang: '' }),
  });
  const c1 = await within(SftpClient.fromStream(failing.a), 5000, 'connect with a failing limits query');
  assert.equal(c1.limitsFromServer, false);
  assert.deepEqual(c1.limits, { ...DEFAULT_LIMITS });
  assert.equal(c1.session.isOpen, true);
  failing.a.destroy();

  const garbage = scripted({
    extensions: limitsExt,
    onRequest: (s, r) => s.send({ type: T.EXTENDED_REPLY, id: r.id, data: Buffer.from([1, 2, 3]) }),
  });
  const c2 = await within(SftpClient.fromStream(garbage.a), 5000, 'connect with a garbage limits reply');
  assert.equal(c2.limitsFromServer, false);
  assert.deepEqual(c2.limits, { ...DEFAULT_LIMITS });
  garbage.a.destroy();

  const good = scripted({
    extensions: limitsExt,
    onRequest: (s, r) =>
      s.send({
        type: T.EXTENDED_REPLY,
        id: r.id,
        data: new Writer().u64(70000).u64(65536).u64(65536).u64(10).finish(),
      }),
  });
  const ac = new AbortController();
  const c3 = await within(
    SftpClient.fromStream(good.a, { signal: ac.signal, handshakeTimeoutMs: 60_000 }),
    5000,
    'connect',
  );
  assert.equal(c3.limitsFromServer, true);
  assert.equal(c3.limits.maxReadLength, 65536);
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'the signal is not watched once connected');
  ac.abort(); // aborting after the connect changes nothing
  assert.equal(c3.session.isOpen, true);
  good.a.destroy();
});

test('a bad handshakeTimeoutMs is refused', async () => {
  const { a } = scripted();
  await assert.rejects(SftpClient.fromStream(a, { handshakeTimeoutMs: -1 }), RangeError);
  a.destroy();
});

// ---- over SSH --------------------------------------------------------------------------------

const hostKey = generateEd25519KeyPair().private;

/** An ssh2 server that lets anyone in and does `onSftp` with each sftp subsystem request. */
async function sshServer(onSftp: (accept: () => ssh2.ServerChannel) => void) {
  const conns = new Set<ssh2.Connection>();
  const closed: Promise<void>[] = [];
  const srv = new ssh2.Server({ hostKeys: [hostKey] }, (c) => {
    conns.add(c);
    closed.push(new Promise((r) => c.on('close', () => r())));
    c.on('error', () => undefined);
    c.on('authentication', (ctx) => ctx.accept());
    c.on('ready', () =>
      c.on('session', (acceptSession) => {
        acceptSession().on('subsystem', (accept) => onSftp(accept));
      }),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    port,
    connClosed: () => Promise.all(closed),
    async close() {
      for (const c of conns) c.end();
      await new Promise<void>((r) => srv.close(() => r()));
    },
  };
}

test('SSH: connect() rejects with ETIMEDOUT when the sftp channel never sends VERSION, and closes the connection', async () => {
  const channels: ssh2.ServerChannel[] = [];
  const srv = await sshServer((accept) => channels.push(accept())); // accepted, then silence
  try {
    const err = await rejection(
      SftpClient.connect({
        host: '127.0.0.1',
        port: srv.port,
        username: 'u',
        password: 'p',
        sftp: { handshakeTimeoutMs: 200 },
      }),
      'connect',
    );
    assert.equal(err.code, 'ETIMEDOUT');
    assert.equal(channels.length, 1);
    await within(srv.connClosed(), 5000, 'the SSH connection closing');
  } finally {
    await srv.close();
  }
});

test('SSH: fromSsh rejects when the subsystem request is never answered (timeout, or the signal)', async () => {
  const srv = await sshServer(() => undefined); // neither accepted nor rejected
  const conn = new ssh2.Client();
  try {
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', () => resolve()).once('error', reject);
      conn.connect({ host: '127.0.0.1', port: srv.port, username: 'u', password: 'p' });
    });
    const err = await rejection(SftpClient.fromSsh(conn, { handshakeTimeoutMs: 100 }), 'fromSsh');
    assert.equal(err.code, 'ETIMEDOUT');
    const ac = new AbortController();
    const opening = SftpClient.fromSsh(conn, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    assert.equal((await rejection(opening, 'fromSsh with a signal')).name, 'AbortError');
  } finally {
    conn.end();
    await srv.close();
  }
});
test('SSH: a server that never finishes the SSH handshake: connect() rejects with ETIMEDOUT (ssh2 readyTimeout), or AbortError for the signal', async () => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    sockets.add(s);
    s.resume(); // reads (so that it notices the client going), never says a word
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    const err = await rejection(
      SftpClient.connect({ host: '127.0.0.1', port, username: 'u', sftp: { handshakeTimeoutMs: 150 } }),
      'connect',
    );
    assert.equal(err.code, 'ETIMEDOUT');
    // the caller's signal: rejects with AbortError, and the socket is closed (the server sees it go)
    const before = sockets.size;
    const ac = new AbortController();
    const connecting = SftpClient.connect({ host: '127.0.0.1', port, username: 'u', sftp: { signal: ac.signal } });
    while (sockets.size === before) await new Promise((r) => setTimeout(r, 5));
    const socket = [...sockets].at(-1)!;
    const gone = new Promise<void>((r) => socket.once('close', () => r()));
    ac.abort();
    assert.equal((await rejection(connecting, 'connect with a signal')).name, 'AbortError');
    await within(gone, 5000, 'the socket closing after the abort');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});
