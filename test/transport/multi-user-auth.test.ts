/**
 * startSftpSshServer with an authentication hook, over real SSH on loopback: password, public key
 * (the server verifies the signature; the hook is asked once per key and connection) and
 * keyboard-interactive log in with the identity the hook returns; refusals, a bad signature and a
 * throwing hook are failed logins with their reason; a hook that never settles holds only its own
 * connection until the login grace closes it; a client guessing passwords on many connections is
 * cut off at maxAuthTries each time, with one 'loginFailed' event per guess answered.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import {
  startSftpSshServer,
  type RunningSftpSshServer,
  type SftpSshServerOptions,
} from '../../src/transport/ssh-server.js';
import type { AuthAttempt } from '../../src/transport/ssh-auth.js';
import type { LoginEvent, LoginFailedEvent } from '../../src/transport/ssh-events.js';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { SftpClient } from '../../src/client/client.js';
import { within } from '../../bench/lib/peers/streams.js';

const hostKey = generateEd25519KeyPair();
const aliceKey = generateEd25519KeyPair();
const malloryKey = generateEd25519KeyPair();
const servers: RunningSftpSshServer<Who>[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

interface Who {
  id: number;
  name: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A hook in the style of a database lookup: answers after a delay; records every attempt. */
function dbHook(attempts: AuthAttempt[], signals: AbortSignal[] = []): SftpSshServerOptions<Who>['authenticate'] {
  return async (a, signal) => {
    attempts.push(a);
    signals.push(signal);
    await sleep(5);
    if (a.username === 'boom') throw new Error('database down');
    if (a.username === 'hang') return new Promise<never>(() => undefined);
    if (a.username !== 'alice') return undefined;
    if (a.method === 'password') return a.password === 'sesame' ? { id: 1, name: 'alice' } : null;
    if (a.method === 'publickey')
      return a.key.openssh === aliceKey.public.split(' ').slice(0, 2).join(' ') ? { id: 1, name: 'alice' } : false;
    const [code] = await a.prompt([{ prompt: 'One-time code: ', echo: true }], { title: 'OTP' });
    return code === '424242' ? { id: 1, name: 'alice' } : undefined;
  };
}

async function start(
  extra: Partial<SftpSshServerOptions<Who>> = {},
  logLines: string[] = [],
): Promise<RunningSftpSshServer<Who>> {
  const running = await startSftpSshServer<Who>({
    server: new SftpServer({ fs: new MemoryFs() }),
    hostKeys: [hostKey.private],
    log: (m) => logLines.push(m),
    ...extra,
  });
  servers.push(running);
  return running;
}

/** Connect with `cfg`; 'ready' or the error, never throws; the connection is ended. */
function tryLogin(port: number, cfg: ssh2.ConnectConfig): Promise<{ ok: boolean; error?: Error }> {
  const conn = new ssh2.Client();
  return new Promise((resolve) => {
    const done = (r: { ok: boolean; error?: Error }): void => {
      conn.end();
      resolve(r);
    };
    conn.once('ready', () => done({ ok: true }));
    conn.once('error', (error) => done({ ok: false, error }));
    conn.once('close', () => done({ ok: false }));
    conn.connect({ host: '127.0.0.1', port, readyTimeout: 20_000, ...cfg });
  });
}

