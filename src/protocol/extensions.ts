import { Reader, Writer } from './bytes.js';
import { readAttrs, writeAttrs, type Attrs } from './attrs.js';

/**
 * Typed bodies of the EXTENDED requests OpenSSH documents (PROTOCOL, section 4) and of
 * check-file-name/check-file-handle (draft-ietf-secsh-filexfer-extensions). Each extension is one
 * entry: its wire name, the version string it advertises, how its request data is written and read,
 * and what its reply is: a STATUS, a NAME, or an EXTENDED_REPLY with a typed body.
 */
export interface ExtensionDef<Req, Rep> {
  name: string;
  version: string;
  writeRequest(w: Writer, req: Req): void;
  readRequest(r: Reader): Req;
  reply: ReplyKind<Rep>;
}
export type ReplyKind<Rep> =
  { kind: 'status' } | { kind: 'name' } | { kind: 'extended'; write(w: Writer, rep: Rep): void; read(r: Reader): Rep };

export interface StatVfs {
  bsize: bigint;
  frsize: bigint;
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  favail: bigint;
  fsid: bigint;
  flag: bigint;
  namemax: bigint;
}
export const STATVFS_FIELDS = [
  'bsize',
  'frsize',
  'blocks',
  'bfree',
  'bavail',
  'files',
  'ffree',
  'favail',
  'fsid',
  'flag',
  'namemax',
] as const satisfies readonly (keyof StatVfs)[];
/** statvfs flag bits. */
export const StatVfsFlag = { RDONLY: 1n, NOSUID: 2n } as const;

export interface Limits {
  maxPacketLength: number;
  maxReadLength: number;
  maxWriteLength: number;
  /** 0 when the server sets no limit. */
  maxOpenHandles: number;
}

export interface CopyDataRequest {
  readHandle: Buffer;
  readOffset: number;
  /** 0 means: to the end of the source file. */
  readLength: number;
  writeHandle: Buffer;
  writeOffset: number;
}

