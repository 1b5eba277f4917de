/**
 * Hostile servers for the client: a scripted peer speaking src/protocol over an in-memory stream that
 * answers each request the way the case says — correctly, with DATA longer than asked, a NAME whose
 * count lies, a reply to an id never sent, the wrong reply type, garbage, an absurd length, a duplicate,
 * a cut stream, or never. The runner checks that every call settles (at the latest when its
 * AbortSignal fires), with a value of the right shape or an error of a known kind, and that no buffer
 * grows past the packet limit.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { SftpClient } from '../../src/client/client.js';
import { AbortError, SourceChangedError } from '../../src/client/core/errors.js';
import {
  Extensions,
  PacketFramer,
  PacketType as T,
  SftpError,
  SftpProtocolError,
  StatusCode,
  Writer,
  decodePacket,
  encodePacketToBuffer,
  type Packet,
} from '../../src/protocol/index.js';
import { memoryPair, sleep, within } from '../../bench/lib/peers/streams.js';

export type Behaviour =
  | 'correct'
  | 'status'
  | 'data-too-long'
  | 'name-count-lies'
  | 'name-many'
  | 'wrong-id'
  | 'wrong-type'
  | 'garbage'
  | 'huge-length'
  | 'cut'
  | 'stall'
  | 'close'
  | 'duplicate'
  | 'ext-garbage'
  | 'slow-split';

export type Op =
  | {
      op:
        | 'stat'
        | 'lstat'
        | 'realpath'
        | 'readlink'
        | 'remove'
        | 'mkdir'
        | 'opendir'
        | 'statvfs'
        | 'expandPath'
        | 'readFile'
        | 'list';
      path: string;
    }
  | { op: 'read'; length: number }
  | { op: 'write'; size: number }
  | { op: 'writeFile'; size: number }
  | { op: 'fstat' | 'close' | 'readdir' }
  | { op: 'usersGroupsById'; n: number }
  | { op: 'checkFile'; path: string };

export interface ClientCase {
  version: 'ok' | 'garbage-extensions' | 'version-4' | 'status-first' | 'stall' | 'cut' | 'huge-length';
  behaviours: Behaviour[];
  ops: Op[];
  /** Random bytes the garbage behaviours use. */
  noise: Buffer;
}

const behaviourArb: fc.Arbitrary<Behaviour> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<Behaviour>('correct') },
  { weight: 2, arbitrary: fc.constant<Behaviour>('status') },
  {
    weight: 6,
    arbitrary: fc.constantFrom<Behaviour>(
      'data-too-long',
      'name-count-lies',
      'name-many',
      'wrong-id',
      'wrong-type',
      'garbage',
      'huge-length',
      'cut',
      'stall',
      'close',
      'duplicate',
      'ext-garbage',
      'slow-split',
    ),
  },
);
const pathArb = fc.constantFrom('/a', 'b', '.', '/d/e', '');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom(
      'stat',
      'lstat',
      'realpath',
      'readlink',
      'remove',
      'mkdir',
      'opendir',
      'statvfs',
      'expandPath',
      'readFile',
      'list',
    ),
    path: pathArb,
  }) as fc.Arbitrary<Op>,
  fc.record({ op: fc.constant('read' as const), length: fc.constantFrom(0, 1, 100, 32768, 200_000) }),
  fc.record({ op: fc.constant('write' as const), size: fc.constantFrom(0, 10, 40_000) }),
  fc.record({ op: fc.constant('writeFile' as const), size: fc.constantFrom(0, 10, 100_000) }),
  fc.record({ op: fc.constantFrom('fstat' as const, 'close' as const, 'readdir' as const) }),
  fc.record({ op: fc.constant('usersGroupsById' as const), n: fc.nat(3) }),
  fc.record({ op: fc.constant('checkFile' as const), path: pathArb }),
);