test('the hook decides password, public key and keyboard-interactive logins; login events carry its identity', async () => {
  const attempts: AuthAttempt[] = [];
  const logins: LoginEvent<Who>[] = [];
  const failed: LoginFailedEvent[] = [];
  const running = await start({ authenticate: dbHook(attempts) });
  running.on('login', (e) => void logins.push(e)).on('loginFailed', (e) => void failed.push(e));

  assert.equal(
    (await within(tryLogin(running.port, { username: 'alice', password: 'sesame' }), 20_000, 'password')).ok,
    true,
  );
  assert.equal(
    (await within(tryLogin(running.port, { username: 'alice', privateKey: aliceKey.private }), 20_000, 'key')).ok,
    true,
  );
  const keyAttempts = attempts.filter((a) => a.method === 'publickey');
  assert.equal(
    keyAttempts.length,
    1,
    'the hook is asked once for the key (the offer), not again for the signed request',
  );
  const offered = keyAttempts[0]!;
  assert.ok(
    offered.method === 'publickey' && /^SHA256:[A-Za-z0-9+/]{43}$/.test(offered.key.fingerprint),
    'the key comes with its fingerprint',
  );
  const kbd = await within(
    tryLogin(running.port, {
      username: 'alice',
      authHandler: [
        {
          type: 'keyboard-interactive',
          username: 'alice',
          prompt: (_n: string, _i: string, _l: string, prompts: { prompt: string }[], finish: (a: string[]) => void) =>
            finish(prompts.map(() => '424242')),
        },
      ] as unknown as ssh2.ConnectConfig['authHandler'],
    }),
    20_000,
    'keyboard-interactive',
  );
  assert.equal(kbd.ok, true, `keyboard-interactive: ${kbd.error?.message}`);
  assert.deepEqual(
    logins.map((l) => [l.username, l.method, l.identity, l.remoteAddress]),
    [
      ['alice', 'password', { id: 1, name: 'alice' }, '127.0.0.1'],
      ['alice', 'publickey', { id: 1, name: 'alice' }, '127.0.0.1'],
      ['alice', 'keyboard-interactive', { id: 1, name: 'alice' }, '127.0.0.1'],
    ],
  );
  assert.equal(failed.length, 0, 'no failure on the way');

  // refusals: a wrong password, an unknown key, a wrong code
  assert.equal((await tryLogin(running.port, { username: 'alice', password: 'Sesame' })).ok, false);
  assert.equal((await tryLogin(running.port, { username: 'alice', privateKey: malloryKey.private })).ok, false);
  assert.equal(
    (
      await tryLogin(running.port, {
        username: 'alice',
        authHandler: [
          {
            type: 'keyboard-interactive',
            username: 'alice',
            prompt: (_n: string, _i: string, _l: string, _p: unknown[], finish: (a: string[]) => void) =>
              finish(['000000']),
          },
        ] as unknown as ssh2.ConnectConfig['authHandler'],
      })
    ).ok,
    false,
  );
  assert.deepEqual(
    failed.map((f) => [f.username, f.method, f.reason]),
    [
      ['alice', 'password', 'rejected'],
      ['alice', 'publickey', 'rejected'],
      ['alice', 'keyboard-interactive', 'rejected'],
    ],
  );
  assert.equal(logins.length, 3, 'no login from the refused attempts');
});

test('a signature that does not verify is refused even though the hook accepted the key', async () => {
  const attempts: AuthAttempt[] = [];
  const failed: LoginFailedEvent[] = [];
  const running = await start({ authenticate: dbHook(attempts) });
  running.on('loginFailed', (e) => void failed.push(e));
  const key = ssh2.utils.parseKey(aliceKey.private) as ssh2.ParsedKey;
  const realSign = key.sign.bind(key);
  // signs other bytes than the server's session data: a client without the private key, in effect
  (key as { sign: typeof key.sign }).sign = (data: Buffer, algo?: string) =>
    realSign(Buffer.concat([data, Buffer.from('forged')]), algo);
  const r = await within(
    tryLogin(running.port, {
      username: 'alice',
      authHandler: [{ type: 'publickey', username: 'alice', key }] as unknown as ssh2.ConnectConfig['authHandler'],
    }),
    20_000,
    'forged signature',
  );
  assert.equal(r.ok, false);
  assert.deepEqual(
    failed.map((f) => [f.method, f.reason]),
    [['publickey', 'bad-signature']],
  );
});

test('a hook that throws refuses that attempt (logged); the server goes on serving', async () => {
  const lines: string[] = [];
  const failed: LoginFailedEvent[] = [];
  const running = await start({ authenticate: dbHook([]) }, lines);
  running.on('loginFailed', (e) => void failed.push(e));
  assert.equal((await within(tryLogin(running.port, { username: 'boom', password: 'x' }), 20_000, 'boom')).ok, false);
  assert.deepEqual(
    failed.map((f) => [f.username, f.reason]),
    [['boom', 'error']],
  );
  assert.ok(
    lines.some((l) => /authentication hook failed \(password for "boom"\): database down/.test(l)),
    lines.join('\n'),
  );
  assert.equal(
    (await within(tryLogin(running.port, { username: 'alice', password: 'sesame' }), 20_000, 'after')).ok,
    true,
  );
});

test('a hook that never settles holds only its own connection: the login grace closes it, others log in meanwhile', async () => {
  const signals: AbortSignal[] = [];
  const attempts: AuthAttempt[] = [];
  const running = await start({ authenticate: dbHook(attempts, signals), loginGraceMs: 1500 });
  const hanging = tryLogin(running.port, { username: 'hang', password: 'x' });
  // while it hangs, another user logs in
  const deadline = Date.now() + 20_000;
  while (!attempts.some((a) => a.username === 'hang')) {
    assert.ok(Date.now() < deadline, 'the hanging attempt reached the hook');
    await sleep(20);
  }
  assert.equal(
    (await within(tryLogin(running.port, { username: 'alice', password: 'sesame' }), 20_000, 'alice meanwhile')).ok,
    true,
  );
  const r = await within(hanging, 20_000, 'the hanging login being closed by the grace');
  assert.equal(r.ok, false);
  const i = attempts.findIndex((a) => a.username === 'hang');
  while (running.stats().unauthenticated > 0 || running.stats().connections > 0) {
    assert.ok(Date.now() < deadline, `connections left: ${JSON.stringify(running.stats())}`);
    await sleep(20);
  }
  assert.equal(signals[i]!.aborted, true, "the hook's signal says the answer is no longer needed");
});

