/**
 * The jail as a property: random path strings (`..`, `//`, `.`, NUL, very long names, absolute real
 * paths) and symlinks planted inside the root that point out, used by every kind of request. Checked
 * against the real file system: sentinels outside the root keep their inode, size, mode, times and
 * link count — their access time too, so they were not read — no entry appears or vanishes outside,
 * and no reply carries outside content, names, attributes or the real root path.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SftpServer } from '../../src/server/sftp-server.js';
import { LocalFs } from '../../src/server/fs/local-fs.js';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import { Extensions, encodeExtensionRequest } from '../../src/protocol/extensions.js';
import type { Packet } from '../../src/protocol/packets.js';
import { RawPeer, type Reply } from '../../bench/lib/peers/raw-peer.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

/** Times given to everything outside: a reply carrying them has stat'ed something outside. */
const OUTSIDE_TIME = 1_234_567_890;
/** The size of the sentinel file: no file inside ever gets it. */
const SENTINEL_SIZE = 7777;

interface Snap {
  ino: number;
  mode: number;
  size: number;
  nlink: number;
  mtimeMs: number;
  ctimeMs: number;
  atimeMs: number;
  link?: string;
}

/** A temporary world: base/{root (served), outside/..., root2 (a sibling sharing the prefix), top-*} */
export class JailWorld {
  readonly base: string;
  readonly root: string;
  readonly tag = randomBytes(4).toString('hex');
  readonly sentinel: Buffer;
  readonly sentinelHashes: Buffer[];
  /** Names that exist only outside the root. */
  readonly outsideNames: string[];
  readonly server: SftpServer;
  private readonly watched: string[];
  private snapshot = new Map<string, Snap>();

  constructor() {
    this.base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-jail-'));
    this.root = path.join(this.base, 'root');
    const outside = path.join(this.base, 'outside');
    const sentinelName = `sentinel-${this.tag}.txt`;
    this.outsideNames = [
      sentinelName,
      `inner-${this.tag}.txt`,
      `sib-${this.tag}.txt`,
      `top-${this.tag}.txt`,
      `sub-${this.tag}`,
    ];
    const marker = `SENTINEL-${this.tag}-`;
    this.sentinel = Buffer.from(marker.repeat(Math.ceil(SENTINEL_SIZE / marker.length)).slice(0, SENTINEL_SIZE));
    this.sentinelHashes = ['sha256', 'sha1', 'md5', 'sha512', 'sha384', 'sha224'].map((a) =>
      createHash(a).update(this.sentinel).digest(),
    );
    mkdirSync(path.join(outside, `sub-${this.tag}`), { recursive: true });
    writeFileSync(path.join(outside, sentinelName), this.sentinel, { mode: 0o640 });
    writeFileSync(path.join(outside, `sub-${this.tag}`, `inner-${this.tag}.txt`), this.sentinel);
    mkdirSync(path.join(this.base, 'root2'));
    writeFileSync(path.join(this.base, 'root2', `sib-${this.tag}.txt`), this.sentinel);
    writeFileSync(path.join(this.base, `top-${this.tag}.txt`), this.sentinel);
    this.watched = [
      this.base,
      outside,
      path.join(outside, sentinelName),
      path.join(outside, `sub-${this.tag}`),
      path.join(outside, `sub-${this.tag}`, `inner-${this.tag}.txt`),
      path.join(this.base, 'root2'),
      path.join(this.base, 'root2', `sib-${this.tag}.txt`),
      path.join(this.base, `top-${this.tag}.txt`),
    ];
    this.plant();
    for (const p of this.watched) utimesSync(p, OUTSIDE_TIME, OUTSIDE_TIME);
    this.snapshot = this.snap();
    this.server = new SftpServer({ fs: new LocalFs(this.root), limits: { maxHandles: 32 } });
  }

