/** fast-check arbitraries for every SFTP v3 packet type, ATTRS and the extension bodies. */
import fc from 'fast-check';
import { PacketType as T } from '../../src/protocol/constants.js';
import type { Attrs, ExtendedAttr } from '../../src/protocol/attrs.js';
import type { ExtensionPair, NameEntry, Packet } from '../../src/protocol/packets.js';
import {
  STATVFS_FIELDS,
  type CheckFileReply,
  type CheckFileRequest,
  type CopyDataRequest,
  type Limits,
  type StatVfs,
  type UsersGroupsReply,
  type UsersGroupsRequest,
} from '../../src/protocol/extensions.js';

/** fc.record with plain objects: decoded packets have Object.prototype, and deepStrictEqual compares prototypes. */
function rec<R>(model: { [K in keyof R]: fc.Arbitrary<R[K]> }): fc.Arbitrary<R> {
  return fc.record(model, { noNullPrototype: true });
}
/** The same, every key optional. */
function partialRec<R>(model: { [K in keyof R]: fc.Arbitrary<R[K]> }): fc.Arbitrary<Partial<R>> {
  return fc.record(model, { noNullPrototype: true, requiredKeys: [] }) as fc.Arbitrary<Partial<R>>;
}

export const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** uint64 values that are exact as numbers, biased towards the 32-bit and 53-bit edges. */
export const u64 = fc.oneof(u32, fc.maxSafeNat(), fc.constantFrom(0, 0xffffffff, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1));
export const u64big = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
/** Any Unicode text without lone surrogates, so that UTF-8 round trips exactly. */
export const text = fc.string({ unit: 'binary', maxLength: 24 });
export const blob = (maxLength = 48) => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u));
export const handle = blob(32);
const id = u32;

const extendedAttr: fc.Arbitrary<ExtendedAttr> = rec({ type: text, data: blob(16) });

/** ATTRS with any subset of fields, keeping the pairs (uid/gid, atime/mtime) together as the wire does. */
/** ATTRS from optional parts, uid/gid and atime/mtime in pairs (as the wire carries them). */
export interface AttrsParts {
  size?: number;
  ids?: [number, number];
  permissions?: number;
  times?: [number, number];
  extended?: Attrs['extended'];
}
export function attrsFromParts(r: AttrsParts): Attrs {
  const a: Attrs = {};
  if (r.size !== undefined) a.size = r.size;
  if (r.ids) [a.uid, a.gid] = r.ids;
  if (r.permissions !== undefined) a.permissions = r.permissions;
  if (r.times) [a.atime, a.mtime] = r.times;
  if (r.extended) a.extended = r.extended;
  return a;
}

export const attrs: fc.Arbitrary<Attrs> = partialRec({
  size: u64,
  ids: fc.tuple(u32, u32),
  permissions: u32,
  times: fc.tuple(u32, u32),
  extended: fc.array(extendedAttr, { minLength: 1, maxLength: 3 }),
}).map(attrsFromParts);

const pair: fc.Arbitrary<ExtensionPair> = rec({ name: text, data: blob(16) });
const nameEntry: fc.Arbitrary<NameEntry> = rec({ filename: text, longname: text, attrs });

/** One arbitrary per packet type, keyed by type number. */
export const packetByType: { [K in Packet['type']]: fc.Arbitrary<Extract<Packet, { type: K }>> } = {
  [T.INIT]: rec({ type: fc.constant(T.INIT), version: u32, extensions: fc.array(pair, { maxLength: 4 }) }),
  [T.VERSION]: rec({ type: fc.constant(T.VERSION), version: u32, extensions: fc.array(pair, { maxLength: 4 }) }),
  [T.OPEN]: rec({ type: fc.constant(T.OPEN), id, path: text, pflags: u32, attrs }),
  [T.CLOSE]: rec({ type: fc.constant(T.CLOSE), id, handle }),
  [T.READ]: rec({ type: fc.constant(T.READ), id, handle, offset: u64, length: u32 }),
  [T.WRITE]: rec({ type: fc.constant(T.WRITE), id, handle, offset: u64, data: blob(96) }),
  [T.LSTAT]: rec({ type: fc.constant(T.LSTAT), id, path: text }),
  [T.FSTAT]: rec({ type: fc.constant(T.FSTAT), id, handle }),
  [T.SETSTAT]: rec({ type: fc.constant(T.SETSTAT), id, path: text, attrs }),
  [T.FSETSTAT]: rec({ type: fc.constant(T.FSETSTAT), id, handle, attrs }),
  [T.OPENDIR]: rec({ type: fc.constant(T.OPENDIR), id, path: text }),
  [T.READDIR]: rec({ type: fc.constant(T.READDIR), id, handle }),
  [T.REMOVE]: rec({ type: fc.constant(T.REMOVE), id, path: text }),
  [T.MKDIR]: rec({ type: fc.constant(T.MKDIR), id, path: text, attrs }),
  [T.RMDIR]: rec({ type: fc.constant(T.RMDIR), id, path: text }),
  [T.REALPATH]: rec({ type: fc.constant(T.REALPATH), id, path: text }),
  [T.STAT]: rec({ type: fc.constant(T.STAT), id, path: text }),
  [T.RENAME]: rec({ type: fc.constant(T.RENAME), id, oldPath: text, newPath: text }),
  [T.READLINK]: rec({ type: fc.constant(T.READLINK), id, path: text }),
  [T.SYMLINK]: rec({ type: fc.constant(T.SYMLINK), id, first: text, second: text }),
  [T.STATUS]: rec({ type: fc.constant(T.STATUS), id, code: u32, message: text, lang: text }),
  [T.HANDLE]: rec({ type: fc.constant(T.HANDLE), id, handle }),
  [T.DATA]: rec({ type: fc.constant(T.DATA), id, data: blob(96) }),
  [T.NAME]: rec({ type: fc.constant(T.NAME), id, entries: fc.array(nameEntry, { maxLength: 4 }) }),
  [T.ATTRS]: rec({ type: fc.constant(T.ATTRS), id, attrs }),
  [T.EXTENDED]: rec({ type: fc.constant(T.EXTENDED), id, request: text, data: blob(32) }),
  [T.EXTENDED_REPLY]: rec({ type: fc.constant(T.EXTENDED_REPLY), id, data: blob(32) }),
};

