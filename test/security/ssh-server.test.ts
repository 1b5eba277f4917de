/**
 * The ssh2 server helper as an attack surface: unknown users, unauthorized keys and wrong passwords
 * are refused, password guessing is cut off, a connection that never authenticates times out, and a
 * read-only server refuses every kind of write — checked on the disk as well as in the replies.
 */
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { startSftpSshServer, type RunningSftpSshServer } from '../../src/transport/ssh-server.js';
import { SftpClient } from '../../src/client/client.js';
import { SftpError, StatusCode } from '../../src/protocol/index.js';
import { within } from '../../bench/lib/peers/streams.js';

const host = generateEd25519KeyPair();
const alice = generateEd25519KeyPair();
const mallory = generateEd25519KeyPair();
const temps: string[] = [];
const servers: RunningSftpSshServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

async function start(opts: Partial<Parameters<typeof startSftpSshServer>[0]> = {}): Promise<RunningSftpSshServer> {
  const running = await startSftpSshServer({
    server: new SftpServer({ fs: new MemoryFs() }),
    hostKeys: [host.private],
    users: [{ username: 'alice', password: 'correct horse', publicKeys: [alice.public] }],
    ...opts,
  });
  servers.push(running);
  return running;
}

/** Connect and report 'ready' or the error (never throws). */
function tryConnect(port: number, cfg: ssh2.ConnectConfig): Promise<{ ok: boolean; error?: Error; conn: ssh2.Client }> {
  const conn = new ssh2.Client();
  return new Promise((resolve) => {
    conn.once('ready', () => resolve({ ok: true, conn }));
    conn.once('error', (error) => resolve({ ok: false, error, conn }));
    conn.once('close', () => resolve({ ok: false, conn }));
    conn.connect({ host: '127.0.0.1', port, readyTimeout: 10_000, ...cfg });
  });
}

test('unknown users, unauthorized keys and wrong passwords are refused; the right key and password get in', async () => {
  const { port } = await start();
  const refused: [string, ssh2.ConnectConfig][] = [
    ['unknown user with a known password', { username: 'mallory', password: 'correct horse' }],
    ["unknown user with alice's key", { username: 'mallory', privateKey: alice.private }],
    ["alice with mallory's key", { username: 'alice', privateKey: mallory.private }],
    ['alice with a wrong password', { username: 'alice', password: 'Correct horse' }],
    ['alice with a prefix of her password', { username: 'alice', password: 'correct' }],
    ['alice with an empty password', { username: 'alice', password: '' }],
    ['an empty user name', { username: '', password: 'correct horse' }],
  ];
  for (const [what, cfg] of refused) {
    const r = await within(tryConnect(port, cfg), 15_000, what);
    assert.equal(r.ok, false, `${what} must be refused`);
    r.conn.end();
  }
  for (const cfg of [
    { username: 'alice', privateKey: alice.private },
    { username: 'alice', password: 'correct horse' },
  ]) {
    const r = await within(tryConnect(port, cfg), 15_000, 'a good login');
    assert.equal(r.ok, true, `good credentials: ${r.error?.message}`);
    r.conn.end();
  }
});

test('password guessing: the connection is closed after maxAuthTries failures (default 6)', async () => {
  for (const [limit, opts] of [
    [6, {}],
    [2, { maxAuthTries: 2 }],
  ] as const) {
    const { port } = await start(opts);
    let tries = 0;
    const r = await within(
      tryConnect(port, {
        username: 'alice',
        authHandler: ((_methods: unknown, _partial: unknown, next: (a: unknown) => void) => {
          tries++;
          if (tries > 100) return next(false);
          next({ type: 'password', username: 'alice', password: `guess-${tries}` });
        }) as unknown as ssh2.ConnectConfig['authHandler'],
      }),
      15_000,
      'guessing',
    );
    assert.equal(r.ok, false);
    assert.ok(tries <= limit + 1, `${tries} guesses were answered on one connection (limit ${limit})`);
    assert.ok(tries >= limit, `only ${tries} guesses before the close`);
    r.conn.end();
  }
});

test('a connection that never authenticates is closed by the idle timeout', async () => {
  const { port } = await start({ idleTimeoutMs: 200 });
  // raw TCP: say nothing at all
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => undefined);
  silent.resume(); // read (and drop) the server's version line, so that its close is seen
  await within(new Promise<void>((r) => silent.once('close', () => r())), 10_000, 'the silent connection being closed');
  // the SSH handshake done, but no authentication ever offered
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.resume();
  sock.write('SSH-2.0-idle_client\r\n');
  await within(
    new Promise<void>((r) => sock.once('close', () => r())),
    10_000,
    'the unauthenticated connection being closed',
  );
});

test('read-only over SSH: every kind of write is refused with PERMISSION_DENIED and the disk is unchanged', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-ro-'));
  temps.push(root);
  mkdirSync(path.join(root, 'dir'));
  mkdirSync(path.join(root, 'empty'));
  writeFileSync(path.join(root, 'file.txt'), 'original');
  const before = snapshot(root);
  const { port } = await start({ server: new SftpServer({ root, readOnly: true }) });
  const client = await SftpClient.connect({ host: '127.0.0.1', port, username: 'alice', privateKey: alice.private });
  try {
    const local = path.join(root, '..', `ro-src-${process.pid}`);
    writeFileSync(local, 'upload');
    temps.push(local);
    const h = await client.open('/file.txt', 'r');
    const writes: [string, () => Promise<unknown>][] = [
      ['open w', () => client.open('/new.txt', 'w')],
      ['open a', () => client.open('/file.txt', 'a')],
      ['open r+', () => client.open('/file.txt', 'r+')],
      ['open wx', () => client.open('/file.txt', 'wx')],
      ['writeFile', () => client.writeFile('/file.txt', 'changed')],
      ['put', () => client.put(local, '/put.txt')],
      ['put atomic', () => client.put(local, '/file.txt', { atomic: true })],
      ['write on a read handle', () => client.write(h, 0, Buffer.from('x'))],
      ['fsetstat', () => client.fsetstat(h, { permissions: 0o777 })],
      ['setstat size', () => client.setstat('/file.txt', { size: 0 })],
      ['setstat mode', () => client.setstat('/dir', { permissions: 0o700 })],
      ['lsetstat', () => client.lsetstat('/file.txt', { atime: 1, mtime: 1 })],
      ['remove', () => client.remove('/file.txt')],
      ['mkdir', () => client.mkdir('/newdir')],
      ['rmdir', () => client.rmdir('/empty')],
      ['rename', () => client.rename('/file.txt', '/moved.txt')],
      ['posixRename', () => client.posixRename('/file.txt', '/dir/moved.txt')],
      ['hardlink', () => client.hardlink('/file.txt', '/link.txt')],
      ['symlink', () => client.symlink('/file.txt', '/sym')],
    ];
    for (const [what, call] of writes) {
      const err = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof SftpError, `${what} must be refused, got ${err}`);
      assert.equal(err.status, StatusCode.PERMISSION_DENIED, `${what}: ${err.message}`);
    }
    // reads still work
    assert.equal((await client.readFile('/file.txt')).toString(), 'original');
    assert.deepEqual((await client.list('/')).map((e) => e.filename).sort(), ['dir', 'empty', 'file.txt']);
    await client.close(h);
  } finally {
    await client.end();
  }
  assert.deepEqual(snapshot(root), before, 'nothing on disk changed');
  assert.equal(readFileSync(path.join(root, 'file.txt'), 'utf8'), 'original');
});

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.nlink}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}
