/**
 * Hostile input for the server: fast-check arbitraries of whole sessions (valid requests with bent
 * fields, mutated packets, lying lengths, huge counts, garbage, oversized and truncated packets) and
 * the runner that plays one against `SftpServer.serve` and checks what must always hold.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import type { ServerLimits } from '../../src/server/options.js';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import { encodePacketToBuffer, peekHeader, type Packet } from '../../src/protocol/packets.js';
import { Extensions, encodeExtensionRequest } from '../../src/protocol/extensions.js';
import type { Attrs } from '../../src/protocol/attrs.js';
import { CountingFs } from '../../bench/lib/peers/counting-fs.js';
import { RawPeer } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';
import { attrsFromParts } from '../protocol/arbitraries.js';

// ---- arbitraries ---------------------------------------------------------------------------------

const pathArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('/', '/a', '/a/b', '/f', '/g', '/d', '/d/x', '/d/y/z', 'f', '.', '..', '', '~', '~/f'),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('/../f', '//f//', 'd/./x', '/d/../../g', '/a/b/../../../..', '/f/', '/d/x/.'),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'x'.repeat(256),
      '/d/' + 'y'.repeat(300),
      'a\0b',
      '/\0',
      'é/ü',
      '/d/' + 'z/'.repeat(200),
    ),
  },
);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const offsetArb = fc.oneof(fc.nat(70_000), fc.constantFrom(0, 2 ** 31, 2 ** 32, 2 ** 53 - 1));
const lengthArb = fc.oneof(fc.nat(70_000), fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff));
/** Handles this server hands out are 4-byte counters from 1: small numbers hit real ones. */
const handleArb: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.integer({ min: 0, max: 8 }).map((n) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    }),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((u) => Buffer.from(u)) },
);
const attrsArb: fc.Arbitrary<Attrs> = fc
  .record(
    {
      size: fc.oneof(fc.nat(100_000), fc.constantFrom(2 ** 40, 2 ** 53 - 1)),
      ids: fc.tuple(u32, u32),
      permissions: fc.oneof(fc.constantFrom(0o644, 0o755, 0o4777, 0o120777, 0o40755), u32),
      times: fc.tuple(u32, u32),
      extended: fc.array(
        fc.record({
          type: fc.string({ maxLength: 8 }),
          data: fc.uint8Array({ maxLength: 8 }).map((u) => Buffer.from(u)),
        }),
        { minLength: 1, maxLength: 2 },
      ),
    },
    { requiredKeys: [] },
  )
  .map(attrsFromParts);
const pflagsArb = fc.oneof(
  fc.constantFrom(
    OpenFlags.READ,
    OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
    OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT,
    OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL,
    OpenFlags.WRITE | OpenFlags.APPEND | OpenFlags.CREAT,
  ),
  u32,
);
const dataArb = fc
  .oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1000, maxLength: 3000 }))
  .map((u) => Buffer.from(u));

type Req = Extract<Packet, { id: number }>;
type ReqBody = Req extends infer P ? (P extends Req ? Omit<P, 'id'> : never) : never;

