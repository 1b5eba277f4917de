import { PacketType as T, StatusCode } from '../protocol/constants.js';
import type { Packet, PacketOf, RequestPacket, RequestType } from '../protocol/packets.js';
import {
  Extensions,
  decodeExtensionRequest,
  extensionKeyByName,
  type ExtensionKey,
  type ExtensionRequest,
} from '../protocol/extensions.js';
import type { FileSystem } from './fs/file-system.js';
import type { Handler, SessionContext } from './context.js';
import { StatusError } from './status-error.js';
import * as file from './handlers/file-handlers.js';
import * as paths from './handlers/path-handlers.js';
import * as dirs from './handlers/dir-handlers.js';
import { extensionHandlers as ext, type ExtHandler } from './handlers/extended-handlers.js';

/**
 * Where a request's handle is, and how it is ordered against the other requests of its session
 * (see OrderedQueues). The type holds each row to the packet's definition in src/protocol: a request
 * whose body has a handle is a handle request, any other a path request.
 * - handle 'none', order 'path': it names paths (or nothing). It runs alone, after every request sent
 *   before it and before every one sent after it, so a pipelined client sees each take effect in the
 *   order sent (as with a server that runs one request at a time).
 * - handle 'first' (the first field after the id, on the wire and as `req.handle`), order 'handle':
 *   it runs after the earlier requests on that handle and the path requests sent before it,
 *   concurrently with other handles' work. Order 'commit' also waits for every earlier CLOSE, so
 *   atomic uploads commit in the order their CLOSEs came.
 * - handle and order 'extension' (EXTENDED): the extension's row says.
 */
type Placement<K extends RequestType> = K extends typeof T.EXTENDED
  ? { handle: 'extension'; order: 'extension' }
  : PacketOf<K> extends { handle: Buffer }
    ? { handle: 'first'; order: 'handle' | 'commit' }
    : { handle: 'none'; order: 'path' };

/** What the server knows of one request type. */
export type RequestRow<K extends RequestType> = Placement<K> & {
  handler: Handler<K>;
  /**
   * It changes the file system, or opens something for writing: a read-only server refuses it with
   * PERMISSION_DENIED before it runs (like OpenSSH sftp-server's does_write). A function when it
   * depends on the request.
   */
  writes: boolean | ((req: PacketOf<K>) => boolean);
};

/** A row as the session reads it, whatever the request's type. */
interface AnyRequestRow {
  handle: 'none' | 'first' | 'extension';
  order: 'path' | 'handle' | 'commit' | 'extension';
  handler: (req: RequestPacket, ctx: SessionContext) => Promise<Packet>;
  writes: boolean | ((req: RequestPacket) => boolean);
}

/** How an extension's request is ordered: as a path request, or on the handles it names. */
type ExtensionPlacement<K extends ExtensionKey> =
  { order: 'path' } | { order: 'handle'; handles: (q: ExtensionRequest<K>) => Buffer[] };

/** What the server knows of one extension (an EXTENDED request by name). */
export type ExtensionRow<K extends ExtensionKey> = ExtensionPlacement<K> & {
  handler: ExtHandler<K>;
  /** As RequestRow's. */
  writes: boolean;
  /**
   * Whether a FileSystem can serve it (it has the optional methods the extension needs): the
   * extension is advertised in VERSION and answered only then. Absent: every FileSystem can.
   */
  serves?: (fs: FileSystem) => boolean;
};

