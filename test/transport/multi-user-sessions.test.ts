/**
 * Per-user sessions and transfer events over real SSH on loopback. Each user's session gets the
 * settings the factory returns for it (own root, read-only flag, atomic mode), evaluated per SFTP
 * session: two users at once never see each other's tree or flags, paths and symlinks cannot leave
 * a root, a read-only user's writes are refused. 'upload' and 'download' fire exactly once per
 * completed transfer, with our client and with OpenSSH's sftp, and never for an upload whose client
 * was killed mid-way (a real child process group SIGKILLed); an atomic upload reports its final name.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { OpenFlags } from '../../src/protocol/constants.js';
import { SftpError } from '../../src/protocol/errors.js';
import { startSftpSshServer, type RunningSftpSshServer } from '../../src/transport/ssh-server.js';
import type { SessionSettings } from '../../src/server/session-settings.js';
import type { TransferEvent } from '../../src/transport/ssh-events.js';
import { generateEd25519KeyPair, writeEd25519KeyPair } from '../../src/transport/keys.js';
import { keyMatches } from '../../src/transport/ssh-auth.js';
import { SftpClient } from '../../src/client/client.js';
import { RawClient } from '../support/raw-client.js';
import { sftpArgs, sftpBatch } from '../support/openssh-client.js';
import { SFTP_PATH, requireOpenSsh } from '../../bench/lib/peers/openssh.js';
import { within } from '../../bench/lib/peers/streams.js';

interface User {
  name: string;
  pub: string;
  settings: () => SessionSettings;
}

const hostKey = generateEd25519KeyPair();
const dir = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-multi-'));
const roots = { alice: path.join(dir, 'A'), bob: path.join(dir, 'B'), atom: path.join(dir, 'C') };
const keyFiles = {
  alice: writeEd25519KeyPair(path.join(dir, 'alice_key')),
  bob: writeEd25519KeyPair(path.join(dir, 'bob_key')),
  atom: writeEd25519KeyPair(path.join(dir, 'atom_key')),
};
let flips = 0;
const users = new Map<string, User>([
  [
    'alice',
    { name: 'alice', pub: readFileSync(`${keyFiles.alice}.pub`, 'utf8'), settings: () => ({ root: roots.alice }) },
  ],
  [
    'bob',
    {
      name: 'bob',
      pub: readFileSync(`${keyFiles.bob}.pub`, 'utf8'),
      settings: () => ({ root: roots.bob, readOnly: true }),
    },
  ],
  [
    'atom',
    {
      name: 'atom',
      pub: readFileSync(`${keyFiles.atom}.pub`, 'utf8'),
      settings: () => ({ root: roots.atom, atomicUploads: 'atomic' }),
    },
  ],
  // every other session of flip is read-only: the factory runs for each session, not once per login
  [
    'flip',
    {
      name: 'flip',
      pub: readFileSync(`${keyFiles.alice}.pub`, 'utf8'),
      settings: () => ({ root: roots.alice, readOnly: flips++ % 2 === 1 }),
    },
  ],
  [
    'nobody',
    {
      name: 'nobody',
      pub: readFileSync(`${keyFiles.alice}.pub`, 'utf8'),
      settings: () => {
        throw new Error('no tree for nobody');
      },
    },
  ],
]);
const uploads: TransferEvent<User>[] = [];
const downloads: TransferEvent<User>[] = [];
const logLines: string[] = [];
let running: RunningSftpSshServer<User>;

before(async () => {
  for (const r of Object.values(roots)) mkdirSync(r);
  writeFileSync(path.join(roots.bob, 'secret.txt'), 'bob only');
  symlinkSync('../B/secret.txt', path.join(roots.alice, 'to-bob'));
  symlinkSync(path.join(roots.bob, 'secret.txt'), path.join(roots.alice, 'to-bob-abs'));
  running = await startSftpSshServer<User>({
    hostKeys: [hostKey.private],
    authenticate: (a) => {
      const u = users.get(a.username);
      return a.method === 'publickey' && u && keyMatches(a.key, [u.pub]) ? u : undefined;
    },
    sessionFor: (u) => u.settings(),
    log: (m) => logLines.push(m),
  });
  // listeners that throw, synchronously and asynchronously, come first: the others still run
  running.on('upload', () => {
    throw new Error('listener bug');
  });
  running.on('download', async () => {
    throw new Error('async listener bug');
  });
  running.on('upload', (e) => void uploads.push(e));
  running.on('download', (e) => void downloads.push(e));
});
after(async () => {
  await running.close();
  rmSync(dir, { recursive: true, force: true });
});

const connect = (name: keyof typeof keyFiles, as: string = name): Promise<SftpClient> =>
  SftpClient.connect({ host: '127.0.0.1', port: running.port, username: as, privateKey: readFileSync(keyFiles[name]) });

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as SftpError).code ?? String(err);
  }
}

/** Wait until every SFTP session on the server has ended (so events of their handles are final). */
async function quiet(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (running.stats().sessions > 0) {
    assert.ok(Date.now() < deadline, `sessions still open: ${JSON.stringify(running.stats())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('two users at once: each in their own root with their own flags; no path or symlink reaches the other', async () => {
  const [a, b] = await Promise.all([connect('alice'), connect('bob')]);
  try {
    const rounds = Array.from({ length: 10 }, (_, i) => i);
    const [aRes, bRes] = await Promise.all([
      Promise.all(
        rounds.map((i) =>
          a.writeFile(`/a-${i}.txt`, `alice ${i}`).then(
            () => 'ok',
            (e: SftpError) => e.code,
          ),
        ),
      ),
      Promise.all(
        rounds.map((i) =>
          b.writeFile(`/b-${i}.txt`, `bob ${i}`).then(
            () => 'ok',
            (e: SftpError) => e.code,
          ),
        ),
      ),
    ]);
    assert.deepEqual(
      aRes,
      rounds.map(() => 'ok'),
      'alice writes',
    );
    assert.deepEqual(
      bRes,
      rounds.map(() => 'EROFS'),
      'bob is read-only',
    );
    assert.deepEqual(readdirSync(roots.bob), ['secret.txt'], "nothing was written in bob's tree");
    assert.equal(readFileSync(path.join(roots.alice, 'a-3.txt'), 'utf8'), 'alice 3');
    assert.equal((await b.readFile('/secret.txt')).toString(), 'bob only');
    // alice: nothing of bob's is reachable
    for (const p of [
      '/secret.txt',
      '../B/secret.txt',
      '/../B/secret.txt',
      '/../../' + path.relative('/', roots.bob) + '/secret.txt',
      '/to-bob',
      '/to-bob-abs',
    ]) {
      const c = await code(a.readFile(p));
      assert.ok(c !== undefined, `alice read ${p}`);
    }
    assert.equal(await a.realpath('/..'), '/');
    const names = (await a.list('/..')).map((e) => e.filename).sort();
    assert.ok(!names.includes('secret.txt') && names.includes('a-0.txt'), `alice's "/.." is her own root: ${names}`);
    // bob sees none of alice's files
    assert.equal(await code(b.stat('/a-0.txt')), 'ENOENT');
    for (const what of [
      b.mkdir('/d'),
      b.remove('/secret.txt'),
      b.rename('/secret.txt', '/x'),
      b.setstat('/secret.txt', { permissions: 0o777 }),
    ]) {
      assert.equal(await code(what), 'EROFS');
    }
    assert.equal(readFileSync(path.join(roots.bob, 'secret.txt'), 'utf8'), 'bob only');
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
});

test('the factory runs for every SFTP session; one that throws refuses only that session', async () => {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) =>
    conn
      .once('ready', resolve)
      .once('error', reject)
      .connect({ host: '127.0.0.1', port: running.port, username: 'flip', privateKey: readFileSync(keyFiles.alice) }),
  );
  try {
    const open = async (): Promise<RawClient> => {
      const ch = await new Promise<ssh2.ClientChannel>((resolve, reject) =>
        conn.subsys('sftp', (err, c) => (err ? reject(err) : resolve(c))),
      );
      const c = new RawClient(ch);
      await c.init();
      return c;
    };
    const start = flips;
    const first = await open();
    const second = await open();
    assert.equal(flips - start, 2, 'the factory ran once per session');
    const flags = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;
    const firstRw = start % 2 === 0;
    const [rw, ro] = firstRw ? [first, second] : [second, first];
    await rw.writeFile('/flip.txt', Buffer.from('rw'), flags);
    await assert.rejects(ro.writeFile('/flip2.txt', Buffer.from('ro'), flags), /PERMISSION_DENIED|EACCES|read-only/i);
    assert.equal(existsSync(path.join(roots.alice, 'flip2.txt')), false, 'the read-only session wrote nothing');
    assert.equal(readFileSync(path.join(roots.alice, 'flip.txt'), 'utf8'), 'rw');
    first.end();
    second.end();
  } finally {
    conn.end();
  }
  await assert.rejects(connect('alice', 'nobody'), 'a session whose factory throws does not open');
  assert.ok(
    logLines.some((l) => /refusing an SFTP session of user "nobody": no tree for nobody/.test(l)),
    logLines.join('\n'),
  );
  const ok = await connect('alice');
  assert.equal((await ok.readFile('/a-1.txt')).toString(), 'alice 1');
  await ok.end();
});

