/**
 * Client fuzzing against hostile servers (bounded count; the long run is `npm run fuzz`), and the
 * named hostile cases one by one: every call settles with a value of the right shape or a known error,
 * at the latest when its AbortSignal fires; a violation fails the session; nothing hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SftpClient } from '../../src/client/client.js';
import { PacketType as T, SftpError, SftpProtocolError } from '../../src/protocol/index.js';
import { clientCaseArb, runClientCase, HostileServer, type ClientCase } from './client-cases.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

test('client fuzz: 200 sessions against servers that lie, stall, cut and flood', { timeout: 300_000 }, async () => {
  const t = { cases: 0, requests: 0, faults: 0, resolved: 0, rejected: 0, torndown: 0 };
  await fc.assert(
    fc.asyncProperty(clientCaseArb, async (c) => {
      const o = await runClientCase(c);
      t.cases++;
      t.requests += o.requests;
      t.faults += o.faults;
      t.resolved += o.resolved;
      t.rejected += o.rejected;
      t.torndown += o.torndown;
    }),
    { numRuns: 200, endOnFailure: true, includeErrorInReport: true },
  );
  console.log(
    `client fuzz: ${t.cases} sessions, ${t.requests} requests answered by a hostile server, ${t.faults} faults injected; ` +
      `${t.resolved} calls resolved, ${t.rejected} rejected; ${t.torndown} handshakes stalled until the connect signal gave up on them`,
  );
  assert.equal(t.cases, 200);
});

async function connected(behaviours: ClientCase['behaviours']) {
  const [a, b] = memoryPair();
  const c: ClientCase = { version: 'ok', behaviours, ops: [], noise: Buffer.from('noise!') };
  const server = new HostileServer(b, c);
  const client = await SftpClient.fromStream(a, { askLimits: false });
  return { client, server, a, b };
}

const h = Buffer.from([0, 0, 0, 1]);

test('a server that answers every request, CLOSE too, with a HANDLE: the call fails alone and the stray handle is closed once, not forever', async () => {
  const { client, server, a } = await connected(['wrong-type']);
  const e = await within(
    client.stat('/x').then(
      () => undefined,
      (err: unknown) => err,
    ),
    5000,
    'stat against a wrong-type server',
  );
  assert.equal((e as SftpProtocolError).code, 'ERR_SFTP_BAD_REPLY');
  await new Promise((r) => setTimeout(r, 200));
  // STAT, then one CLOSE of the stray handle; the CLOSE's own wrong reply is not closed again
  assert.deepEqual(
    server.received.map((r) => r.type),
    [T.STAT, T.CLOSE],
  );
  a.destroy();
});

test('a server that stalls: every kind of call rejects with AbortError when its AbortSignal.timeout fires', async () => {
  const { client, a } = await connected(['stall']);
  const calls: Promise<unknown>[] = [
    client.stat('/x', { signal: AbortSignal.timeout(30) }),
    client.read(h, 0, 10, { signal: AbortSignal.timeout(30) }),
    client.write(h, 0, Buffer.alloc(10), { signal: AbortSignal.timeout(30) }),
    client.readFile('/x', { signal: AbortSignal.timeout(30) }),
    client.list('/', { signal: AbortSignal.timeout(30) }),
    client.statvfs('/', { signal: AbortSignal.timeout(30) }),
  ];
  const results = await within(Promise.allSettled(calls), 5000, 'calls against a stalled server');
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason?.name, 'AbortError');
  }
  a.destroy();
});

test('a server that never sends VERSION: connect rejects with ECONNRESET once the stream is torn down', async () => {
  const [a, b] = memoryPair();
  new HostileServer(b, { version: 'stall', behaviours: ['correct'], ops: [], noise: Buffer.from('x') });
  const connecting = SftpClient.fromStream(a);
  setTimeout(() => a.destroy(), 20);
  const err = await within(
    connecting.then(
      () => undefined,
      (e: unknown) => e,
    ),
    5000,
    'connect',
  );
  assert.ok(err instanceof SftpError);
  assert.equal(err.code, 'ECONNRESET');
});

for (const [name, behaviour, expected] of [
  ['DATA longer than asked', 'data-too-long', SftpProtocolError],
  ['a NAME whose count lies', 'name-count-lies', SftpProtocolError],
  ['a reply to an id never sent', 'wrong-id', SftpProtocolError],
  ['a packet length of 4 GiB', 'huge-length', SftpProtocolError],
] as const) {
  test(`${name}: the pending call rejects with ${expected.name} and the session closes`, async () => {
    const { client, a } = await connected([behaviour]);
    const call = behaviour === 'name-count-lies' ? client.realpath('.') : client.read(h, 0, 100);
    const err = await within(
      call.then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      name,
    );
    assert.ok(err instanceof expected, `${name}: got ${err}`);
    assert.equal(client.session.isOpen, false);
    const later = await client.stat('/').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(later instanceof SftpError && later.code === 'ERR_SFTP_CLOSED');
    a.destroy();
  });
}

test('a VERSION with garbage extensions: connect settles, garbage names are kept as data, nothing throws outside', async () => {
  for (const first of [0, 1]) {
    const [a, b] = memoryPair();
    const noise = Buffer.from([first * 2, 0xff, 0x00, 0x41]);
    new HostileServer(b, { version: 'garbage-extensions', behaviours: ['correct'], ops: [], noise });
    const r = await within(
      SftpClient.fromStream(a).then(
        (c) => c,
        (e: unknown) => e,
      ),
      5000,
      'connect',
    );
    if (r instanceof SftpClient) {
      assert.equal(r.version, 3);
      assert.ok(r.extensions.has('constructor'));
      assert.equal(typeof r.extensions.get('__proto__'), 'string');
    } else {
      assert.ok(r instanceof SftpProtocolError || r instanceof SftpError, `connect: ${r}`);
    }
    a.destroy();
  }
});