const ext = (name: string, data: Buffer): ReqBody => ({ type: T.EXTENDED, request: name, data });
const extensionArb: fc.Arbitrary<ReqBody> = fc.oneof(
  fc
    .tuple(pathArb, pathArb)
    .map(([a, b]) =>
      ext(Extensions.posixRename.name, encodeExtensionRequest('posixRename', { oldPath: a, newPath: b })),
    ),
  fc
    .tuple(pathArb, pathArb)
    .map(([a, b]) => ext(Extensions.hardlink.name, encodeExtensionRequest('hardlink', { oldPath: a, newPath: b }))),
  pathArb.map((p) => ext(Extensions.statvfs.name, encodeExtensionRequest('statvfs', { path: p }))),
  pathArb.map((p) => ext(Extensions.expandPath.name, encodeExtensionRequest('expandPath', { path: p }))),
  handleArb.map((h) => ext(Extensions.fstatvfs.name, encodeExtensionRequest('fstatvfs', { handle: h }))),
  handleArb.map((h) => ext(Extensions.fsync.name, encodeExtensionRequest('fsync', { handle: h }))),
  fc
    .tuple(pathArb, attrsArb)
    .map(([p, a]) => ext(Extensions.lsetstat.name, encodeExtensionRequest('lsetstat', { path: p, attrs: a }))),
  fc.constant(ext(Extensions.limits.name, encodeExtensionRequest('limits', {}))),
  fc
    .string({ maxLength: 10 })
    .map((u) => ext(Extensions.homeDirectory.name, encodeExtensionRequest('homeDirectory', { username: u }))),
  fc.tuple(handleArb, offsetArb, lengthArb, handleArb, offsetArb).map(([rh, ro, len, wh, wo]) =>
    ext(
      Extensions.copyData.name,
      encodeExtensionRequest('copyData', {
        readHandle: rh,
        readOffset: ro,
        readLength: len,
        writeHandle: wh,
        writeOffset: wo,
      }),
    ),
  ),
  fc
    .tuple(fc.array(u32, { maxLength: 5 }), fc.array(u32, { maxLength: 5 }))
    .map(([uids, gids]) =>
      ext(Extensions.usersGroupsById.name, encodeExtensionRequest('usersGroupsById', { uids, gids })),
    ),
  fc
    .tuple(
      fc.oneof(pathArb, handleArb),
      fc.array(fc.constantFrom('sha256', 'md5', 'sha1', 'nope', 'constructor', '__proto__'), { maxLength: 3 }),
      offsetArb,
      lengthArb,
      fc.constantFrom(0, 1, 255, 256, 4096),
    )
    .map(([target, algorithms, startOffset, length, blockSize]) =>
      typeof target === 'string'
        ? ext(
            Extensions.checkFileName.name,
            encodeExtensionRequest('checkFileName', { target, algorithms, startOffset, length, blockSize }),
          )
        : ext(
            Extensions.checkFileHandle.name,
            encodeExtensionRequest('checkFileHandle', { target, algorithms, startOffset, length, blockSize }),
          ),
    ),
  // known names with random bodies, unknown names, names that look like object keys
  fc
    .tuple(fc.constantFrom(...Object.values(Extensions).map((e) => e.name)), fc.uint8Array({ maxLength: 40 }))
    .map(([n, d]) => ext(n, Buffer.from(d))),
  fc
    .tuple(
      fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'x@y', ''),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([n, d]) => ext(n, Buffer.from(d))),
);

/** A request body (no id) with any field bent within what still encodes. */
export const requestArb: fc.Arbitrary<ReqBody> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ path: pathArb, pflags: pflagsArb, attrs: attrsArb })
      .map((r): ReqBody => ({ type: T.OPEN, ...r })),
  },
  { weight: 2, arbitrary: handleArb.map((handle): ReqBody => ({ type: T.CLOSE, handle })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ handle: handleArb, offset: offsetArb, length: lengthArb })
      .map((r): ReqBody => ({ type: T.READ, ...r })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ handle: handleArb, offset: offsetArb, data: dataArb })
      .map((r): ReqBody => ({ type: T.WRITE, ...r })),
  },
  { weight: 1, arbitrary: fc.record({ handle: handleArb }).map((r): ReqBody => ({ type: T.FSTAT, ...r })) },
  {
    weight: 1,
    arbitrary: fc.record({ handle: handleArb, attrs: attrsArb }).map((r): ReqBody => ({ type: T.FSETSTAT, ...r })),
  },
  { weight: 2, arbitrary: fc.record({ handle: handleArb }).map((r): ReqBody => ({ type: T.READDIR, ...r })) },
  {
    weight: 1,
    arbitrary: fc.record({ path: pathArb, attrs: attrsArb }).map((r): ReqBody => ({ type: T.SETSTAT, ...r })),
  },
  {
    weight: 2,
    arbitrary: fc.record({ path: pathArb, attrs: attrsArb }).map((r): ReqBody => ({ type: T.MKDIR, ...r })),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(T.LSTAT, T.STAT, T.OPENDIR, T.REMOVE, T.RMDIR, T.REALPATH, T.READLINK), pathArb)
      .map(([type, path]) => ({ type, path }) as ReqBody),
  },
  {
    weight: 1,
    arbitrary: fc.record({ oldPath: pathArb, newPath: pathArb }).map((r): ReqBody => ({ type: T.RENAME, ...r })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ first: pathArb, second: pathArb }).map((r): ReqBody => ({ type: T.SYMLINK, ...r })),
  },
  { weight: 3, arbitrary: extensionArb },
);