export interface CheckFileRequest {
  /** A path for check-file-name, a handle for check-file-handle. */
  target: string | Buffer;
  /** Hash names in order of preference, e.g. ['sha256', 'md5']. */
  algorithms: string[];
  startOffset: number;
  /** 0 means: to the end of the file. */
  length: number;
  /** 0 means one hash over the whole range; otherwise at least 256. */
  blockSize: number;
}
export interface CheckFileReply {
  algorithm: string;
  /** One digest per block, in order (one in all when blockSize was 0). */
  hashes: Buffer[];
}
/** Digest sizes of the hash names check-file may answer with. */
export const CHECK_FILE_DIGEST_SIZE: Record<string, number> = {
  md5: 16,
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

export interface UsersGroupsRequest {
  uids: number[];
  gids: number[];
}
export interface UsersGroupsReply {
  /** One name per uid asked, '' where unknown. */
  users: string[];
  groups: string[];
}

type TwoPaths = { oldPath: string; newPath: string };
const twoPaths = {
  writeRequest: (w: Writer, q: TwoPaths) => void w.string(q.oldPath).string(q.newPath),
  readRequest: (r: Reader): TwoPaths => ({ oldPath: r.string('oldpath'), newPath: r.string('newpath') }),
};
const onePath = {
  writeRequest: (w: Writer, q: { path: string }) => void w.string(q.path),
  readRequest: (r: Reader) => ({ path: r.string('path') }),
};
const oneHandle = {
  writeRequest: (w: Writer, q: { handle: Buffer }) => void w.string(q.handle),
  readRequest: (r: Reader) => ({ handle: r.bytes('handle') }),
};
const status = { kind: 'status' } as const;
const statvfsReply: ReplyKind<StatVfs> = {
  kind: 'extended',
  write: (w, s) => STATVFS_FIELDS.forEach((f) => w.u64(s[f])),
  read: (r) => Object.fromEntries(STATVFS_FIELDS.map((f) => [f, r.u64big(`statvfs ${f}`)])) as unknown as StatVfs,
};

function packedU32(list: number[]): Buffer {
  const w = new Writer(4 * list.length + 4);
  for (const v of list) w.u32(v);
  return w.finish();
}
function unpackU32(b: Buffer, what: string): number[] {
  const r = new Reader(b);
  if (b.length % 4 !== 0) r.fail(`${what}: ${b.length} bytes is not a whole number of uint32`);
  const out: number[] = [];
  while (r.remaining > 0) out.push(r.u32(what));
  return out;
}
function packedStrings(list: string[]): Buffer {
  const w = new Writer();
  for (const v of list) w.string(v);
  return w.finish();
}
function unpackStrings(b: Buffer, what: string): string[] {
  const r = new Reader(b);
  const out: string[] = [];
  while (r.remaining > 0) out.push(r.string(what));
  return out;
}

function checkFile(name: string, isHandle: boolean): ExtensionDef<CheckFileRequest, CheckFileReply> {
  return {
    name,
    version: '1',
    writeRequest: (w, q) => {
      w.string(q.target).string(q.algorithms.join(',')).u64(q.startOffset).u64(q.length).u32(q.blockSize);
    },
    readRequest: (r) => ({
      target: isHandle ? r.bytes('handle') : r.string('filename'),
      algorithms: r
        .string('hash algorithm list')
        .split(',')
        .filter((s) => s.length > 0),
      startOffset: r.u64('start offset'),
      length: r.u64('length'),
      blockSize: r.u32('block size'),
    }),
    reply: {
      kind: 'extended',
      write: (w, rep) => {
        w.string('check-file').string(rep.algorithm);
        for (const h of rep.hashes) w.raw(h);
      },
      read: (r) => {
        const tag = r.string('check-file reply tag');
        if (tag !== 'check-file') r.fail(`check-file reply tag is ${JSON.stringify(tag)}`);
        const algorithm = r.string('hash algorithm');
        // own properties only: a name such as "toString" must not find Object.prototype's member
        const size = Object.hasOwn(CHECK_FILE_DIGEST_SIZE, algorithm) ? CHECK_FILE_DIGEST_SIZE[algorithm] : undefined;
        if (size === undefined) return r.fail(`check-file answered with unknown hash ${JSON.stringify(algorithm)}`);
        const all = r.rest();
        if (all.length % size !== 0)
          r.fail(`check-file hashes: ${all.length} bytes is not a whole number of ${algorithm} digests`);
        const hashes: Buffer[] = [];
        for (let i = 0; i < all.length; i += size) hashes.push(all.subarray(i, i + size));
        return { algorithm, hashes };
      },
    },
  };
}

const noArgs = {
  writeRequest: () => {},
  readRequest: () => ({}),
};

/** The extensions both ends know, by a short key. */
export const Extensions = {
  posixRename: { name: 'posix-rename@openssh.com', version: '1', ...twoPaths, reply: status } as ExtensionDef<
    TwoPaths,
    void
  >,
  statvfs: { name: 'statvfs@openssh.com', version: '2', ...onePath, reply: statvfsReply } as ExtensionDef<
    { path: string },
    StatVfs
  >,
  fstatvfs: { name: 'fstatvfs@openssh.com', version: '2', ...oneHandle, reply: statvfsReply } as ExtensionDef<
    { handle: Buffer },
    StatVfs
  >,
  hardlink: { name: 'hardlink@openssh.com', version: '1', ...twoPaths, reply: status } as ExtensionDef<TwoPaths, void>,
  fsync: { name: 'fsync@openssh.com', version: '1', ...oneHandle, reply: status } as ExtensionDef<
    { handle: Buffer },
    void
  >,
  lsetstat: {
    name: 'lsetstat@openssh.com',
    version: '1',
    writeRequest: (w: Writer, q: { path: string; attrs: Attrs }) => (w.string(q.path), writeAttrs(w, q.attrs)),
    readRequest: (r: Reader) => ({ path: r.string('path'), attrs: readAttrs(r) }),
    reply: status,
  } as ExtensionDef<{ path: string; attrs: Attrs }, void>,
  limits: {
    name: 'limits@openssh.com',
    version: '1',
    ...noArgs,
    reply: {
      kind: 'extended',
      write: (w, l) => void w.u64(l.maxPacketLength).u64(l.maxReadLength).u64(l.maxWriteLength).u64(l.maxOpenHandles),
      read: (r) => ({
        maxPacketLength: r.u64('max packet length'),
        maxReadLength: r.u64('max read length'),
        maxWriteLength: r.u64('max write length'),
        maxOpenHandles: r.u64('max open handles'),
      }),
    },
  } as ExtensionDef<Record<string, never>, Limits>,
  expandPath: { name: 'expand-path@openssh.com', version: '1', ...onePath, reply: { kind: 'name' } } as ExtensionDef<
    { path: string },
    void
  >,
  copyData: {
    name: 'copy-data',
    version: '1',
    writeRequest: (w: Writer, q: CopyDataRequest) =>
      void w.string(q.readHandle).u64(q.readOffset).u64(q.readLength).string(q.writeHandle).u64(q.writeOffset),
    readRequest: (r: Reader): CopyDataRequest => ({
      readHandle: r.bytes('read handle'),
      readOffset: r.u64('read offset'),
      readLength: r.u64('read length'),
      writeHandle: r.bytes('write handle'),
      writeOffset: r.u64('write offset'),
    }),
    reply: status,
  } as ExtensionDef<CopyDataRequest, void>,
  homeDirectory: {
    name: 'home-directory',
    version: '1',
    writeRequest: (w: Writer, q: { username: string }) => void w.string(q.username),
    readRequest: (r: Reader) => ({ username: r.string('username') }),
    reply: { kind: 'name' },
  } as ExtensionDef<{ username: string }, void>,
  usersGroupsById: {
    name: 'users-groups-by-id@openssh.com',
    version: '1',
    writeRequest: (w: Writer, q: UsersGroupsRequest) => void w.string(packedU32(q.uids)).string(packedU32(q.gids)),
    readRequest: (r: Reader): UsersGroupsRequest => ({
      uids: unpackU32(r.bytes('uids'), 'uids'),
      gids: unpackU32(r.bytes('gids'), 'gids'),
    }),
    reply: {
      kind: 'extended',
      write: (w, rep) => void w.string(packedStrings(rep.users)).string(packedStrings(rep.groups)),
      read: (r) => ({
        users: unpackStrings(r.bytes('usernames'), 'username'),
        groups: unpackStrings(r.bytes('groupnames'), 'groupname'),
      }),
    },
  } as ExtensionDef<UsersGroupsRequest, UsersGroupsReply>,
  /**
   * sftp-wire's own: the upload behind this handle is not to be committed at CLOSE (it was cut
   * short). The server answers STATUS OK (or OP_UNSUPPORTED/FAILURE).
   */
  discardHandle: { name: 'discard-handle@sftp-wire', version: '1', ...oneHandle, reply: status } as ExtensionDef<
    { handle: Buffer },
    void
  >,
  checkFileName: checkFile('check-file-name', false),
  checkFileHandle: checkFile('check-file-handle', true),
} as const;

export type ExtensionKey = keyof typeof Extensions;
type ReqOf<K extends ExtensionKey> = (typeof Extensions)[K] extends ExtensionDef<infer Q, unknown> ? Q : never;
type RepOf<K extends ExtensionKey> = (typeof Extensions)[K] extends ExtensionDef<unknown, infer P> ? P : never;
export type ExtensionRequest<K extends ExtensionKey> = ReqOf<K>;
export type ExtensionReply<K extends ExtensionKey> = RepOf<K>;

const byName = new Map<string, ExtensionKey>(
  (Object.keys(Extensions) as ExtensionKey[]).map((k) => [Extensions[k].name, k]),
);
/** The key of an extension by its wire name. */
export function extensionKeyByName(name: string): ExtensionKey | undefined {
  return byName.get(name);
}

/** The data of an EXTENDED request for extension `key` (everything after the request name). */
export function encodeExtensionRequest<K extends ExtensionKey>(key: K, req: ReqOf<K>): Buffer {
  const w = new Writer();
  (Extensions[key] as ExtensionDef<ReqOf<K>, unknown>).writeRequest(w, req);
  return w.finish();
}
export function decodeExtensionRequest<K extends ExtensionKey>(key: K, data: Buffer): ReqOf<K> {
  const r = new Reader(data);
  const req = (Extensions[key] as ExtensionDef<ReqOf<K>, unknown>).readRequest(r);
  r.end();
  return req;
}
/** The data of an EXTENDED_REPLY for an extension whose reply is typed. */
export function encodeExtensionReply<K extends ExtensionKey>(key: K, rep: RepOf<K>): Buffer {
  const reply = Extensions[key].reply as ReplyKind<RepOf<K>>;
  if (reply.kind !== 'extended')
    throw new TypeError(`${Extensions[key].name} replies with ${reply.kind}, not EXTENDED_REPLY`);
  const w = new Writer();
  reply.write(w, rep);
  return w.finish();
}
export function decodeExtensionReply<K extends ExtensionKey>(key: K, data: Buffer): RepOf<K> {
  const reply = Extensions[key].reply as ReplyKind<RepOf<K>>;
  if (reply.kind !== 'extended')
    throw new TypeError(`${Extensions[key].name} replies with ${reply.kind}, not EXTENDED_REPLY`);
  const r = new Reader(data);
  const rep = reply.read(r);
  r.end();
  return rep;
}
