/**
 * Pipelined requests take effect in the order sent. Random mixes of path requests (MKDIR, RMDIR,
 * SETSTAT, STAT, RENAME, REMOVE, exclusive OPEN) and handle requests (WRITE, CLOSE on files opened
 * beforehand) over a small set of names are sent in one go, without waiting for any reply, to our
 * server and to OpenSSH's sftp-server (which runs one request at a time). Every reply's status, every
 * STAT's type, permissions and size, and the final tree (types, permissions, file contents) must match.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { PacketType as T, OpenFlags, StatusCode } from '../../src/protocol/constants.js';
import type { Packet } from '../../src/protocol/packets.js';
import { RawPeer, type Reply } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';
import { spawnSftpServer } from '../../bench/lib/peers/openssh.js';

const NAMES = ['a', 'a/b', 'a/b/c', 'b', 'x', 'y'] as const;
/** Files opened (CREAT|TRUNC|WRITE) before the pipelined batch; their handles are slots 0 and 1. */
const PREOPENED = ['x', 'y'] as const;
/** Permissions that keep directories traversable, so every later request still reaches its path. */
const MODES = [0o700, 0o750, 0o755] as const;

type Op =
  | { op: 'mkdir' | 'rmdir' | 'remove' | 'stat' | 'openExcl'; p: string }
  | { op: 'setstat'; p: string; mode: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'write'; slot: number; offset: number; len: number }
  | { op: 'close'; slot: number };

const name = fc.constantFrom(...NAMES);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('mkdir', 'rmdir', 'remove', 'stat', 'openExcl') as fc.Arbitrary<'mkdir'>, p: name }),
  fc.record({ op: fc.constant('setstat' as const), p: name, mode: fc.constantFrom(...MODES) }),
  fc.record({ op: fc.constant('rename' as const), from: name, to: name }),
  fc.record({
    op: fc.constant('write' as const),
    slot: fc.nat(1),
    offset: fc.nat(300),
    len: fc.integer({ min: 1, max: 200 }),
  }),
  fc.record({ op: fc.constant('close' as const), slot: fc.nat(1) }),
);
/** A handle is not used after its CLOSE (servers word an unknown handle differently). */
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 25 }).map((ops) => {
  const closed = new Set<number>();
  return ops.filter((o) => {
    if (o.op !== 'write' && o.op !== 'close') return true;
    if (closed.has(o.slot)) return false;
    if (o.op === 'close') closed.add(o.slot);
    return true;
  });
});

interface Peer {
  peer: RawPeer;
  root: string;
  close(): Promise<void>;
}

