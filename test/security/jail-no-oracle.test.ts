/**
 * No existence oracle through links that leave the root: a path that goes through a symlink pointing
 * outside gets the same answer (PERMISSION_DENIED, one message) whatever exists out there, for every
 * request type — including paths that come back into the root after the excursion.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import {
  Extensions,
  encodeExtensionRequest,
  type ExtensionKey,
  type ExtensionRequest,
} from '../../src/protocol/extensions.js';
import type { Packet } from '../../src/protocol/packets.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { connect, type RawClient, type RequestBody } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';

const ext = <K extends ExtensionKey>(key: K, q: ExtensionRequest<K>): RequestBody => ({
  type: T.EXTENDED,
  request: Extensions[key].name,
  data: encodeExtensionRequest(key, q),
});

/** Every request kind that takes a path, on path `p`. */
const REQUESTS: Record<string, (p: string) => RequestBody> = {
  stat: (p) => ({ type: T.STAT, path: p }),
  lstat: (p) => ({ type: T.LSTAT, path: p }),
  openRead: (p) => ({ type: T.OPEN, path: p, pflags: OpenFlags.READ, attrs: {} }),
  openCreate: (p) => ({
    type: T.OPEN,
    path: p,
    pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC,
    attrs: {},
  }),
  openExcl: (p) => ({ type: T.OPEN, path: p, pflags: OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.EXCL, attrs: {} }),
  opendir: (p) => ({ type: T.OPENDIR, path: p }),
  realpath: (p) => ({ type: T.REALPATH, path: p }),
  readlink: (p) => ({ type: T.READLINK, path: p }),
  setstat: (p) => ({ type: T.SETSTAT, path: p, attrs: { permissions: 0o644 } }),
  remove: (p) => ({ type: T.REMOVE, path: p }),
  mkdir: (p) => ({ type: T.MKDIR, path: p, attrs: {} }),
  rmdir: (p) => ({ type: T.RMDIR, path: p }),
  renameFrom: (p) => ({ type: T.RENAME, oldPath: p, newPath: '/renamed' }),
  renameTo: (p) => ({ type: T.RENAME, oldPath: '/inside.txt', newPath: p }),
  symlinkAt: (p) => ({ type: T.SYMLINK, first: 'target', second: p }),
  statvfs: (p) => ext('statvfs', { path: p }),
  lsetstat: (p) => ext('lsetstat', { path: p, attrs: { permissions: 0o644 } }),
  hardlinkTo: (p) => ext('hardlink', { oldPath: '/inside.txt', newPath: p }),
  posixRenameFrom: (p) => ext('posixRename', { oldPath: p, newPath: '/renamed' }),
  expandPath: (p) => ext('expandPath', { path: p }),
  checkFileName: (p) =>
    ext('checkFileName', { target: p, algorithms: ['md5'], startOffset: 0, length: 0, blockSize: 0 }),
};

describe('paths through links that leave the root answer alike whatever exists outside', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let outside: string;
  let c: RawClient;
  let served: Promise<void>;
  /** Per link: suffixes that exist outside and ones that do not, as pairs asked alike. */
  let paths: string[];

  before(async () => {
    t = tempDir('sftp-wire-oracle-');
    root = path.join(t.dir, 'root');
    outside = path.join(t.dir, 'outside');
    mkdirSync(path.join(outside, 'sub'), { recursive: true });
    writeFileSync(path.join(outside, 'file'), 'outside');
    writeFileSync(path.join(outside, 'sub', 'deep'), 'outside');
    mkdirSync(path.join(root, 'in'), { recursive: true });
    writeFileSync(path.join(root, 'inside.txt'), 'inside');
    symlinkSync('/', path.join(root, 'probe'));
    symlinkSync(outside, path.join(root, 'outdir'));
    symlinkSync('../../outside', path.join(root, 'in', 'up'));
    symlinkSync('../probe' + t.dir, path.join(root, 'in', 'chain'));
    const rel = t.dir.slice(1); // the temp dir below "/", for paths through probe
    const links = ['/probe/' + rel + '/outside', '/outdir', '/in/up', '/in/chain/outside'];
    const suffixes = [
      'sub/x',
      'nosub/x',
      'file/x',
      'sub',
      'nosub',
      'file',
      'nofile',
      'sub/deep',
      'sub/nodeep',
      'sub/deep/x',
    ];
    paths = links.flatMap((l) => suffixes.map((s) => `${l}/${s}`));
    // excursions that come back into the root
    paths.push(
      `/probe/${rel}/root/inside.txt`,
      `/probe/${rel}/root/missing.txt`,
      `/outdir/../root/inside.txt`.replace('/outdir/..', `/probe/${rel}`),
    );
    ({ client: c, served } = await connect(new SftpServer({ root })));
  });
  after(async () => {
    c.end();
    await served;
    t.cleanup();
  });

  const answer = (p: Packet): string => (p.type === T.STATUS ? `${p.code} ${p.message}` : `type ${p.type}`);

  it('every request kind gets one PERMISSION_DENIED answer for all of them (table)', async () => {
    for (const [kind, make] of Object.entries(REQUESTS)) {
      const answers = new Map<string, string[]>();
      for (const p of paths) {
        const a = answer(await c.request(make(p)));
        answers.set(a, [...(answers.get(a) ?? []), p]);
      }
      assert.equal(answers.size, 1, `${kind}: answers differ: ${JSON.stringify(Object.fromEntries(answers))}`);
      const [only] = [...answers.keys()];
      assert.ok(only!.startsWith(`${StatusCode.PERMISSION_DENIED} EACCES`), `${kind}: ${only}`);
    }
  });

  it('random paths below the links get the same answer as the link itself (property)', async () => {
    const comp = fc.constantFrom(
      'sub',
      'nosub',
      'file',
      'nofile',
      'deep',
      '.',
      '..',
      'x',
      'outside',
      'root',
      'inside.txt',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/probe', '/outdir', '/in/up', '/in/chain'),
        fc.array(comp, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...Object.keys(REQUESTS)),
        async (link, parts, kind) => {
          const p = [link, ...parts].join('/');
          const normalized = path.posix.normalize(p);
          // `..` may lexically leave the link (then the path is not through it): skip those
          if (!normalized.startsWith(link + '/')) return;
          const a = answer(await c.request(REQUESTS[kind]!(p)));
          assert.ok(a.startsWith(`${StatusCode.PERMISSION_DENIED} EACCES`), `${kind} ${p}: ${a}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