  /** The root, fresh: a file, a directory and symlinks that lead out in every way. */
  plant(): void {
    // empty the root in place: removing and recreating it would change the (watched) base directory
    mkdirSync(this.root, { recursive: true });
    for (const name of readdirSync(this.root)) rmSync(path.join(this.root, name), { recursive: true, force: true });
    mkdirSync(path.join(this.root, 'd'));
    writeFileSync(path.join(this.root, 'f'), 'inside');
    const out = path.join(this.base, 'outside');
    const links: [string, string][] = [
      ['up', '..'],
      ['upup', '../..'],
      ['abs', out],
      ['absfile', path.join(out, `sentinel-${this.tag}.txt`)],
      ['secret', `../outside/sentinel-${this.tag}.txt`],
      ['sib', '../root2'],
      ['d/deep', '../../outside'],
      ['d/self', '.'],
      ['loop', 'loop'],
      ['chain', 'd/deep'],
      ['top', `../top-${this.tag}.txt`],
    ];
    for (const [link, target] of links) symlinkSync(target, path.join(this.root, link));
  }

  private snap(): Map<string, Snap> {
    const m = new Map<string, Snap>();
    for (const p of this.watched) {
      const st = lstatSync(p);
      m.set(p, {
        ino: st.ino,
        mode: st.mode,
        size: st.size,
        nlink: st.nlink,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        atimeMs: st.isDirectory() ? 0 : st.atimeMs, // directories: our own checks do not list them either, but relatime makes this weak
        link: st.isSymbolicLink() ? readlinkSync(p) : undefined,
      });
    }
    return m;
  }

  /** Throws if anything outside the root changed or was read since the world was made. */
  assertOutsideUntouched(context: string): void {
    const now = this.snap();
    for (const [p, before] of this.snapshot) {
      assert.deepEqual(
        now.get(p),
        before,
        `${context}: ${path.relative(this.base, p) || '.'} outside the root changed (or was read)`,
      );
    }
  }

  /** Throws if a reply carries anything from outside: content, hashes, names, attributes, the real path. */
  assertReplyClean(r: Reply, context: string, isReadlink = false): void {
    const where = `${context}: reply ${JSON.stringify(r).slice(0, 200)}`;
    const hay = (b: Buffer): void => {
      assert.equal(b.includes(this.sentinel.subarray(0, 24)), false, `${where} carries outside content`);
      for (const h of this.sentinelHashes)
        assert.equal(b.includes(h), false, `${where} carries a hash of an outside file`);
    };
    switch (r.type) {
      case T.DATA:
      case T.EXTENDED_REPLY:
        hay(r.data);
        break;
      case T.NAME:
        for (const e of r.entries) {
          // READLINK returns what a planted link says (it may name an outside path); that is the link, not outside data
          if (!isReadlink)
            for (const n of this.outsideNames)
              assert.equal(e.filename.includes(n) || e.longname.includes(n), false, `${where} names an outside entry`);
          assert.notEqual(e.attrs.mtime, OUTSIDE_TIME, `${where} carries outside attributes`);
          assert.notEqual(e.attrs.size, SENTINEL_SIZE, `${where} carries outside attributes`);
        }
        break;
      case T.ATTRS:
        assert.notEqual(r.attrs.mtime, OUTSIDE_TIME, `${where} stat'ed something outside`);
        assert.notEqual(r.attrs.size, SENTINEL_SIZE, `${where} stat'ed something outside`);
        break;
      case T.STATUS:
        assert.equal(r.message.includes(this.base), false, `${where} reveals the real root path`);
        break;
      default:
        break;
    }
  }

  dispose(): void {
    rmSync(this.base, { recursive: true, force: true });
  }
}

// ---- cases ---------------------------------------------------------------------------------------

const segment = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '..',
      '.',
      '',
      'up',
      'upup',
      'abs',
      'absfile',
      'secret',
      'sib',
      'd',
      'deep',
      'self',
      'loop',
      'chain',
      'top',
      'f',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('outside', 'root2', 'root', 'new', 'n2', 'sub') },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(255), 'y'.repeat(300), 'a\0b', '\0', '...', ' ', '-') },
);
/** A path from random segments, with `/` or `//` between and an optional leading slash; or a real absolute path. */
export const jailPathArb = (w: () => JailWorld | undefined): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 9,
      arbitrary: fc
        .tuple(
          fc.boolean(),
          fc.array(fc.tuple(segment, fc.constantFrom('/', '/', '//')), { minLength: 1, maxLength: 6 }),
        )
        .map(([lead, parts]) => (lead ? '/' : '') + parts.map(([s, sep], i) => (i === 0 ? s : sep + s)).join('')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('outside', 'outside/sub', 'root2', '').map((rel) => {
        const world = w();
        return world ? path.join(world.base, rel) : '/tmp';
      }),
    },
  );