test('a client guessing passwords on many connections: cut off after maxAuthTries on each, one event per guess answered, no crash', async () => {
  const failed: LoginFailedEvent[] = [];
  const running = await start({ authenticate: dbHook([]), maxAuthTries: 3 });
  running.on('loginFailed', (e) => void failed.push(e));
  // a listener that throws on every event must not matter
  running.on('loginFailed', () => {
    throw new Error('listener bug');
  });
  const perConnection: number[] = [];
  const guess = async (c: number): Promise<void> => {
    let tries = 0;
    const r = await tryLogin(running.port, {
      username: 'alice',
      authHandler: ((_m: unknown, _p: unknown, next: (a: unknown) => void) => {
        tries++;
        if (tries > 50) return next(false);
        next({ type: 'password', username: 'alice', password: `guess-${c}-${tries}` });
      }) as unknown as ssh2.ConnectConfig['authHandler'],
    });
    assert.equal(r.ok, false);
    perConnection.push(tries);
  };
  for (let batch = 0; batch < 4; batch++) {
    await within(
      Promise.all([0, 1, 2, 3, 4].map((i) => guess(batch * 5 + i))),
      60_000,
      'a batch of guessing connections',
    );
  }
  assert.equal(perConnection.length, 20);
  assert.ok(
    perConnection.every((t) => t <= 4),
    `guesses answered per connection: ${perConnection}`,
  );
  assert.equal(failed.length, 20 * 3, `one event per refused guess: ${failed.length}`);
  assert.ok(
    failed.every(
      (f) =>
        f.username === 'alice' && f.method === 'password' && f.reason === 'rejected' && f.remoteAddress === '127.0.0.1',
    ),
  );
  assert.equal(
    (await within(tryLogin(running.port, { username: 'alice', password: 'sesame' }), 20_000, 'a real login after')).ok,
    true,
  );
});

test('the simple options still work: fixed users and one server, identity { username }', async () => {
  const logins: LoginEvent<Who>[] = [];
  const running = (await startSftpSshServer({
    server: new SftpServer({ fs: new MemoryFs() }),
    hostKeys: [hostKey.private],
    users: [{ username: 'carol', password: 'pw', publicKeys: [aliceKey.public] }],
  })) as unknown as RunningSftpSshServer<Who>;
  servers.push(running);
  running.on('login', (e) => void logins.push(e));
  const client = await SftpClient.connect({
    host: '127.0.0.1',
    port: running.port,
    username: 'carol',
    privateKey: aliceKey.private,
  });
  await client.writeFile('/x', 'y');
  await client.end();
  assert.deepEqual(
    logins.map((l) => [l.username, l.method, l.identity]),
    [['carol', 'publickey', { username: 'carol' }]],
  );
  await assert.rejects(
    startSftpSshServer({ hostKeys: [hostKey.private], users: [] }),
    /give server, sessionFor, or both/,
  );
  await assert.rejects(
    startSftpSshServer({
      server: new SftpServer({ fs: new MemoryFs() }),
      hostKeys: [hostKey.private],
      users: [],
      authenticate: () => undefined,
    }),
    /either authenticate or users/,
  );
});

test('a session factory that never answers refuses that session after the login grace; one that answers serves', async () => {
  const lines: string[] = [];
  const root = new MemoryFs();
  const running = await start(
    {
      server: undefined,
      loginGraceMs: 1000,
      authenticate: (a) =>
        a.method === 'password' && a.password === 'pw'
          ? { id: a.username === 'slow' ? 2 : 1, name: a.username }
          : undefined,
      sessionFor: (who) => (who.name === 'slow' ? new Promise<never>(() => undefined) : { fs: root }),
    },
    lines,
  );
  await assert.rejects(
    within(
      SftpClient.connect({ host: '127.0.0.1', port: running.port, username: 'slow', password: 'pw' }),
      20_000,
      'slow session',
    ),
  );
  assert.ok(
    lines.some((l) => /refusing an SFTP session of user "slow": no answer within 1 s/.test(l)),
    lines.join('\n'),
  );
  const ok = await SftpClient.connect({ host: '127.0.0.1', port: running.port, username: 'quick', password: 'pw' });
  await ok.writeFile('/q', 'q');
  await ok.end();
  assert.deepEqual(await root.stat('/q').then((s) => s.size), 1);
});