async function ours(): Promise<Peer> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-order-ours-'));
  const server = new SftpServer({ fs: new LocalFs(root) });
  const [a, b] = memoryPair();
  const served = server.serve(b);
  const peer = new RawPeer(a);
  assert.equal((await peer.init())?.type, T.VERSION);
  return {
    peer,
    root,
    async close() {
      a.end();
      await served.catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function openssh(): Promise<Peer> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-order-openssh-'));
  const child = spawnSftpServer({ cwd: root });
  const peer = new RawPeer(child.stream);
  assert.equal((await peer.init())?.type, T.VERSION);
  return {
    peer,
    root,
    async close() {
      await child.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function data(slot: number, offset: number, len: number): Buffer {
  return Buffer.from(Array.from({ length: len }, (_, i) => 65 + ((slot * 7 + offset + i) % 26)));
}

/** What must be the same from both servers: the reply's kind, status code, and a STAT's type/mode/size. */
function summary(r: Reply | undefined): string {
  if (!r) return 'none';
  if (r.type === T.STATUS) return `status ${r.code}`;
  if (r.type === T.HANDLE) return 'handle';
  if (r.type === T.ATTRS) {
    const mode = r.attrs.permissions ?? -1;
    const isFile = (mode & 0o170000) === 0o100000;
    return `attrs mode=${mode.toString(8)}${isFile ? ` size=${r.attrs.size}` : ''}`;
  }
  return `type ${r.type}`;
}

/** Run `ops` pipelined on a fresh root; the replies' summaries, in request order. */
async function runOn(p: Peer, ops: Op[]): Promise<string[]> {
  const { peer } = p;
  let id = 1;
  const handles: Buffer[] = [];
  for (const f of PREOPENED) {
    const r = await peer.request({
      type: T.OPEN,
      id: id++,
      path: f,
      pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
      attrs: {},
    });
    assert.equal(r?.type, T.HANDLE, `pre-open ${f}: ${JSON.stringify(r)}`);
    handles.push((r as { handle: Buffer }).handle);
  }
  const first = id;
  const packets: Packet[] = ops.map((o): Packet => {
    const i = id++;
    switch (o.op) {
      case 'mkdir':
        return { type: T.MKDIR, id: i, path: o.p, attrs: {} };
      case 'rmdir':
        return { type: T.RMDIR, id: i, path: o.p };
      case 'remove':
        return { type: T.REMOVE, id: i, path: o.p };
      case 'stat':
        return { type: T.STAT, id: i, path: o.p };
      case 'openExcl':
        return {
          type: T.OPEN,
          id: i,
          path: o.p,
          pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL,
          attrs: {},
        };
      case 'setstat':
        return { type: T.SETSTAT, id: i, path: o.p, attrs: { permissions: o.mode } };
      case 'rename':
        return { type: T.RENAME, id: i, oldPath: o.from, newPath: o.to };
      case 'write':
        return {
          type: T.WRITE,
          id: i,
          handle: handles[o.slot]!,
          offset: o.offset,
          data: data(o.slot, o.offset, o.len),
        };
      case 'close':
        return { type: T.CLOSE, id: i, handle: handles[o.slot]! };
    }
  });
  const waits = packets.map((_, k) => peer.reply(first + k));
  for (const pk of packets) peer.send(pk);
  const replies = await Promise.all(waits);
  // tidy up: close what is still open, one at a time
  const open = [
    ...replies.filter((r): r is Extract<Reply, { type: typeof T.HANDLE }> => r?.type === T.HANDLE).map((r) => r.handle),
  ];
  const closedSlots = new Set(ops.flatMap((o) => (o.op === 'close' ? [o.slot] : [])));
  handles.forEach((h, slot) => {
    if (!closedSlots.has(slot)) open.push(h);
  });
  for (const h of open) {
    const r = await peer.request({ type: T.CLOSE, id: id++, handle: h });
    assert.equal(r?.type === T.STATUS && r.code, StatusCode.OK);
  }
  return replies.map(summary);
}

/** Every entry under root: type, permissions, and a file's content. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${e}` : e;
      const st = lstatSync(path.join(root, r));
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${perm}`;
        walk(r);
      } else out[r] = `file ${perm} ${readFileSync(path.join(root, r)).toString('latin1')}`;
    }
  };
  walk('');
  return out;
}

function describeOps(ops: Op[]): string {
  return ops.map((o) => JSON.stringify(o)).join('\n');
}

async function compare(ops: Op[]): Promise<void> {
  const a = await ours();
  const b = await openssh();
  try {
    const [mine, theirs] = [await runOn(a, ops), await runOn(b, ops)];
    assert.deepEqual(mine, theirs, `replies differ for\n${describeOps(ops)}`);
    assert.deepEqual(tree(a.root), tree(b.root), `trees differ for\n${describeOps(ops)}`);
  } finally {
    await a.close();
    await b.close();
  }
}

describe('pipelined requests take effect in the order sent (beside OpenSSH sftp-server)', () => {
  it('mkdir a, a/b, a/b/c sent together all succeed', { timeout: 60_000 }, async () => {
    const ops: Op[] = [
      { op: 'mkdir', p: 'a' },
      { op: 'mkdir', p: 'a/b' },
      { op: 'mkdir', p: 'a/b/c' },
    ];
    await compare(ops);
    const a = await ours();
    try {
      assert.deepEqual(await runOn(a, ops), ['status 0', 'status 0', 'status 0']);
    } finally {
      await a.close();
    }
  });

  it('a STAT right behind a SETSTAT, a WRITE and a RENAME sees their effect', { timeout: 60_000 }, async () => {
    await compare([
      { op: 'setstat', p: 'x', mode: 0o700 },
      { op: 'stat', p: 'x' },
      { op: 'write', slot: 1, offset: 10, len: 50 },
      { op: 'stat', p: 'y' },
      { op: 'rename', from: 'x', to: 'b' },
      { op: 'rename', from: 'b', to: 'a' },
      { op: 'stat', p: 'a' },
      { op: 'remove', p: 'a' },
      { op: 'openExcl', p: 'a' },
    ]);
  });

  it('random pipelined mixes get the replies and tree OpenSSH gives', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (ops) => compare(ops)),
      { numRuns: 40 },
    );
  });
});