export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number[]; xor: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'trailing'; bytes: Buffer }
  | { kind: 'type'; value: number }
  | { kind: 'outer-length'; delta: number };

export type Step =
  | { kind: 'valid'; body: ReqBody }
  | { kind: 'mutated'; body: ReqBody; mutation: Mutation }
  | { kind: 'garbage'; bytes: Buffer }
  | { kind: 'oversized'; type: number; id: number; extra: number }
  | { kind: 'zero-length' }
  | { kind: 'init-again' };

export interface ServerCase {
  /** What the session starts with. */
  start: 'init' | 'no-init' | 'init-version-4' | 'init-with-garbage-extensions';
  steps: Step[];
  /** How the client leaves: half-close and wait, tear the stream down, or end in the middle of a packet. */
  finish: 'end' | 'destroy' | 'cut';
  /** Bytes per write: the chunking of the stream (0 = each step in one write). */
  chunk: number;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat(400).map((at): Mutation => ({ kind: 'truncate', at })),
  fc
    .record({ at: fc.array(fc.nat(400), { minLength: 1, maxLength: 4 }), xor: fc.integer({ min: 1, max: 255 }) })
    .map((r): Mutation => ({ kind: 'flip', ...r })),
  fc
    .record({ at: fc.nat(400), value: fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0xfffffff0, 0) })
    .map((r): Mutation => ({ kind: 'u32', ...r })),
  fc.uint8Array({ minLength: 1, maxLength: 32 }).map((u): Mutation => ({ kind: 'trailing', bytes: Buffer.from(u) })),
  fc.integer({ min: 0, max: 255 }).map((value): Mutation => ({ kind: 'type', value })),
  fc
    .integer({ min: -8, max: 8 })
    .filter((d) => d !== 0)
    .map((delta): Mutation => ({ kind: 'outer-length', delta })),
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: requestArb.map((body): Step => ({ kind: 'valid', body })) },
  {
    weight: 6,
    arbitrary: fc.record({ body: requestArb, mutation: mutationArb }).map((r): Step => ({ kind: 'mutated', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 64 })
      .map((u): Step => ({ kind: 'garbage', bytes: Buffer.from(u) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ type: fc.constantFrom(T.WRITE, T.OPEN, T.EXTENDED, 77), id: u32, extra: fc.nat(64) })
      .map((r): Step => ({ kind: 'oversized', ...r })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'zero-length' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'init-again' }) },
);

export const serverCaseArb: fc.Arbitrary<ServerCase> = fc.record({
  start: fc.oneof(
    { weight: 12, arbitrary: fc.constant('init' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'no-init' as const,
        'init-version-4' as const,
        'init-with-garbage-extensions' as const,
      ),
    },
  ),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 30 }),
  finish: fc.constantFrom('end' as const, 'end' as const, 'destroy' as const, 'cut' as const),
  chunk: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 100, max: 5000 })),
});

// ---- encoding ------------------------------------------------------------------------------------

/** The fuzz server's packet limit: small, so oversized packets are cheap to send. */
export const FUZZ_MAX_PACKET = 16 * 1024;