type Op =
  | {
      op:
        | 'read'
        | 'stat'
        | 'lstat'
        | 'opendir'
        | 'remove'
        | 'rmdir'
        | 'mkdir'
        | 'realpath'
        | 'readlink'
        | 'statvfs'
        | 'checkFile'
        | 'expandPath';
      path: string;
    }
  | { op: 'write' | 'create' | 'truncate' | 'append'; path: string }
  | { op: 'setstat' | 'lsetstat'; path: string; which: number }
  | { op: 'rename' | 'posixRename' | 'hardlink' | 'symlink'; a: string; b: string };

export interface JailCase {
  ops: Op[];
}

let current: JailWorld | undefined;
const p = jailPathArb(() => current);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constantFrom(
        'read',
        'stat',
        'lstat',
        'opendir',
        'remove',
        'rmdir',
        'mkdir',
        'realpath',
        'readlink',
        'statvfs',
        'checkFile',
        'expandPath',
      ),
      path: p,
    }) as fc.Arbitrary<Op>,
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constantFrom('write', 'create', 'truncate', 'append'), path: p }) as fc.Arbitrary<Op>,
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom('setstat', 'lsetstat'), path: p, which: fc.nat(3) }) as fc.Arbitrary<Op>,
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('rename', 'posixRename', 'hardlink', 'symlink'),
      a: p,
      b: p,
    }) as fc.Arbitrary<Op>,
  },
);
export const jailCaseArb: fc.Arbitrary<JailCase> = fc.record({ ops: fc.array(opArb, { minLength: 1, maxLength: 12 }) });

const ATTR_CHOICES = [
  { size: 0 },
  { permissions: 0o777 },
  { atime: 1_000_000_000, mtime: 1_000_000_000 },
  { uid: 0, gid: 0 },
];

