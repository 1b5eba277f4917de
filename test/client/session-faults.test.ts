// Session faults against a scripted server: a channel that closes with requests pending, aborts,
// protocol violations (unknown id, DATA longer than asked, wrong reply type, garbage, a NAME that lies),
// ids that wrap, the request and byte window, stream backpressure, clean end().
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import {
  PacketType as T,
  SftpBadReplyError,
  SftpError,
  SftpProtocolError,
  StatusCode,
  encodePacketToBuffer,
} from '../../src/protocol/index.js';
import { AbortError, Session, SftpClient, type ClientOptions } from '../../src/client/index.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { rejectionOf } from './helpers.js';

async function setup(opts: ClientOptions = {}, configure?: (s: FakeServer) => void) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  configure?.(server);
  const client = await SftpClient.fromStream(a, opts);
  return { client, server, a, b };
}
const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !cond(); i++) await tick();
  assert.ok(cond(), 'condition never became true');
}

describe('session faults', () => {
  test('the channel closing with requests pending rejects every one with ECONNRESET; later calls get ERR_SFTP_CLOSED', async () => {
    const { client, server, b } = await setup();
    const pending = [
      client.stat('/a'),
      client.realpath('.'),
      client.open('/f', 'r'),
      client.read(Buffer.from('h'), 0, 10),
    ];
    await until(() => server.received.length === 4);
    b.destroy();
    for (const p of pending) {
      const e = await rejectionOf(p);
      assert.ok(e instanceof SftpError);
      assert.equal(e.code, 'ECONNRESET');
      assert.equal(e.status, StatusCode.CONNECTION_LOST);
    }
    const later = await rejectionOf(client.stat('/a'));
    assert.equal(later.code, 'ERR_SFTP_CLOSED');
    assert.ok((await client.session.closed) instanceof Error);
    await client.end(); // ending a closed client is fine
  });

  test('the peer ending its side cleanly with requests pending rejects them too (no hanging promise)', async () => {
    const { client, server, b } = await setup();
    const p = client.stat('/a');
    await until(() => server.received.length === 1);
    b.end();
    const e = await rejectionOf(p);
    assert.equal(e.code, 'ECONNRESET');
    assert.match(e.message, /ended|closed/);
  });

  test('a stream error rejects pending requests with the error as cause', async () => {
    const { client, server, a } = await setup();
    const p = client.stat('/a');
    await until(() => server.received.length === 1);
    a.destroy(new Error('wire cut'));
    const e = await rejectionOf(p);
    assert.equal(e.code, 'ECONNRESET');
    assert.match(e.message, /wire cut/);
  });

  test('aborting one request rejects it with AbortError; the others complete; the late reply is dropped', async () => {
    const { client, server } = await setup();
    const ac = new AbortController();
    const a = client.stat('/a', { signal: ac.signal });
    const b = client.stat('/b');
    await until(() => server.received.length === 2);
    ac.abort(new Error('user gave up'));
    const e = await rejectionOf(a);
    assert.ok(e instanceof AbortError);
    assert.equal(e.code, 'ABORT_ERR');
    // the aborted id is still reserved until its reply comes
    assert.equal(client.session.inFlight, 2);
    const [ra, rb] = server.received as Array<Request & { path: string }>;
    server.send({ type: T.ATTRS, id: rb!.id, attrs: { size: 2 } });
    server.send({ type: T.ATTRS, id: ra!.id, attrs: { size: 1 } }); // late reply, consumed and dropped
    assert.deepEqual(await b, { size: 2 });
    await until(() => client.session.inFlight === 0);
    assert.equal(client.session.isOpen, true);
    // a request aborted before it is sent never reaches the server
    const c = client.stat('/c', { signal: AbortSignal.abort() });
    assert.ok((await rejectionOf(c)) instanceof AbortError);
    const d = client.stat('/d');
    await until(() => server.received.length === 3);
    assert.equal((server.received[2] as { path: string }).path, '/d');
    server.send({ type: T.ATTRS, id: server.received[2]!.id, attrs: {} });
    assert.deepEqual(await d, {});
  });

  for (const [name, reply] of [
    ['a reply with an unknown id', (r: Request) => encodePacketToBuffer({ type: T.ATTRS, id: r.id + 1000, attrs: {} })],
    [
      'an undecodable packet (ATTRS whose flags promise a size it lacks)',
      (r: Request) => {
        const bad = Buffer.alloc(13);
        bad.writeUInt32BE(9, 0);
        bad[4] = T.ATTRS;
        bad.writeUInt32BE(r.id, 5);
        bad.writeUInt32BE(1, 9); // SSH_FILEXFER_ATTR_SIZE, and no size follows
        return bad;
      },
    ],
    ['an unknown packet type', (r: Request) => Buffer.from([0, 0, 0, 5, 99, ...Buffer.alloc(4).fill(r.id)])],
    ['a zero-length packet', () => Buffer.alloc(4)],
    ['a packet longer than the maximum', () => Buffer.from([0x7f, 0, 0, 0, T.DATA])],
  ] as const) {
    test(`${name} fails the session: every pending call rejects with ERR_SFTP_PROTOCOL`, async () => {
      const { client, server, a } = await setup();
      const first = client.stat('/a');
      const second = client.realpath('/b');
      await until(() => server.received.length === 2);
      server.sendRaw(reply(server.received[0]!));
      for (const p of [first, second]) {
        const e = await rejectionOf(p);
        assert.ok(e instanceof SftpProtocolError, String(e));
        assert.equal(e.code, 'ERR_SFTP_PROTOCOL');
      }
      assert.ok((await client.session.closed) instanceof SftpProtocolError);
      assert.ok(a.destroyed);
      assert.equal((await rejectionOf(client.stat('/c'))).code, 'ERR_SFTP_CLOSED');
    });
  }

  // A server answering a WRITE on a read-only handle with DATA (rclone's does): the framing and the id
  // are intact, so only that call fails and the session carries on.
  for (const [name, call, reply] of [
    [
      'DATA to a WRITE',
      (c: SftpClient) => c.write(Buffer.from('h'), 0, Buffer.from('x')),
      (r: Request) => ({ type: T.DATA, id: r.id, data: Buffer.from('x') }),
    ],
    [
      'HANDLE to a STAT',
      (c: SftpClient) => c.stat('/a'),
      (r: Request) => ({ type: T.HANDLE, id: r.id, handle: Buffer.from('h') }),
    ],
  ] as const) {
    test(`a well-framed reply of the wrong type (${name}) fails only that call; the session carries on`, async () => {
      const { client, server, a } = await setup();
      const wrong = call(client);
      const other = client.realpath('/b');
      await until(() => server.received.length === 2);
      server.send(reply(server.received[0]!) as never);
      const e = await rejectionOf(wrong);
      assert.ok(e instanceof SftpBadReplyError, String(e));
      assert.ok(e instanceof SftpProtocolError);
      assert.equal(e.code, 'ERR_SFTP_BAD_REPLY');
      assert.equal(e.received, name.split(' ')[0]);
      assert.ok(e.expected.includes('STATUS'));
      assert.equal(client.session.isOpen, true);
      assert.equal(a.destroyed, false);
      // the call sent alongside, and one sent after, both get their answers
      server.send({ type: T.NAME, id: server.received[1]!.id, entries: [{ filename: '/b', longname: '', attrs: {} }] });
      assert.equal(await other, '/b');
      const after = client.stat('/c');
      const stats = () => server.received.filter((r) => r.type === T.STAT && r.path === '/c');
      await until(() => stats().length === 1);
      server.send({ type: T.ATTRS, id: stats()[0]!.id, attrs: { size: 7 } });
      assert.deepEqual(await after, { size: 7 });
      // a HANDLE nobody asked for is closed (it names something open on the server)
      const closes = server.received.filter((r) => r.type === T.CLOSE);
      assert.equal(closes.length, name.startsWith('HANDLE') ? 1 : 0);
      for (const c of closes) server.ok(c.id);
      await client.end();
    });
  }

  test('DATA longer than the READ asked fails the session', async () => {
    const { client, server } = await setup();
    const p = client.read(Buffer.from('h'), 0, 4);
    await until(() => server.received.length === 1);
    server.send({ type: T.DATA, id: server.received[0]!.id, data: Buffer.alloc(5) });
    const e = await rejectionOf(p);
    assert.ok(e instanceof SftpProtocolError);
    assert.match(e.message, /DATA of 5 bytes answers a READ of 4/);
  });

  test('a REALPATH answered with a NAME of two entries (a NAME that lies) fails the session', async () => {
    const { client, server } = await setup();
    const p = client.realpath('.');
    const other = client.stat('/x');
    await until(() => server.received.length === 2);
    const entry = { filename: '/x', longname: '', attrs: {} };
    server.send({ type: T.NAME, id: server.received[0]!.id, entries: [entry, entry] });
    assert.ok((await rejectionOf(p)) instanceof SftpProtocolError);
    assert.ok((await rejectionOf(other)) instanceof SftpProtocolError);
  });

  test('VERSION other than 3, or another packet before VERSION, rejects the connect', async () => {
    const [a, b] = memoryPair();
    const s = new FakeServer(b);
    s.version = 4;
    assert.ok((await rejectionOf(SftpClient.fromStream(a))) instanceof SftpProtocolError);
    const [c, d] = memoryPair();
    d.on('data', () => d.write(encodePacketToBuffer({ type: T.STATUS, id: 0, code: 0, message: '', lang: '' })));
    assert.ok((await rejectionOf(SftpClient.fromStream(c))) instanceof SftpProtocolError);
    const [e, g] = memoryPair();
    g.on('data', () => g.destroy());
    assert.equal((await rejectionOf(SftpClient.fromStream(e))).code, 'ECONNRESET');
  });

  test('request ids are distinct among those in flight, wrap at 2^32 and skip ids still in flight', async () => {
    const { client, server } = await setup({ firstId: 0xfffffffe });
    const ps = [0, 1, 2, 3].map((i) => client.stat(`/${i}`));
    await until(() => server.received.length === 4);
    assert.deepEqual(
      server.received.map((r) => r.id),
      [0xfffffffe, 0xffffffff, 0, 1],
    );
    // force the counter back onto ids still in flight: they are skipped
    (client.session as unknown as { nextId: number }).nextId = 0xffffffff;
    const more = client.stat('/more');
    await until(() => server.received.length === 5);
    assert.equal(server.received[4]!.id, 2);
    for (const r of server.received) server.send({ type: T.ATTRS, id: r.id, attrs: { size: r.id } });
    assert.deepEqual(
      (await Promise.all(ps)).map((a) => a.size),
      [0xfffffffe, 0xffffffff, 0, 1],
    );
    assert.equal((await more).size, 2);
  });

  test('the window: at most maxRequests in flight, and the byte window holds READs back (one always allowed)', async () => {
    const { client, server } = await setup({ maxRequests: 4, maxBytes: 2500 });
    const pending: Request[] = [];
    server.onRequest = (r) => pending.push(r);
    // Let the client send all it may, note how many wait at the server, answer them, repeat.
    async function drive<X>(work: Promise<X>): Promise<{ result: X; maxOutstanding: number }> {
      let done = false;
      void work.then(
        () => (done = true),
        () => (done = true),
      );
      let maxOutstanding = 0;
      while (!done) {
        for (let i = 0; i < 30; i++) await tick();
        maxOutstanding = Math.max(maxOutstanding, pending.length);
        for (const r of pending.splice(0)) {
          if (r.type === T.READ) server.send({ type: T.DATA, id: r.id, data: Buffer.alloc(r.length, 7) });
          else server.send({ type: T.ATTRS, id: r.id, attrs: {} });
        }
      }
      return { result: await work, maxOutstanding };
    }
    assert.equal(
      (await drive(Promise.all(Array.from({ length: 20 }, (_, i) => client.stat(`/${i}`))))).maxOutstanding,
      4,
    );
    const h = Buffer.from('h');
    const reads = await drive(Promise.all(Array.from({ length: 10 }, (_, i) => client.read(h, i * 1000, 1000))));
    assert.equal(reads.maxOutstanding, 2);
    assert.ok(reads.result.every((b) => b.length === 1000));
    const big = await drive(client.read(h, 0, 10_000)); // bigger than the byte window: still sent, alone
    assert.equal(big.result.length, 10_000);
    assert.equal(big.maxOutstanding, 1);
  });

  test('backpressure: when write() returns false nothing more is written until drain', async () => {
    const written: Buffer[] = [];
    const held: Array<() => void> = [];
    let toServer!: (b: Buffer) => void;
    const stream = new Duplex({
      highWaterMark: 1024,
      write(chunk: Buffer, _e, cb) {
        written.push(chunk);
        toServer(chunk);
        held.push(cb); // the "network" takes its time
      },
      read() {},
    });
    const server = new FakeServer(
      new Duplex({
        read() {},
        write(c, _e, cb) {
          stream.push(c);
          cb();
        },
      }),
    );
    toServer = (b) => server.framer.push(b);
    server.onRequest = (r) => server.ok(r.id);
    const release = () => held.splice(0).forEach((cb) => cb());
    const connecting = SftpClient.fromStream(stream);
    await tick();
    release();
    const client = await connecting;
    const h = Buffer.from('h');
    const writes = Array.from({ length: 50 }, (_, i) => client.write(h, i * 4096, Buffer.alloc(4096, i)));
    await tick();
    const sentBeforeDrain = written.length;
    assert.ok(sentBeforeDrain >= 1 && sentBeforeDrain < 50, `sent ${sentBeforeDrain}`);
    assert.ok(client.session.queued > 0);
    await tick();
    assert.equal(written.length, sentBeforeDrain); // still blocked: no drain yet
    while (written.length < 50 + 1) {
      release();
      await tick();
      if (client.session.queued === 0 && held.length === 0) break;
    }
    release();
    await Promise.all(writes);
    const offsets = server.received.map((r) => (r.type === T.WRITE ? r.offset : -1));
    assert.deepEqual(
      offsets,
      Array.from({ length: 50 }, (_, i) => i * 4096),
    ); // ascending order kept
  });

  test('end() waits for requests in flight, then closes; calls after end() reject ERR_SFTP_CLOSED', async () => {
    const { client, server } = await setup();
    const p = client.stat('/slow');
    await until(() => server.received.length === 1);
    const ending = client.end();
    assert.equal((await rejectionOf(client.stat('/late'))).code, 'ERR_SFTP_CLOSED');
    server.send({ type: T.ATTRS, id: server.received[0]!.id, attrs: { size: 9 } });
    assert.deepEqual(await p, { size: 9 });
    await ending;
    assert.equal(server.ended, true);
    assert.equal(await client.session.closed, undefined);
  });

  test('a request larger than the server maximum packet is refused locally (E2BIG); the session carries on', async () => {
    const { client, server } = await setup();
    client.session.maxOutgoingPacket = 1000;
    const e = await rejectionOf(client.write(Buffer.from('h'), 0, Buffer.alloc(2000)));
    assert.equal(e.code, 'E2BIG');
    server.onRequest = (r) => server.ok(r.id);
    await client.write(Buffer.from('h'), 0, Buffer.alloc(100));
    assert.equal(server.received.length, 1);
  });

  test('extension helpers reject ENOSYS when not advertised; a bad extension reply body rejects that call only', async () => {
    const { client, server } = await setup({}, (s) => {
      s.extensions = [{ name: 'statvfs@openssh.com', data: Buffer.from('2') }];
    });
    assert.equal(client.isOpenSsh, true);
    for (const p of [
      client.posixRename('/a', '/b'),
      client.fsync(Buffer.from('h')),
      client.fetchLimits(),
      client.hardlink('/a', '/b'),
    ]) {
      assert.equal((await rejectionOf(p)).code, 'ENOSYS');
    }
    server.onRequest = (r) => server.send({ type: T.EXTENDED_REPLY, id: r.id, data: Buffer.alloc(3) });
    assert.ok((await rejectionOf(client.statvfs('/'))) instanceof SftpProtocolError);
    server.onRequest = (r) => server.send({ type: T.EXTENDED_REPLY, id: r.id, data: Buffer.alloc(88, 1) });
    assert.equal((await client.statvfs('/')).bsize, 0x0101010101010101n);
  });

  test('symlink wire order: target first for OpenSSH servers, link path first (draft) otherwise', async () => {
    const draft = await setup();
    draft.server.onRequest = (r) => draft.server.ok(r.id);
    await draft.client.symlink('target', '/link');
    assert.deepEqual(draft.server.received[0], { type: T.SYMLINK, id: 0, first: '/link', second: 'target' });
    const openssh = await setup({}, (s) => (s.extensions = [{ name: 'fsync@openssh.com', data: Buffer.from('1') }]));
    openssh.server.onRequest = (r) => openssh.server.ok(r.id);
    await openssh.client.symlink('target', '/link');
    assert.deepEqual(openssh.server.received[0], { type: T.SYMLINK, id: 0, first: 'target', second: '/link' });
    const forced = await setup({ symlinkOrder: 'openssh' });
    forced.server.onRequest = (r) => forced.server.ok(r.id);
    await forced.client.symlink('t', '/l');
    assert.deepEqual(forced.server.received[0], { type: T.SYMLINK, id: 0, first: 't', second: '/l' });
  });

  test('limits default to the draft sizes when not advertised; transfers then use 32 KiB chunks', async () => {
    const { client } = await setup();
    assert.equal(client.limitsFromServer, false);
    assert.equal(client.limits.maxReadLength, 32768);
    assert.equal(client.readChunkSize, 32768);
    assert.equal(client.writeChunkSize, 32768);
  });

  test('Session alone: init twice is refused; destroy() rejects what is pending', async () => {
    const [a, b] = memoryPair();
    const server = new FakeServer(b);
    const s = new Session(a);
    await s.init();
    assert.ok((await rejectionOf(s.init())) instanceof Error);
    const p = s.request({ type: T.STAT, path: '/x' }, 'stat');
    await until(() => server.received.length === 1);
    s.destroy();
    assert.equal((await rejectionOf(p)).code, 'ECONNRESET');
  });
});