export const clientCaseArb: fc.Arbitrary<ClientCase> = fc.record({
  version: fc.oneof(
    { weight: 10, arbitrary: fc.constant('ok' as const) },
    { weight: 3, arbitrary: fc.constant('garbage-extensions' as const) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'version-4' as const,
        'status-first' as const,
        'stall' as const,
        'cut' as const,
        'huge-length' as const,
      ),
    },
  ),
  behaviours: fc.array(behaviourArb, { minLength: 1, maxLength: 12 }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 10 }),
  noise: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((u) => Buffer.from(u)),
});

// ---- the hostile server --------------------------------------------------------------------------

type Req = Extract<Packet, { id: number }>;

/** Let the hostile server stall CLOSE requests too (transfers send their CLOSE but never await it past the signal). */
export const STALL_CLOSE = true;

function frame(payload: Buffer): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  payload.copy(b, 4);
  return b;
}

/** A plausible correct answer to `req`. */
function correct(req: Req): Packet {
  const ok = { type: T.STATUS, id: req.id, code: StatusCode.OK, message: 'ok', lang: '' } as const;
  switch (req.type) {
    case T.OPEN:
    case T.OPENDIR:
      return { type: T.HANDLE, id: req.id, handle: Buffer.from([0, 0, 0, 1]) };
    case T.READ:
      return req.length === 0 || req.offset > 0
        ? { type: T.STATUS, id: req.id, code: StatusCode.EOF, message: 'eof', lang: '' }
        : { type: T.DATA, id: req.id, data: Buffer.alloc(Math.min(req.length, 1000), 0x61) };
    case T.STAT:
    case T.LSTAT:
    case T.FSTAT:
      return {
        type: T.ATTRS,
        id: req.id,
        attrs: { size: 1000, permissions: 0o100644, atime: 1, mtime: 2, uid: 0, gid: 0 },
      };
    case T.REALPATH:
    case T.READLINK:
      return { type: T.NAME, id: req.id, entries: [{ filename: '/x', longname: 'x', attrs: {} }] };
    case T.READDIR:
      return req.id % 2 === 0
        ? { type: T.NAME, id: req.id, entries: [{ filename: 'e', longname: '-rw-r--r-- e', attrs: { size: 1 } }] }
        : { type: T.STATUS, id: req.id, code: StatusCode.EOF, message: '', lang: '' };
    case T.EXTENDED:
      if (req.request === Extensions.limits.name) {
        const w = new Writer();
        w.u64(34000).u64(32768).u64(32768).u64(64);
        return { type: T.EXTENDED_REPLY, id: req.id, data: w.finish() };
      }
      if (req.request === Extensions.expandPath.name)
        return { type: T.NAME, id: req.id, entries: [{ filename: '/home', longname: '', attrs: {} }] };
      return { type: T.STATUS, id: req.id, code: StatusCode.OP_UNSUPPORTED, message: 'no', lang: '' };
    default:
      return ok;
  }
}

/** Bytes for a NAME whose count says more entries than follow. */
function lyingName(id: number): Buffer {
  const w = new Writer();
  w.u8(T.NAME).u32(id).u32(0x7fffffff).string('only').string('one').u32(0);
  return frame(w.finish());
}

export class HostileServer {
  readonly received: Req[] = [];
  private index = 0;
  faults = 0;
  /** Set once the server sent something that must fail the whole session. */
  fatal = false;
  private readonly held: Buffer[] = [];

  constructor(
    readonly stream: Duplex,
    readonly c: ClientCase,
  ) {
    const framer = new PacketFramer({ onPacket: (p) => this.onPacket(Buffer.from(p)) }, 1 << 24);
    stream.on('data', (chunk: Buffer) => {
      try {
        framer.push(chunk);
      } catch {
        stream.destroy();
      }
    });
    stream.on('error', () => undefined);
  }

  /** True while a packet is being dripped out. */
  get busy(): boolean {
    return this.pending !== null;
  }
  /** Replies queued behind a packet being dripped byte by byte (packets never interleave on the wire). */
  private pending: Buffer[] | null = null;

  private write(b: Buffer): void {
    if (this.pending) this.pending.push(b);
    else if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(b);
  }