/** Run one case in a fresh root and check the world; returns how many requests were attempted. */
export async function runJailCase(world: JailWorld, c: JailCase): Promise<{ attempts: number }> {
  current = world;
  world.plant();
  const [a, b] = memoryPair();
  const served = world.server.serve(b);
  const peer = new RawPeer(a);
  await peer.init();
  let id = 1;
  let attempts = 0;
  const ask = async (req: Extract<Packet, { id: number }>): Promise<Reply | undefined> => {
    attempts++;
    const r = await within(peer.request(req), 10_000, `request ${req.type}`);
    if (r) world.assertReplyClean(r, JSON.stringify(c.ops).slice(0, 400), req.type === T.READLINK);
    return r;
  };
  const openAnd = async (path: string, pflags: number, then: (h: Buffer) => Promise<unknown>): Promise<void> => {
    const r = await ask({ type: T.OPEN, id: id++, path, pflags, attrs: {} });
    if (r?.type !== T.HANDLE) return;
    await then(r.handle);
    await ask({ type: T.CLOSE, id: id++, handle: r.handle });
  };
  const ext = (
    key: 'posixRename' | 'hardlink' | 'statvfs' | 'lsetstat' | 'checkFileName' | 'expandPath',
    data: Buffer,
  ): Extract<Packet, { id: number }> => ({
    type: T.EXTENDED,
    id: id++,
    request: Extensions[key].name,
    data,
  });

  for (const op of c.ops) {
    switch (op.op) {
      case 'read':
        await openAnd(op.path, OpenFlags.READ, async (h) => {
          await ask({ type: T.READ, id: id++, handle: h, offset: 0, length: 65536 });
          await ask({ type: T.FSTAT, id: id++, handle: h });
        });
        break;
      case 'write':
        await openAnd(op.path, OpenFlags.WRITE, (h) =>
          ask({ type: T.WRITE, id: id++, handle: h, offset: 0, data: Buffer.from('PWNED') }),
        );
        break;
      case 'create':
        await openAnd(op.path, OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL, (h) =>
          ask({ type: T.WRITE, id: id++, handle: h, offset: 0, data: Buffer.from('new') }),
        );
        break;
      case 'truncate':
        await openAnd(op.path, OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC, async () => undefined);
        break;
      case 'append':
        await openAnd(op.path, OpenFlags.WRITE | OpenFlags.APPEND, (h) =>
          ask({ type: T.WRITE, id: id++, handle: h, offset: 0, data: Buffer.from('+') }),
        );
        break;
      case 'opendir': {
        const r = await ask({ type: T.OPENDIR, id: id++, path: op.path });
        if (r?.type === T.HANDLE) {
          for (let i = 0; i < 20; i++) {
            const n = await ask({ type: T.READDIR, id: id++, handle: r.handle });
            if (n?.type !== T.NAME) break;
          }
          await ask({ type: T.CLOSE, id: id++, handle: r.handle });
        }
        break;
      }
      case 'stat':
      case 'lstat':
        await ask({ type: op.op === 'stat' ? T.STAT : T.LSTAT, id: id++, path: op.path });
        break;
      case 'remove':
        await ask({ type: T.REMOVE, id: id++, path: op.path });
        break;
      case 'rmdir':
        await ask({ type: T.RMDIR, id: id++, path: op.path });
        break;
      case 'mkdir':
        await ask({ type: T.MKDIR, id: id++, path: op.path, attrs: {} });
        break;
      case 'realpath': {
        const r = await ask({ type: T.REALPATH, id: id++, path: op.path });
        if (r?.type === T.NAME) {
          const out = r.entries[0]!.filename;
          // a virtual absolute path; the real base shows up only when the client asked for that very name
          assert.ok(
            out.startsWith('/') && (op.path.includes(world.base) || !out.includes(world.base)),
            `realpath ${op.path} -> ${out}`,
          );
        }
        break;
      }
      case 'readlink':
        await ask({ type: T.READLINK, id: id++, path: op.path });
        break;
      case 'statvfs':
        await ask(ext('statvfs', encodeExtensionRequest('statvfs', { path: op.path })));
        break;
      case 'expandPath':
        await ask(ext('expandPath', encodeExtensionRequest('expandPath', { path: op.path })));
        break;
      case 'checkFile':
        await ask(
          ext(
            'checkFileName',
            encodeExtensionRequest('checkFileName', {
              target: op.path,
              algorithms: ['sha256', 'md5', 'sha1'],
              startOffset: 0,
              length: 0,
              blockSize: 0,
            }),
          ),
        );
        break;
      case 'setstat':
        await ask({ type: T.SETSTAT, id: id++, path: op.path, attrs: ATTR_CHOICES[op.which]! });
        break;
      case 'lsetstat':
        await ask(
          ext('lsetstat', encodeExtensionRequest('lsetstat', { path: op.path, attrs: ATTR_CHOICES[op.which]! })),
        );
        break;
      case 'rename':
        await ask({ type: T.RENAME, id: id++, oldPath: op.a, newPath: op.b });
        break;
      case 'posixRename':
        await ask(ext('posixRename', encodeExtensionRequest('posixRename', { oldPath: op.a, newPath: op.b })));
        break;
      case 'hardlink':
        await ask(ext('hardlink', encodeExtensionRequest('hardlink', { oldPath: op.a, newPath: op.b })));
        break;
      case 'symlink':
        // OpenSSH order: target first. Creating a link that points out is allowed; following it is not.
        await ask({ type: T.SYMLINK, id: id++, first: op.a, second: op.b });
        break;
    }
  }
  a.end();
  await within(served, 10_000, 'the jail session ending');
  world.assertOutsideUntouched(JSON.stringify(c.ops).slice(0, 600));
  return { attempts };
}