test('upload and download events: exactly once per completed transfer, with user, path and bytes; atomic uploads report their final name', async () => {
  await quiet();
  uploads.length = 0;
  downloads.length = 0;
  const local = path.join(dir, 'local-1m');
  const data = Buffer.alloc(1024 * 1024 + 17, 7);
  writeFileSync(local, data);
  const a = await connect('alice');
  await a.put(local, '/up.bin');
  await a.get('/up.bin', path.join(dir, 'down-1m'));
  await a.end();
  const c = await connect('atom');
  await c.put(local, '/final.bin');
  await c.end();
  await quiet();
  assert.deepEqual(
    uploads.map((e) => [e.username, e.identity.name, e.path, e.bytes]),
    [
      ['alice', 'alice', '/up.bin', data.length],
      ['atom', 'atom', '/final.bin', data.length],
    ],
  );
  assert.deepEqual(
    downloads.map((e) => [e.username, e.path, e.bytes]),
    [['alice', '/up.bin', data.length]],
  );
  assert.equal(statSync(path.join(roots.atom, 'final.bin')).size, data.length);
  assert.ok(
    logLines.some((l) => /'upload' listener threw \(ignored\): listener bug/.test(l)),
    'the throwing listener was logged',
  );
  assert.ok(
    logLines.some((l) => /'download' listener threw \(ignored\): async listener bug/.test(l)),
    'the rejecting listener was logged',
  );
});