  /** Send `b` one byte per turn of the event loop, holding other replies until it is out. */
  private drip(b: Buffer): void {
    if (this.pending) {
      this.pending.push(b);
      return;
    }
    this.pending = [];
    let i = 0;
    const next = (): void => {
      if (i < b.length && !this.stream.destroyed && !this.stream.writableEnded) {
        this.stream.write(b.subarray(i, i + 1));
        i++;
        setImmediate(next);
        return;
      }
      const held = this.pending ?? [];
      this.pending = null;
      for (const h of held) this.write(h);
    };
    next();
  }

  private onPacket(payload: Buffer): void {
    const p = decodePacket(payload);
    if (p.type === T.INIT) return this.onInit();
    if (!('id' in p)) return;
    this.received.push(p as Req);
    const how = this.c.behaviours[this.index++ % this.c.behaviours.length]!;
    if (how !== 'correct') this.faults++;
    this.answer(p as Req, how);
  }

  private onInit(): void {
    const exts = Object.values(Extensions).map((e) => ({ name: e.name, data: Buffer.from(e.version) }));
    switch (this.c.version) {
      case 'ok':
        return this.write(encodePacketToBuffer({ type: T.VERSION, version: 3, extensions: exts }));
      case 'garbage-extensions': {
        this.faults++;
        const garbage = [
          { name: this.c.noise.toString('latin1'), data: this.c.noise },
          { name: 'constructor', data: Buffer.alloc(0) },
          { name: '__proto__', data: Buffer.from('x') },
          { name: Extensions.limits.name, data: this.c.noise },
          { name: '', data: Buffer.alloc(2000, 0xff) },
        ];
        // a VERSION whose extension list ends in a truncated pair, or a list of odd names
        const good = encodePacketToBuffer({ type: T.VERSION, version: 3, extensions: [...exts, ...garbage] });
        if (this.c.noise[0]! % 2 === 0) return this.write(good);
        const w = new Writer();
        w.u8(T.VERSION).u32(3).string('dangling-name').u32(0xffffff00);
        return this.write(frame(w.finish()));
      }
      case 'version-4':
        this.faults++;
        return this.write(encodePacketToBuffer({ type: T.VERSION, version: 4, extensions: [] }));
      case 'status-first':
        this.faults++;
        return this.write(encodePacketToBuffer({ type: T.STATUS, id: 0, code: 0, message: '', lang: '' }));
      case 'stall':
        this.faults++;
        return;
      case 'cut':
        this.faults++;
        this.write(encodePacketToBuffer({ type: T.VERSION, version: 3, extensions: exts }).subarray(0, 7));
        this.stream.end();
        return;
      case 'huge-length': {
        this.faults++;
        const b = Buffer.alloc(12);
        b.writeUInt32BE(0xfffffff0, 0);
        b[4] = T.VERSION;
        return this.write(b);
      }
    }
  }