/** EXTENDED's handler: the extension's row (unknown, or not served by this storage: OP_UNSUPPORTED), its decoded request, its handler. */
const extended: Handler<typeof T.EXTENDED> = async (req, ctx) => {
  const key = extensionKeyByName(req.request);
  if (!key)
    throw new StatusError(
      StatusCode.OP_UNSUPPORTED,
      `ENOSYS: extension ${JSON.stringify(req.request)} is not supported`,
    );
  const row = EXTENSIONS[key] as ExtensionRow<typeof key>;
  if (row.serves && !row.serves(ctx.fs)) {
    throw new StatusError(StatusCode.OP_UNSUPPORTED, `ENOSYS: ${req.request} is not supported by this storage`);
  }
  let q: ExtensionRequest<typeof key>;
  try {
    q = decodeExtensionRequest(key, req.data);
  } catch (err) {
    throw new StatusError(
      StatusCode.BAD_MESSAGE,
      `EBADMSG: malformed ${req.request} request: ${(err as Error).message}`,
    );
  }
  return row.handler(q, req.id, ctx);
};

/** Every request type a client may send, with its handler and facts. */
export const REQUESTS: { readonly [K in RequestType]: RequestRow<K> } = {
  [T.OPEN]: { handler: file.open, writes: (r) => file.opensForWriting(r.pflags), handle: 'none', order: 'path' },
  [T.CLOSE]: { handler: file.close, writes: false, handle: 'first', order: 'commit' },
  [T.READ]: { handler: file.read, writes: false, handle: 'first', order: 'handle' },
  [T.WRITE]: { handler: file.write, writes: true, handle: 'first', order: 'handle' },
  [T.LSTAT]: { handler: paths.lstat, writes: false, handle: 'none', order: 'path' },
  [T.FSTAT]: { handler: file.fstat, writes: false, handle: 'first', order: 'handle' },
  [T.SETSTAT]: { handler: paths.setstat, writes: true, handle: 'none', order: 'path' },
  [T.FSETSTAT]: { handler: file.fsetstat, writes: true, handle: 'first', order: 'handle' },
  [T.OPENDIR]: { handler: dirs.opendir, writes: false, handle: 'none', order: 'path' },
  [T.READDIR]: { handler: dirs.readdir, writes: false, handle: 'first', order: 'handle' },
  [T.REMOVE]: { handler: paths.remove, writes: true, handle: 'none', order: 'path' },
  [T.MKDIR]: { handler: paths.mkdir, writes: true, handle: 'none', order: 'path' },
  [T.RMDIR]: { handler: paths.rmdir, writes: true, handle: 'none', order: 'path' },
  [T.REALPATH]: { handler: paths.realpath, writes: false, handle: 'none', order: 'path' },
  [T.STAT]: { handler: paths.stat, writes: false, handle: 'none', order: 'path' },
  [T.RENAME]: { handler: paths.rename, writes: true, handle: 'none', order: 'path' },
  [T.READLINK]: { handler: paths.readlink, writes: false, handle: 'none', order: 'path' },
  [T.SYMLINK]: { handler: paths.symlink, writes: true, handle: 'none', order: 'path' },
  [T.EXTENDED]: {
    handler: extended,
    writes: (r) => extensionRow(r.request)?.writes ?? false,
    handle: 'extension',
    order: 'extension',
  },
};

const oneHandle = (q: { handle: Buffer }): Buffer[] => [q.handle];