test("OpenSSH's sftp: put and get fire one event each, as the user the hook named", async () => {
  requireOpenSsh(SFTP_PATH);
  await quiet();
  uploads.length = 0;
  downloads.length = 0;
  const local = path.join(dir, 'openssh-src');
  writeFileSync(local, Buffer.alloc(300_000, 3));
  const r = await within(
    sftpBatch({ port: running.port, key: keyFiles.alice, user: 'alice' }, [
      `put ${local} /openssh.bin`,
      `get /openssh.bin ${path.join(dir, 'openssh-back')}`,
      'ls /',
    ]),
    60_000,
    'sftp batch',
  );
  assert.equal(r.code, 0, r.stderr);
  await quiet();
  assert.deepEqual(
    uploads.map((e) => [e.username, e.path, e.bytes]),
    [['alice', '/openssh.bin', 300_000]],
  );
  assert.deepEqual(
    downloads.map((e) => [e.username, e.path, e.bytes]),
    [['alice', '/openssh.bin', 300_000]],
  );
  assert.deepEqual(readFileSync(path.join(dir, 'openssh-back')), readFileSync(local));
});

/** OpenSSH's sftp uploading a big sparse file, SIGKILLed (with its ssh) once the server holds `atLeast` bytes of it. */
async function killedUpload(user: 'alice' | 'atom', remote: string, root: string): Promise<void> {
  requireOpenSsh(SFTP_PATH);
  const src = path.join(dir, `big-${user}`);
  const fd = openSync(src, 'w');
  ftruncateSync(fd, 2 * 1024 ** 3);
  closeSync(fd);
  const child = spawn(SFTP_PATH, sftpArgs({ port: running.port, key: keyFiles[user], user }, ['-b', '-']), {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.stdin!.end(`put ${src} ${remote}\n`);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  const biggest = (): number => Math.max(0, ...readdirSync(root).map((n) => statSync(path.join(root, n)).size));
  try {
    while (biggest() < 4 * 1024 * 1024) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the upload got under way (${biggest()} bytes)`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    rmSync(src, { force: true });
  }
}

test('an upload whose client is killed mid-way fires no event; an atomic one leaves nothing under its final name', async () => {
  await quiet();
  uploads.length = 0;
  await within(killedUpload('alice', '/killed.bin', roots.alice), 90_000, 'killed plain upload');
  await within(killedUpload('atom', '/killed.bin', roots.atom), 90_000, 'killed atomic upload');
  await quiet();
  assert.equal(
    uploads.length,
    0,
    `no upload event for an interrupted upload: ${JSON.stringify(uploads.map((e) => e.path))}`,
  );
  assert.ok(
    existsSync(path.join(roots.alice, 'killed.bin')),
    'the plain upload wrote under its name (no event even so)',
  );
  assert.equal(
    existsSync(path.join(roots.atom, 'killed.bin')),
    false,
    'the atomic upload never appeared under its final name',
  );
  // the server is fine: a complete upload still reports
  const a = await connect('alice');
  await a.writeFile('/after.txt', 'x');
  await a.end();
  await quiet();
  assert.deepEqual(
    uploads.map((e) => [e.username, e.path, e.bytes]),
    [['alice', '/after.txt', 1]],
  );
});
