import type { FileSystem, FileStats } from './fs/file-system.js';
import type { FileHandleEntry, HandleTable } from './handle-table.js';
import type { UploadStore } from './atomic/upload-store.js';
import type { ResolvedLimits } from './options.js';
import type { Attrs } from '../protocol/attrs.js';
import type { Packet, PacketOf, RequestPacket, RequestType } from '../protocol/packets.js';
import { PacketType as T, StatusCode } from '../protocol/constants.js';
import { normalizeVirtual } from './fs/vpath.js';
import type { WireReply } from './wire-reply.js';

/** What a request handler can reach: the session's storage, handles, limits and upload store. */
export class SessionContext {
  constructor(
    readonly fs: FileSystem,
    readonly limits: ResolvedLimits,
    /** Requests whose table row `writes` are refused before they run (see Session.dispatch). */
    readonly readOnly: boolean,
    readonly handles: HandleTable,
    readonly uploads: UploadStore,
    /** Where relative wire paths start (a normalised path inside the served tree). */
    readonly startDir = '/',
    /** SYMLINK's first path is the target (OpenSSH's order) rather than the link (the draft's). */
    readonly symlinkTargetFirst = true,
  ) {}

  private live = true;

  /** Called when the client closed a file handle and the close (and any commit) succeeded. */
  onFileClosed?: (entry: FileHandleEntry) => void;

  /** False once the session is ending: long-running requests (copy-data) stop at their next step. */
  get alive(): boolean {
    return this.live;
  }

  /** The session is ending (called by the session as its shutdown starts). */
  end(): void {
    this.live = false;
  }

  /** A wire path as the FileSystem takes it: a relative one (and "") is taken from the start directory. */
  path(p: string): string {
    return normalizeVirtual(p.startsWith('/') || this.startDir === '/' ? p : `${this.startDir}/${p}`);
  }
}

export type { RequestType, RequestPacket };
/** A handler's reply: a packet, or one already in wire form (see wire-reply.ts). */
export type Handler<K extends RequestType> = (req: PacketOf<K>, ctx: SessionContext) => Promise<Packet | WireReply>;

const U32_MAX = 0xffffffff;
const u32 = (v: number): number => Math.min(U32_MAX, Math.max(0, Math.floor(v)));

export function attrsFromStats(st: FileStats): Attrs {
  return {
    size: st.size,
    uid: st.uid,
    gid: st.gid,
    permissions: st.mode >>> 0,
    atime: u32(st.atime),
    mtime: u32(st.mtime),
  };
}

export const okStatus = (id: number): Packet => ({
  type: T.STATUS,
  id,
  code: StatusCode.OK,
  message: 'Success',
  lang: '',
});
export const statusReply = (id: number, code: number, message: string): Packet => ({
  type: T.STATUS,
  id,
  code,
  message,
  lang: '',
});
export const attrsReply = (id: number, attrs: Attrs): Packet => ({ type: T.ATTRS, id, attrs });
export const oneName = (id: number, name: string): Packet => ({
  type: T.NAME,
  id,
  entries: [{ filename: name, longname: name, attrs: {} }],
});