/** Every extension this server knows, with its handler and facts. */
const EXTENSIONS: { readonly [K in ExtensionKey]: ExtensionRow<K> } = {
  posixRename: { handler: ext.posixRename, writes: true, order: 'path' },
  statvfs: { handler: ext.statvfs, writes: false, order: 'path', serves: (fs) => fs.statvfs !== undefined },
  fstatvfs: {
    handler: ext.fstatvfs,
    writes: false,
    order: 'handle',
    handles: oneHandle,
    serves: (fs) => fs.statvfs !== undefined,
  },
  hardlink: { handler: ext.hardlink, writes: true, order: 'path', serves: (fs) => fs.link !== undefined },
  // flushes a file to stable storage: a write, as in OpenSSH's table
  fsync: { handler: ext.fsync, writes: true, order: 'handle', handles: oneHandle },
  lsetstat: { handler: ext.lsetstat, writes: true, order: 'path' },
  limits: { handler: ext.limits, writes: false, order: 'path' },
  expandPath: { handler: ext.expandPath, writes: false, order: 'path' },
  copyData: { handler: ext.copyData, writes: true, order: 'handle', handles: (q) => [q.readHandle, q.writeHandle] },
  homeDirectory: { handler: ext.homeDirectory, writes: false, order: 'path' },
  usersGroupsById: {
    handler: ext.usersGroupsById,
    writes: false,
    order: 'path',
    serves: (fs) => fs.userName !== undefined || fs.groupName !== undefined,
  },
  // only ever holds back an upload's commit: it changes nothing itself
  discardHandle: { handler: ext.discardHandle, writes: false, order: 'handle', handles: oneHandle },
  checkFileName: { handler: ext.checkFileName, writes: false, order: 'path' },
  checkFileHandle: {
    handler: ext.checkFileHandle,
    writes: false,
    order: 'handle',
    handles: (q) => [q.target as Buffer],
  },
};

function extensionRow(name: string): ExtensionRow<ExtensionKey> | undefined {
  const key = extensionKeyByName(name);
  return key === undefined ? undefined : (EXTENSIONS[key] as ExtensionRow<ExtensionKey>);
}

export function isRequestType(type: number): type is RequestType {
  return Object.prototype.hasOwnProperty.call(REQUESTS, type);
}

function rowOf(type: RequestType): AnyRequestRow {
  return REQUESTS[type] as unknown as AnyRequestRow;
}

/** The row's `writes` for this request: a read-only server refuses it. */
export function requestWrites(req: RequestPacket): boolean {
  const w = rowOf(req.type).writes;
  return typeof w === 'function' ? w(req) : w;
}

/** True when a packet of this type has a handle as its first field after the id. */
export function handleFirst(type: number): boolean {
  return isRequestType(type) && REQUESTS[type].handle === 'first';
}

/** The extensions a session on `fs` offers in VERSION: those its FileSystem can serve. */
export function advertisedExtensions(fs: FileSystem): { name: string; data: Buffer }[] {
  return (Object.keys(EXTENSIONS) as ExtensionKey[])
    .filter((k) => EXTENSIONS[k].serves?.(fs) ?? true)
    .map((k) => ({ name: Extensions[k].name, data: Buffer.from(Extensions[k].version) }));
}

/** Key shared by every CLOSE (order 'commit'). */
const CLOSE_KEY = 'close';

/** The handles an EXTENDED request names, when its extension is ordered on handles and its data decodes. */
function extensionHandles(req: PacketOf<typeof T.EXTENDED>): Buffer[] {
  const key = extensionKeyByName(req.request);
  if (key === undefined) return [];
  const row = EXTENSIONS[key] as ExtensionRow<typeof key>;
  if (row.order === 'path') return [];
  try {
    return row.handles(decodeExtensionRequest(key, req.data));
  } catch {
    return []; // answered BAD_MESSAGE by its handler, in order like a path request
  }
}

/**
 * How a request is ordered against the others of its session, from its row: the keys of the
 * handles it works on, or `null` for a path request, which runs alone (see Placement).
 */
export function orderingKeys(req: RequestPacket): string[] | null {
  const row = rowOf(req.type);
  switch (row.order) {
    case 'path':
      return null;
    case 'handle':
    case 'commit': {
      const key = (req as { handle: Buffer }).handle.toString('hex');
      return row.order === 'commit' ? [key, CLOSE_KEY] : [key];
    }
    case 'extension': {
      const handles = extensionHandles(req as PacketOf<typeof T.EXTENDED>).map((h) => h.toString('hex'));
      return handles.length > 0 ? handles : null;
    }
  }
}

/** A handler as the session calls it, whatever the request's type. */
export function handlerOf(req: RequestPacket): AnyRequestRow['handler'] {
  return rowOf(req.type).handler;
}