export const allPacketTypes = Object.keys(packetByType).map(Number) as Packet['type'][];

/** Any packet, every type equally likely. */
export const packet: fc.Arbitrary<Packet> = fc.oneof(
  ...allPacketTypes.map((t) => packetByType[t] as fc.Arbitrary<Packet>),
);

// ---- extension bodies ----

const path = rec({ path: text });
const twoPaths = rec({ oldPath: text, newPath: text });
const oneHandle = rec({ handle });
const hashName = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
const digestSizes = { md5: 16, sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const;

export const statvfs: fc.Arbitrary<StatVfs> = fc
  .tuple(...STATVFS_FIELDS.map(() => u64big))
  .map((vals) => Object.fromEntries(STATVFS_FIELDS.map((f, i) => [f, vals[i]])) as unknown as StatVfs);
export const limits: fc.Arbitrary<Limits> = rec({
  maxPacketLength: u64,
  maxReadLength: u64,
  maxWriteLength: u64,
  maxOpenHandles: u64,
});
export const copyData: fc.Arbitrary<CopyDataRequest> = rec({
  readHandle: handle,
  readOffset: u64,
  readLength: u64,
  writeHandle: handle,
  writeOffset: u64,
});
const checkFileRequest = (target: fc.Arbitrary<string | Buffer>): fc.Arbitrary<CheckFileRequest> =>
  rec({ target, algorithms: fc.array(hashName, { maxLength: 4 }), startOffset: u64, length: u64, blockSize: u32 });
export const checkFileReply: fc.Arbitrary<CheckFileReply> = fc
  .constantFrom(...(Object.keys(digestSizes) as (keyof typeof digestSizes)[]))
  .chain((algorithm) =>
    rec({
      algorithm: fc.constant(algorithm),
      hashes: fc.array(
        fc
          .uint8Array({ minLength: digestSizes[algorithm], maxLength: digestSizes[algorithm] })
          .map((u) => Buffer.from(u)),
        { maxLength: 4 },
      ),
    }),
  );
export const usersGroupsRequest: fc.Arbitrary<UsersGroupsRequest> = rec({
  uids: fc.array(u32, { maxLength: 6 }),
  gids: fc.array(u32, { maxLength: 6 }),
});
export const usersGroupsReply: fc.Arbitrary<UsersGroupsReply> = rec({
  users: fc.array(text, { maxLength: 6 }),
  groups: fc.array(text, { maxLength: 6 }),
});

/** Request bodies of every extension, keyed like `Extensions`. */
export const extensionRequests = {
  posixRename: twoPaths,
  statvfs: path,
  fstatvfs: oneHandle,
  hardlink: twoPaths,
  fsync: oneHandle,
  discardHandle: oneHandle,
  lsetstat: rec({ path: text, attrs }),
  limits: fc.constant({} as Record<string, never>),
  expandPath: path,
  copyData,
  homeDirectory: rec({ username: text }),
  usersGroupsById: usersGroupsRequest,
  checkFileName: checkFileRequest(text),
  checkFileHandle: checkFileRequest(handle),
} as const;

/** Reply bodies of the extensions that answer with a typed EXTENDED_REPLY. */
export const extensionReplies = {
  statvfs,
  fstatvfs: statvfs,
  limits,
  usersGroupsById: usersGroupsReply,
  checkFileName: checkFileReply,
  checkFileHandle: checkFileReply,
} as const;