function applyMutation(frame: Buffer, m: Mutation): Buffer {
  const payload = frame.subarray(4);
  let out: Buffer;
  switch (m.kind) {
    case 'truncate':
      out = payload.subarray(0, Math.max(1, m.at % payload.length));
      break;
    case 'flip':
      out = Buffer.from(payload);
      for (const at of m.at) out[at % out.length]! ^= m.xor;
      break;
    case 'u32':
      out = Buffer.from(payload);
      if (out.length >= 4) out.writeUInt32BE(m.value >>> 0, m.at % (out.length - 3));
      break;
    case 'trailing':
      out = Buffer.concat([payload, m.bytes]);
      break;
    case 'type':
      out = Buffer.from(payload);
      out[0] = m.value;
      break;
    case 'outer-length': {
      const f = Buffer.from(frame);
      f.writeUInt32BE(Math.max(0, payload.length + m.delta), 0);
      return f;
    }
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(out.length);
  return Buffer.concat([head, out]);
}

/** True for steps after which the server may legitimately stop answering (or read the stream differently). */
function mayDisturb(step: Step): boolean {
  return step.kind !== 'valid' && step.kind !== 'init-again';
}

interface Encoded {
  bytes: Buffer[];
  /** Ids of valid requests sent before anything that may close the session or desync the framing. */
  mustAnswer: number[];
  /** Ids of truncated, non-EXTENDED requests sent while the framing was intact: BAD_MESSAGE is due. */
  mustBeBadMessage: number[];
  /** Every id the server could legitimately answer, when the framing stays intact (else undefined). */
  answerable?: Map<number, number>;
}

export function encodeCase(c: ServerCase): Encoded {
  const bytes: Buffer[] = [];
  const mustAnswer: number[] = [];
  const mustBeBadMessage: number[] = [];
  let intact = c.start === 'init' || c.start === 'init-with-garbage-extensions';
  let framingIntact = true;
  const initExt =
    c.start === 'init-with-garbage-extensions'
      ? [
          { name: 'x'.repeat(40), data: Buffer.alloc(300, 0xff) },
          { name: '\u0000\uffff', data: Buffer.alloc(0) },
        ]
      : [];
  if (c.start !== 'no-init')
    bytes.push(
      encodePacketToBuffer({ type: T.INIT, version: c.start === 'init-version-4' ? 4 : 3, extensions: initExt }),
    );
  let nextId = 1_000_000;
  for (const step of c.steps) {
    const id = nextId++;
    switch (step.kind) {
      case 'valid':
        bytes.push(encodePacketToBuffer({ ...step.body, id } as Packet));
        if (intact) mustAnswer.push(id);
        break;
      case 'mutated': {
        const frame = encodePacketToBuffer({ ...step.body, id } as Packet);
        const mutated = applyMutation(frame, step.mutation);
        bytes.push(mutated);
        if (intact && step.mutation.kind === 'truncate' && step.body.type !== T.EXTENDED && mutated.length >= 4 + 5)
          mustBeBadMessage.push(id);
        if (step.mutation.kind === 'outer-length') framingIntact = false;
        break;
      }
      case 'garbage':
        bytes.push(step.bytes);
        framingIntact = false;
        break;
      case 'oversized': {
        const len = FUZZ_MAX_PACKET + 1 + step.extra;
        const f = Buffer.alloc(4 + len, 0x41);
        f.writeUInt32BE(len, 0);
        f[4] = step.type;
        f.writeUInt32BE(step.id >>> 0, 5);
        bytes.push(f);
        break;
      }
      case 'zero-length':
        bytes.push(Buffer.alloc(4));
        break;
      case 'init-again':
        bytes.push(encodePacketToBuffer({ type: T.INIT, version: 3, extensions: [] }));
        break;
    }
    if (mayDisturb(step)) intact = false;
  }
  let answerable: Map<number, number> | undefined;
  if (framingIntact) {
    answerable = new Map();
    for (const b of bytes) {
      const { id } = peekHeader(b.subarray(4));
      if (id !== undefined) answerable.set(id, (answerable.get(id) ?? 0) + 1);
    }
  }
  if (c.finish === 'cut') {
    const partial = encodePacketToBuffer({
      type: T.WRITE,
      id: nextId,
      handle: Buffer.alloc(4),
      offset: 0,
      data: Buffer.alloc(100),
    });
    bytes.push(partial.subarray(0, 1 + (c.steps.length % 60)));
  }
  return { bytes, mustAnswer, mustBeBadMessage, answerable };
}

// ---- running -------------------------------------------------------------------------------------

export type FuzzStorage = 'memory' | 'local';

export interface FuzzServer {
  server: SftpServer;
  fs: CountingFs;
  storage: FuzzStorage;
}

/** A server for fuzzing: MemoryFs with a small capacity, or LocalFs on a temporary root. */
export function fuzzServer(storage: FuzzStorage, root?: string, limits: ServerLimits = {}): FuzzServer {
  const inner = storage === 'memory' ? new MemoryFs({ capacity: 8 * 1024 * 1024 }) : new LocalFs(root!);
  const fs = new CountingFs(inner);
  return {
    server: new SftpServer({ fs, limits: { maxPacket: FUZZ_MAX_PACKET, maxHandles: 16, ...limits } }),
    fs,
    storage,
  };
}

export interface CaseOutcome {
  replies: number;
  bytesSent: number;
  /** Hostile steps in the case (mutated, garbage, oversized, zero length, repeated INIT, bad start, abrupt end). */
  faults: number;
}

const REPLY_TYPES = new Set<number>([T.STATUS, T.HANDLE, T.DATA, T.NAME, T.ATTRS, T.EXTENDED_REPLY]);

/** Play one case against `fz.server` and check every rule; throws on the first broken one. */
export async function runServerCase(fz: FuzzServer, c: ServerCase): Promise<CaseOutcome> {
  const enc = encodeCase(c);
  const [clientEnd, serverEnd] = memoryPair(16 * 1024);
  const served = fz.server.serve(serverEnd).then(
    () => 'resolved',
    (err: unknown) => `rejected: ${(err as Error)?.stack ?? err}`,
  );
  const peer = new RawPeer(clientEnd);
  const all = Buffer.concat(enc.bytes);

  // write in the chosen chunking, yielding so the server works while input keeps coming
  const chunk = c.chunk === 0 ? 0 : c.chunk;
  const pieces = chunk === 0 ? enc.bytes : splitEvery(all, chunk);
  for (const piece of pieces) {
    if (!peer.canWrite()) break;
    if (!peer.sendRaw(piece))
      await new Promise<void>((r) => {
        clientEnd.once('drain', r);
        clientEnd.once('close', r);
      });
    if (pieces.length < 200 || Math.random() < 0.05) await new Promise((r) => setImmediate(r));
  }
  if (c.finish === 'destroy') {
    await new Promise((r) => setImmediate(r));
    clientEnd.destroy();
  } else {
    clientEnd.end();
  }
  assert.equal(await within(served, 15_000, 'serve() after the client left'), 'resolved', 'serve() never rejects');
  if (c.finish !== 'destroy') await within(peer.closed, 15_000, 'the server closing its end');

  // 1. the server only ever sends well-formed replies
  assert.deepEqual(peer.undecodable, [], 'the server sent a packet that does not decode');
  const first = peer.replies[0];
  if (c.start === 'init' || c.start === 'init-with-garbage-extensions') {
    if (c.finish !== 'destroy') assert.equal(first?.type, T.VERSION, 'VERSION answers INIT');
  } else if (c.start === 'no-init') {
    assert.ok(
      peer.replies.length === 0 || first?.type === T.VERSION,
      'nothing but VERSION may answer a session that did not start with INIT',
    );
  }
  assert.equal(peer.replies.filter((p) => p.type === T.VERSION).length <= 1, true, 'one VERSION at most');
  if (peer.replies.length > 0 && first?.type !== T.VERSION) assert.fail(`first reply ${first?.type} is not VERSION`);
  for (const p of peer.replies.slice(1)) assert.ok(REPLY_TYPES.has(p.type), `reply type ${p.type} is not a reply`);

  // 2. ids: never answered more often than asked; valid requests before any disturbance all answered once
  const counts = new Map<number, number>();
  for (const p of peer.replies) if ('id' in p) counts.set(p.id, (counts.get(p.id) ?? 0) + 1);
  if (enc.answerable) {
    for (const [id, n] of counts)
      assert.ok(
        n <= (enc.answerable.get(id) ?? 0),
        `id ${id} answered ${n} times, asked ${enc.answerable.get(id) ?? 0}`,
      );
  }
  if (c.finish === 'end' || c.finish === 'cut') {
    // at least once: a mutated packet later in the case may carry the same id (a flipped id byte)
    for (const id of enc.mustAnswer)
      assert.ok((counts.get(id) ?? 0) >= 1, `valid request ${id} (before any hostile packet) was not answered`);
    for (const id of enc.mustBeBadMessage) {
      const r = peer.repliesTo(id);
      assert.ok(r.length >= 1, `truncated request ${id} answered`);
      assert.equal(
        r[0]!.type === T.STATUS && r[0]!.code,
        StatusCode.BAD_MESSAGE,
        `truncated request ${id} gets BAD_MESSAGE`,
      );
    }
  }

  // 3. every storage handle the session opened is closed, nothing still running
  assert.equal(fz.fs.openHandles, 0, 'storage handles left open after the session');
  assert.equal(fz.fs.running, 0, 'storage calls still running after the session');

  const faults =
    c.steps.filter((s) => s.kind !== 'valid').length + (c.start === 'init' ? 0 : 1) + (c.finish === 'end' ? 0 : 1);
  return { replies: peer.replies.length, bytesSent: all.length, faults };
}

/** A fresh session on the same server works: INIT, REALPATH, a file round trip. */
export async function checkNextSession(fz: FuzzServer): Promise<void> {
  const [clientEnd, serverEnd] = memoryPair();
  const served = fz.server.serve(serverEnd);
  const peer = new RawPeer(clientEnd);
  const v = await within(peer.init(), 5000, 'VERSION of the next session');
  assert.equal(v?.type, T.VERSION);
  const rp = await within(peer.request({ type: T.REALPATH, id: 1, path: '.' }), 5000, 'REALPATH');
  assert.equal(rp?.type === T.NAME && rp.entries[0]?.filename, '/');
  const name = `/probe-${Math.random().toString(36).slice(2)}`;
  const h = await peer.request({
    type: T.OPEN,
    id: 2,
    path: name,
    pflags: OpenFlags.READ | OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL,
    attrs: {},
  });
  assert.equal(h?.type, T.HANDLE, `OPEN in the next session: ${JSON.stringify(h)}`);
  const handle = h?.type === T.HANDLE ? h.handle : Buffer.alloc(0);
  assert.equal(
    (await peer.request({ type: T.WRITE, id: 3, handle, offset: 0, data: Buffer.from('alive') }))?.type,
    T.STATUS,
  );
  const r = await peer.request({ type: T.READ, id: 4, handle, offset: 0, length: 100 });
  assert.equal(r?.type === T.DATA && r.data.toString(), 'alive');
  await peer.request({ type: T.CLOSE, id: 5, handle });
  await peer.request({ type: T.REMOVE, id: 6, path: name });
  clientEnd.end();
  await within(served, 5000, 'the next session ending');
  assert.equal(fz.fs.openHandles, 0);
}

function splitEvery(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n));
  return out;
}