  private answer(req: Req, how: Behaviour): void {
    const good = correct(req);
    // Transfers send the CLOSE of their cleanup but wait for its reply only abortGraceMs past the
    // caller's signal (src/client/core/close-handle.ts), so a stalled CLOSE cannot keep them pending.
    if (how === 'stall' && req.type === T.CLOSE && !STALL_CLOSE) how = 'correct';
    switch (how) {
      case 'correct':
        return this.write(encodePacketToBuffer(good));
      case 'status':
        return this.write(
          encodePacketToBuffer({
            type: T.STATUS,
            id: req.id,
            code: this.c.noise[0]! % 12,
            message: this.c.noise.toString('latin1'),
            lang: 'x',
          }),
        );
      case 'data-too-long':
        if (req.type === T.READ) {
          this.fatal = true;
          return this.write(encodePacketToBuffer({ type: T.DATA, id: req.id, data: Buffer.alloc(req.length + 1) }));
        }
        return this.write(encodePacketToBuffer(good));
      case 'name-count-lies':
        this.fatal = true;
        return this.write(lyingName(req.id));
      case 'name-many':
        return this.write(
          encodePacketToBuffer({
            type: T.NAME,
            id: req.id,
            entries: Array.from({ length: 3 }, (_, i) => ({ filename: `n${i}`, longname: '', attrs: {} })),
          }),
        );
      case 'wrong-id':
        this.fatal = true;
        return this.write(encodePacketToBuffer({ ...good, id: (req.id + 7919) >>> 0 } as Packet));
      case 'wrong-type':
        // not fatal: a well-framed reply to a known id fails only its own request (the session carries on)
        return this.write(
          encodePacketToBuffer(
            good.type === T.HANDLE
              ? { type: T.ATTRS, id: req.id, attrs: {} }
              : { type: T.HANDLE, id: req.id, handle: Buffer.from('h') },
          ),
        );
      case 'garbage':
        this.fatal = true;
        return this.write(frame(Buffer.concat([Buffer.from([0xff]), this.c.noise])));
      case 'huge-length': {
        this.fatal = true;
        const b = Buffer.alloc(9);
        b.writeUInt32BE(0xffffffff, 0);
        b[4] = T.DATA;
        b.writeUInt32BE(req.id, 5);
        return this.write(b);
      }
      case 'cut':
        this.fatal = true;
        this.write(encodePacketToBuffer(good).subarray(0, 6));
        this.stream.end();
        return;
      case 'stall':
        return;
      case 'close':
        this.fatal = true;
        this.stream.destroy();
        return;
      case 'duplicate': {
        const b = encodePacketToBuffer(good);
        this.write(b);
        this.held.push(b);
        // the second copy comes later, after other replies may have gone out
        setImmediate(() => {
          this.fatal = true;
          this.write(b);
        });
        return;
      }
      case 'ext-garbage':
        if (req.type === T.EXTENDED)
          return this.write(encodePacketToBuffer({ type: T.EXTENDED_REPLY, id: req.id, data: this.c.noise }));
        return this.write(encodePacketToBuffer(good));
      case 'slow-split':
        return this.drip(encodePacketToBuffer(good));
    }
  }
}

// ---- running -------------------------------------------------------------------------------------

function isKnownError(e: unknown): boolean {
  // SourceChangedError: a transfer whose STAT promised more bytes than the READs delivered (an EOF status)
  return (
    e instanceof SftpError ||
    e instanceof SftpProtocolError ||
    e instanceof SourceChangedError ||
    e instanceof AbortError ||
    (e instanceof Error && e.name === 'AbortError')
  );
}

async function runOp(client: SftpClient, op: Op, signal: AbortSignal): Promise<unknown> {
  const h = Buffer.from([0, 0, 0, 1]);
  const o = { signal };
  switch (op.op) {
    case 'stat':
    case 'lstat': {
      const a = await client[op.op](op.path, o);
      assert.equal(typeof a, 'object');
      return a;
    }
    case 'realpath':
    case 'readlink':
    case 'expandPath': {
      const s = await client[op.op](op.path, o);
      assert.equal(typeof s, 'string');
      return s;
    }
    case 'remove':
      return client.remove(op.path, o);
    case 'mkdir':
      return client.mkdir(op.path, {}, o);
    case 'opendir': {
      const handle = await client.opendir(op.path, o);
      assert.ok(Buffer.isBuffer(handle));
      return handle;
    }
    case 'statvfs':
      return client.statvfs(op.path, o);
    case 'readFile': {
      const data = await client.readFile(op.path, { signal });
      assert.ok(Buffer.isBuffer(data));
      return data;
    }
    case 'list': {
      const entries = await client.list(op.path, { signal });
      assert.ok(Array.isArray(entries));
      return entries;
    }
    case 'read': {
      const data = await client.read(h, 0, op.length, o);
      assert.ok(data.length <= op.length, `read ${data.length} bytes, asked ${op.length}`);
      return data;
    }
    case 'write':
      return client.write(h, 0, Buffer.alloc(op.size), o);
    case 'writeFile': {
      const r = await client.writeFile('/w', Buffer.alloc(op.size, 0x77), { signal });
      assert.equal(r.bytes, op.size);
      return r;
    }
    case 'fstat':
      return client.fstat(h, o);
    case 'close':
      return client.close(h, o);
    case 'readdir':
      return client.readdir(h, o);
    case 'usersGroupsById': {
      const ids = Array.from({ length: op.n }, (_, i) => i);
      const r = await client.usersGroupsById(ids, ids, o);
      assert.equal(r.users.length, op.n);
      return r;
    }
    case 'checkFile':
      return client.checkFile(op.path, { signal });
  }
}

/** Wait until the hostile server has seen no new request for a few turns of the event loop. */
async function quiet(server: HostileServer): Promise<void> {
  let last = -1;
  let same = 0;
  while (same < 4) {
    await sleep(2);
    same = server.received.length === last && !server.busy ? same + 1 : 0;
    last = server.received.length;
  }
}

export interface ClientOutcome {
  requests: number;
  faults: number;
  resolved: number;
  rejected: number;
  /** 1 when the handshake stalled until the caller gave up through the connect signal. */
  torndown: number;
}

/** Play one case; throws on the first broken rule. */
export async function runClientCase(c: ClientCase): Promise<ClientOutcome> {
  const [clientEnd, serverEnd] = memoryPair();
  const server = new HostileServer(serverEnd, c);
  const out: ClientOutcome = { requests: 0, faults: 0, resolved: 0, rejected: 0, torndown: 0 };

  // A short abort grace: a stalled cleanup CLOSE costs 20 ms, and both its outcomes (answered within
  // the grace, or given up on) are exercised.
  const handshake = new AbortController();
  const connecting = SftpClient.fromStream(clientEnd, { abortGraceMs: 20, signal: handshake.signal }).then(
    (client) => ({ client }),
    (error: unknown) => ({ error }),
  );
  // Against a server that never sends VERSION (or never answers limits@openssh.com) the caller gives
  // up through the connect signal: the connect must reject with an AbortError and tear the stream down.
  let settledConnect = false;
  void connecting.then(() => (settledConnect = true));
  await quiet(server);
  if (!settledConnect) {
    out.torndown = 1;
    handshake.abort();
  }
  const hello = await within(connecting, 5000, 'the handshake');
  if ('error' in hello) {
    assert.ok(isKnownError(hello.error), `connect rejected with ${hello.error}`);
    if (out.torndown) {
      assert.equal((hello.error as Error).name, 'AbortError', `a connect given up on: ${hello.error}`);
      assert.equal(clientEnd.destroyed, true, 'the stream of a connect given up on is destroyed');
    }
    assert.ok(
      c.version !== 'ok' || server.fatal || server.received.length > 0,
      `connect failed against a good VERSION: ${hello.error}`,
    );
    clientEnd.destroy();
    out.faults = server.faults;
    return out;
  }
  assert.ok(c.version === 'ok' || c.version === 'garbage-extensions', `connect succeeded against ${c.version}`);
  const client = hello.client;
  const ac = new AbortController();
  const settled = c.ops.map((op) =>
    runOp(client, op, ac.signal).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error, op }),
    ),
  );
  await quiet(server);
  // the caller's timeout fires: whatever still waits must reject now
  ac.abort(new Error('timeout'));
  const results = await within(Promise.all(settled), 5000, 'every call after the abort');
  for (const r of results) {
    if (r.ok) out.resolved++;
    else {
      out.rejected++;
      assert.ok(
        isKnownError(r.error),
        `${r.op.op} rejected with an unexpected error: ${(r.error as Error)?.stack ?? r.error}`,
      );
    }
  }
  if (server.fatal) {
    // a protocol violation (or a lost stream) fails the whole session; later calls reject at once
    assert.equal(client.session.isOpen, false, 'the session is closed after a fatal reply');
    const later = await within(
      client.stat('/').then(
        () => undefined,
        (e: unknown) => e,
      ),
      1000,
      'a call after the failure',
    );
    assert.ok(later instanceof SftpError && later.code === 'ERR_SFTP_CLOSED', `a call after the failure: ${later}`);
  }
  const ending = client.end().catch(() => undefined);
  serverEnd.end();
  await within(ending, 5000, 'client.end()');
  clientEnd.destroy();
  out.requests = server.received.length;
  out.faults = server.faults;
  return out;
}
