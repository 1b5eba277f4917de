import type { Duplex, Readable, Writable } from 'node:stream';
import {
  Extensions,
  PacketType as T,
  SftpError,
  SftpProtocolError,
  StatusCode,
  decodeExtensionReply,
  encodeExtensionRequest,
  type Attrs,
  type CheckFileReply,
  type ExtensionKey,
  type ExtensionReply,
  type ExtensionRequest,
  type Limits,
  type NameEntry,
  type StatVfs,
  type UsersGroupsReply,
} from '../protocol/index.js';
import {
  growReceiveWindowFor,
  openSftpChannel,
  serverSoftware,
  type SshConnectConfig,
  type SshConnection,
} from '../transport/ssh-channel.js';
import { notSupportedError } from './core/errors.js';
import { ConnectionWatch, connectFailure } from '../transport/ssh-connection-watch.js';
import {
  assertCheckFileBlock,
  checkFileAlgorithms,
  checkFileHandleName,
  type CheckFileHandleName,
} from './core/check-file-names.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, HandshakeDeadline } from './core/handshake-deadline.js';
import { toPflags, type OpenMode } from './core/flags.js';
import {
  Session,
  type ReplyPacket,
  type RequestBody,
  type RequestOptions,
  type SessionOptions,
} from './core/session.js';
import { scandir, type ScandirOptions } from './file/scandir.js';
import type { TransferOptions, TransferResult } from './file/transfer.js';
import {
  createReadStream,
  createWriteStream,
  type ReadStreamOptions,
  type WriteStreamOptions,
} from './file/streams.js';
import { withTransfers, withTrees } from './on-demand.js';
import { refineFailure, type RefinableOp } from './core/refine-failure.js';
import { SymlinkOrderCheck, type SymlinkWireOrder } from './core/symlink-order-check.js';
import type { TreeOptions, TreeResult, RmtreeOptions } from './tree/types.js';
import type { CheckFileOptions, DirEntry, ExtendedReply, TransferHost } from './core/remote.js';
import { DEFAULT_LIMITS, DEFAULT_LIST_MAX_ENTRIES, DEFAULT_REQUESTS, MAX_DEFAULT_CHUNK } from './defaults.js';

export type { RequestOptions } from './core/session.js';

/**
 * Whether a server reads SYMLINK with the target first (OpenSSH's order), from the software part of its
 * SSH identification ("OpenSSH_9.2p1 Debian-2"):
 *
 *   server        reads                   why
 *   OpenSSH_*     target, link (openssh)  always
 *   paramiko_*    target, link (openssh)  always (its SFTPServer)
 *   sftp-wire     target, link (openssh)  what it reads from clients it does not know (this one's is ssh2js)
 *   mod_sftp      target, link (openssh)  ProFTPD 1.3.8 reads it from this client too (seen on disk)
 *   anything else link, target (standard) the draft's order; AsyncSSH's server reads it from a client
 *                                         that does not call itself OpenSSH
 *
 * With symlinkOrder 'auto' the guess is checked on the session's first symlink (symlink-order-check.ts).
 */
export function symlinkTargetFirstFor(serverSoftware: string): boolean {
  return /OpenSSH|^paramiko|^sftp-wire|^mod_sftp/i.test(serverSoftware.replace(/^SSH-[^-]*-/, ''));
}

export type { DirEntry, ExtendedReply, CheckFileOptions } from './core/remote.js';

export interface ClientOptions extends SessionOptions {
  /**
   * Wire order of SYMLINK's two paths. 'auto' (default): over SSH, from the server's identification
   * (see symlinkTargetFirstFor); over a bare stream (stdio), OpenSSH's order (target first) when the
   * server advertises any @openssh.com extension, else the draft's (link path first); the guess is
   * then checked on the session's first symlink (one READLINK) and corrected if the server read the
   * paths the other way. 'openssh' / 'draft': that order, never checked.
   */
  symlinkOrder?: 'auto' | 'openssh' | 'draft';
  /** Ask limits@openssh.com during connect when advertised (default true). */
  askLimits?: boolean;
  /**
   * Default chunk size of transfers, honoured as asked within the server's limits when it gives them
   * (default: from the server's limits, capped at 256 KiB; 32 KiB when unknown).
   */
  chunkSize?: number;
  /** Default requests in flight per transfer (default 32). */
  requests?: number;
  /**
   * After a transfer's AbortSignal fires, how long its cleanup (the CLOSE of its handle, an atomic
   * upload's REMOVE of its temporary file) still waits for the server's reply before the call rejects
   * with an AbortError (default 1000 ms; 0: not at all). The request is sent either way.
   */
  abortGraceMs?: number;
  /**
   * Connecting only: aborting rejects fromStream/fromSsh/connect with an AbortError and destroys the
   * stream (connect: the SSH connection too). Not watched once connected.
   */
  signal?: AbortSignal;
  /**
   * The longest connecting may take: opening the channel (fromSsh), INIT/VERSION and the
   * limits@openssh.com query (default 30,000 ms; 0: no limit). On expiry the stream is destroyed and
   * the call rejects with an SftpError of code 'ETIMEDOUT'. connect() also passes it to ssh2 as
   * `readyTimeout` (the SSH handshake) unless that is set.
   */
  handshakeTimeoutMs?: number;
  /**
   * fromSsh/connect: the SFTP channel's SSH receive window in bytes, the most the server may send
   * ahead of what the client has read. A download cannot go faster than this window per round trip.
   * Default: 4 MiB (SFTP_RECEIVE_WINDOW), grown after connecting to 400 MiB/s times the round trip of
   * the limits@openssh.com query, at most 16 MiB (8 MiB at 20 ms). A larger window on a fast link
   * only lets the server fill the TCP connection when the client falls behind (see SFTP_RECEIVE_WINDOW).
   */
  receiveWindow?: number;
}

export { DEFAULT_LIMITS, DEFAULT_LIST_MAX_ENTRIES, DEFAULT_REQUESTS, MAX_DEFAULT_CHUNK } from './defaults.js';

export interface ListOptions extends ScandirOptions {
  /** The most entries collected (default DEFAULT_LIST_MAX_ENTRIES); one more rejects with 'ERR_SFTP_LIST_LIMIT'. */
  maxEntries?: number;
}

function listLimitError(path: string, max: number): SftpError {
  return new SftpError({
    status: StatusCode.FAILURE,
    code: 'ERR_SFTP_LIST_LIMIT',
    message: `the directory has more than ${max} entries (list()'s maxEntries): raise maxEntries, or stream it with scandir()`,
    op: 'list',
    path,
  });
}

function handleKey(h: Buffer): string {
  return h.toString('latin1');
}

/**
 * An SFTP version 3 client over any byte stream: one method per request, typed extension helpers,
 * a streaming directory listing and windowed transfers. Every method returns a promise and rejects
 * (never throws synchronously) with an SftpError carrying status, code, path and op.
 */
export class SftpClient implements TransferHost {
  /** The version the server answered (always 3). */
  readonly version: number;
  /** Extensions the server advertised: name -> data. */
  readonly extensions: Map<string, string>;
  /** The server's limits (limits@openssh.com), or DEFAULT_LIMITS when not advertised. */
  limits: Limits;
  /** True when `limits` came from the server. */
  limitsFromServer = false;
  /** How long the limits@openssh.com query took (ms): the round trip the receive window is sized by. */
  private limitsRoundTripMs: number | undefined;
  /** True when the server advertises @openssh.com extensions (the SYMLINK order's fallback without an SSH identification). */
  readonly isOpenSsh: boolean;
  private readonly symlinkOrderCheck: SymlinkOrderCheck;
  /** The name check-file-handle goes by on this server ('check-file' on paramiko's), if offered. */
  private readonly checkFileHandleName: CheckFileHandleName | undefined;
  private readonly handlePaths = new Map<string, string>();
  private onEnd: Array<() => void | Promise<void>> = [];

  private constructor(
    readonly session: Session,
    version: number,
    extensions: Map<string, string>,
    readonly options: ClientOptions,
    serverIdent?: string,
  ) {
    this.version = version;
    this.extensions = extensions;
    this.limits = { ...DEFAULT_LIMITS };
    this.isOpenSsh = [...extensions.keys()].some((n) => n.endsWith('@openssh.com'));
    this.checkFileHandleName = checkFileHandleName(extensions);
    const order = options.symlinkOrder ?? 'auto';
    const targetFirst =
      order === 'openssh' ||
      (order === 'auto' && (serverIdent === undefined ? this.isOpenSsh : symlinkTargetFirstFor(serverIdent)));
    this.symlinkOrderCheck = new SymlinkOrderCheck(targetFirst, order !== 'auto');
  }

  /**
   * Speak SFTP over any byte stream (e.g. the stdio of a spawned `sftp-server`). Rejects (and destroys
   * the stream) when the handshake takes longer than `handshakeTimeoutMs` or `signal` fires.
   */
  static async fromStream(stream: Duplex, opts: ClientOptions = {}): Promise<SftpClient> {
    const deadline = new HandshakeDeadline({ signal: opts.signal, timeoutMs: opts.handshakeTimeoutMs });
    try {
      return await deadline.run(SftpClient.handshake(stream, opts, deadline));
    } finally {
      deadline.done();
    }
  }

  /**
   * INIT/VERSION, then limits@openssh.com when advertised (a failed query keeps DEFAULT_LIMITS). With
   * `watch`, the loss of the SSH connection under the stream fails the session at once, with its cause.
   */
  private static async handshake(
    stream: Duplex,
    opts: ClientOptions,
    deadline: HandshakeDeadline,
    watch?: ConnectionWatch,
    serverIdent?: string,
  ): Promise<SftpClient> {
    const session = new Session(stream, opts);
    deadline.onExpire((err) => session.destroy(err));
    if (watch) {
      const forget = watch.onLoss((why, cause) => session.connectionLost(why, cause));
      void session.closed.then(forget);
    }
    const hello = await session.init();
    const ext = new Map(hello.extensions.map((e) => [e.name, e.data.toString('utf8')]));
    const client = new SftpClient(session, hello.version, ext, opts, serverIdent);
    if ((opts.askLimits ?? true) && ext.has(Extensions.limits.name)) {
      try {
        const t0 = performance.now();
        client.limits = await client.fetchLimits();
        client.limitsRoundTripMs = performance.now() - t0;
        client.limitsFromServer = true;
        if (client.limits.maxPacketLength > 0) session.maxOutgoingPacket = client.limits.maxPacketLength;
      } catch (err) {
        if (!session.isOpen) throw err;
        client.limits = { ...DEFAULT_LIMITS }; // an error reply or a reply that does not decode: the safe sizes
      }
    }
    return client;
  }

  /**
   * Open the `sftp` subsystem on an ssh2 connection (as a raw channel; TCP no-delay is set). The
   * channel's opening counts towards `handshakeTimeoutMs`; the connection itself is left to the caller.
   *
   * The connection's errors stay the caller's: no 'error' listener is added to it (an ssh2 Client with
   * none throws its errors at the process, as it would without us). We only observe them (through
   * `events.errorMonitor`, which does not count as a listener): when the connection fails or closes,
   * the session's pending calls reject at once with an SftpError ECONNRESET naming the connection's
   * error. Our channel's own errors are always handled. Our observers leave the connection when the
   * session closes.
   */
  static async fromSsh(conn: SshConnection, opts: ClientOptions = {}): Promise<SftpClient> {
    const watch = new ConnectionWatch(conn, 'observe');
    try {
      const client = await SftpClient.overSsh(conn, watch, opts);
      void client.session.closed.then(() => watch.stop());
      return client;
    } catch (err) {
      watch.stop();
      throw err;
    }
  }

  /** The channel and the SFTP handshake on a watched SSH connection (fromSsh and connect). */
  private static async overSsh(conn: SshConnection, watch: ConnectionWatch, opts: ClientOptions): Promise<SftpClient> {
    const deadline = new HandshakeDeadline({ signal: opts.signal, timeoutMs: opts.handshakeTimeoutMs });
    try {
      const opening = openSftpChannel(conn, 'sftp', opts.receiveWindow);
      deadline.onExpire(
        () =>
          void opening.then(
            (ch) => ch.destroy(),
            () => {},
          ),
      ); // a channel that comes too late is closed
      const channel = await deadline.run(watch.race(opening, 'connect', (ch) => ch.destroy()));
      const client = await deadline.run(SftpClient.handshake(channel, opts, deadline, watch, serverSoftware(conn)));
      // No size asked: grow the window to what the round trip of the limits query says the link needs.
      if (opts.receiveWindow === undefined && client.limitsRoundTripMs !== undefined) {
        growReceiveWindowFor(channel, client.limitsRoundTripMs);
      }
      return client;
    } finally {
      deadline.done();
    }
  }

  /**
   * Connect with ssh2, open the `sftp` subsystem; `end()` closes the connection too. `sftp.signal`
   * cancels connecting; `sftp.handshakeTimeoutMs` is ssh2's `readyTimeout` too unless that is given.
   *
   * The connection is this client's: an 'error' listener stays on it from its creation to its end, so
   * nothing it emits is thrown at the process. Before it is ready, a failure of the connection itself
   * (refused, reset, timed out) rejects with an SftpError of op 'connect' and the socket's code
   * (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...); after, its loss rejects every pending call with an
   * SftpError ECONNRESET (see Session.connectionLost).
   */
  static async connect(opts: SshConnectConfig & { sftp?: ClientOptions }): Promise<SftpClient> {
    const { sftp, ...config } = opts;
    const ms = sftp?.handshakeTimeoutMs;
    if (config.readyTimeout === undefined)
      config.readyTimeout =
        ms === undefined ? DEFAULT_HANDSHAKE_TIMEOUT_MS : ms > 0 && Number.isFinite(ms) ? ms : 2 ** 31 - 1;
    const cancel = new HandshakeDeadline({ signal: sftp?.signal, timeoutMs: 0 }); // the signal only: ssh2 times the SSH handshake
    let watch: ConnectionWatch | undefined;
    let conn: SshConnection;
    try {
      const { connectSsh } = await import('../transport/ssh-client.js'); // ssh2 is loaded by the first connect(), never by a client over a stream
      conn = await cancel.run(connectSsh(config, sftp?.signal, (c) => (watch = new ConnectionWatch(c, 'own'))));
    } catch (err) {
      throw connectFailure(err, watch?.target);
    } finally {
      cancel.done();
    }
    const own = watch!;
    try {
      const client = await SftpClient.overSsh(conn, own, sftp ?? {});
      client.onEnd.push(() => void conn.end());
      void client.session.closed.then(() => {
        own.stop();
        conn.end();
      });
      return client;
    } catch (err) {
      own.stop();
      conn.end();
      throw err;
    }
  }

  /**
   * End the session: wait for requests in flight, then close the channel (and the connection made by
   * connect()). A server that answers nothing for `stallMs` (default 10 s) while we wait is given up
   * on: the channel is destroyed. After the connection was lost, resolves at once.
   */
  async end(opts: { stallMs?: number } = {}): Promise<void> {
    await this.session.end(undefined, opts.stallMs);
    for (const f of this.onEnd.splice(0)) await f();
  }

  /** The default chunk size for reads (from the limits, capped at 256 KiB). */
  get readChunkSize(): number {
    return (
      this.options.chunkSize ?? Math.min(this.limits.maxReadLength || DEFAULT_LIMITS.maxReadLength, MAX_DEFAULT_CHUNK)
    );
  }
  get writeChunkSize(): number {
    return (
      this.options.chunkSize ?? Math.min(this.limits.maxWriteLength || DEFAULT_LIMITS.maxWriteLength, MAX_DEFAULT_CHUNK)
    );
  }
  get defaultRequests(): number {
    return this.options.requests ?? DEFAULT_REQUESTS;
  }
  /** The path a handle was opened for (for error messages), when known. */
  pathOf(handle: Buffer): string | undefined {
    return this.handlePaths.get(handleKey(handle));
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private send(body: RequestBody, op: string, opts?: RequestOptions): Promise<ReplyPacket> {
    return this.session.request(body, op, opts);
  }
  private static statusError(
    p: Extract<ReplyPacket, { type: typeof T.STATUS }>,
    op: string,
    path: string | undefined,
  ): SftpError {
    return new SftpError({ status: p.code, message: p.message, op, path });
  }
  /** Throw `err`, with a precise code where a bare FAILURE can be told apart by one LSTAT of `target`. */
  private async refined(err: unknown, what: RefinableOp, target: string, opts?: RequestOptions): Promise<never> {
    throw await refineFailure(err, what, target, (p, o) => this.lstat(p, o), opts);
  }
  /** A request whose only good answer is STATUS OK. */
  private async simple(body: RequestBody, op: string, path: string | undefined, opts?: RequestOptions): Promise<void> {
    const p = await this.send(body, op, opts);
    if (p.type === T.STATUS && p.code === StatusCode.OK) return;
    if (p.type === T.STATUS) throw SftpClient.statusError(p, op, path);
    throw new SftpProtocolError(`unexpected reply to ${op}`);
  }
  private async expect<K extends ReplyPacket['type']>(
    type: K,
    body: RequestBody,
    op: string,
    path: string | undefined,
    opts?: RequestOptions,
  ): Promise<Extract<ReplyPacket, { type: K }>> {
    const p = await this.send(body, op, opts);
    if (p.type === type) return p as Extract<ReplyPacket, { type: K }>;
    if (p.type === T.STATUS) throw SftpClient.statusError(p, op, path);
    throw new SftpProtocolError(`unexpected reply to ${op}`);
  }
  /** A NAME that must carry exactly one entry (REALPATH, READLINK, expand-path, home-directory). */
  private oneName(p: { entries: NameEntry[] }, op: string): string {
    if (p.entries.length !== 1) {
      const err = new SftpProtocolError(
        `${op} answered with a NAME of ${p.entries.length} entries, not 1`,
        undefined,
        T.NAME,
      );
      this.session.fail(err);
      throw err;
    }
    return p.entries[0]!.filename;
  }

  // ---- one method per SFTP v3 request ----------------------------------------------------------

  /** OPEN. `flags`: 'r', 'r+', 'w', 'wx', 'w+', 'wx+', 'a', 'ax', 'a+', 'ax+' (as Node's fs) or a pflags number. */
  async open(path: string, flags: OpenMode = 'r', attrs: Attrs = {}, opts?: RequestOptions): Promise<Buffer> {
    const pflags = toPflags(flags);
    const p = await this.expect(T.HANDLE, { type: T.OPEN, path, pflags, attrs }, 'open', path, opts).catch(
      (e: unknown) => this.refined(e, { op: 'open', pflags }, path, opts),
    );
    const handle = Buffer.from(p.handle); // own copy: the packet is a view of a network chunk
    this.handlePaths.set(handleKey(handle), path);
    return handle;
  }

  /** CLOSE a file or directory handle. */
  async close(handle: Buffer, opts?: RequestOptions): Promise<void> {
    const path = this.pathOf(handle);
    try {
      await this.simple({ type: T.CLOSE, handle }, 'close', path, opts);
    } finally {
      this.handlePaths.delete(handleKey(handle));
    }
  }

  /**
   * READ up to `length` bytes at `offset`. Resolves with the bytes read: an EMPTY buffer means end of
   * file (STATUS EOF); a buffer shorter than `length` is a short read, not the end — ask again for
   * the rest. The buffer is a view of received data; copy it if you keep it long.
   */
  async read(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer> {
    const path = this.pathOf(handle);
    const p = await this.send({ type: T.READ, handle, offset, length }, 'read', opts);
    if (p.type === T.DATA) return p.data;
    if (p.type === T.STATUS && p.code === StatusCode.EOF) return Buffer.alloc(0);
    if (p.type === T.STATUS) throw SftpClient.statusError(p, 'read', path);
    throw new SftpProtocolError('unexpected reply to read');
  }

  /**
   * READ like `read`, with the bytes as a list of buffers: a large reply comes as the pieces it arrived
   * in (views of the received data, never copied), ready for a gathered write. An EMPTY list means end
   * of file; fewer bytes than `length` in all is a short read.
   */
  async readPieces(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer[]> {
    const path = this.pathOf(handle);
    const p = await this.session.requestPieces({ type: T.READ, handle, offset, length }, 'read', opts);
    if (Array.isArray(p)) return p;
    if (p.type === T.DATA) return p.data.length > 0 ? [p.data] : [];
    if (p.type === T.STATUS && p.code === StatusCode.EOF) return [];
    if (p.type === T.STATUS) throw SftpClient.statusError(p, 'read', path);
    throw new SftpProtocolError('unexpected reply to read');
  }

  /** WRITE `data` at `offset` (the buffer is sent as is, not copied: do not change it until this resolves). */
  async write(handle: Buffer, offset: number, data: Buffer, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.WRITE, handle, offset, data }, 'write', this.pathOf(handle), opts);
  }

  async fstat(handle: Buffer, opts?: RequestOptions): Promise<Attrs> {
    return (await this.expect(T.ATTRS, { type: T.FSTAT, handle }, 'fstat', this.pathOf(handle), opts)).attrs;
  }
  async fsetstat(handle: Buffer, attrs: Attrs, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.FSETSTAT, handle, attrs }, 'fsetstat', this.pathOf(handle), opts);
  }
  /** STAT (follows symlinks). */
  async stat(path: string, opts?: RequestOptions): Promise<Attrs> {
    return (await this.expect(T.ATTRS, { type: T.STAT, path }, 'stat', path, opts)).attrs;
  }
  /** LSTAT (does not follow a final symlink). */
  async lstat(path: string, opts?: RequestOptions): Promise<Attrs> {
    return (await this.expect(T.ATTRS, { type: T.LSTAT, path }, 'lstat', path, opts)).attrs;
  }
  async setstat(path: string, attrs: Attrs, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.SETSTAT, path, attrs }, 'setstat', path, opts);
  }
  async opendir(path: string, opts?: RequestOptions): Promise<Buffer> {
    const p = await this.expect(T.HANDLE, { type: T.OPENDIR, path }, 'opendir', path, opts);
    const handle = Buffer.from(p.handle);
    this.handlePaths.set(handleKey(handle), path);
    return handle;
  }
  /** READDIR: the next batch of entries, or null at the end of the directory (STATUS EOF). */
  async readdir(handle: Buffer, opts?: RequestOptions): Promise<DirEntry[] | null> {
    const path = this.pathOf(handle);
    const p = await this.send({ type: T.READDIR, handle }, 'readdir', opts);
    if (p.type === T.NAME) return p.entries;
    if (p.type === T.STATUS && p.code === StatusCode.EOF) return null;
    if (p.type === T.STATUS) throw SftpClient.statusError(p, 'readdir', path);
    throw new SftpProtocolError('unexpected reply to readdir');
  }
  /** REMOVE a file or symlink; a directory rejects with EISDIR (told by one LSTAT after a bare FAILURE). */
  async remove(path: string, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.REMOVE, path }, 'remove', path, opts).catch((e: unknown) =>
      this.refined(e, { op: 'remove' }, path, opts),
    );
  }
  async mkdir(path: string, attrs: Attrs = {}, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.MKDIR, path, attrs }, 'mkdir', path, opts).catch((e: unknown) =>
      this.refined(e, { op: 'mkdir' }, path, opts),
    );
  }
  async rmdir(path: string, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.RMDIR, path }, 'rmdir', path, opts).catch((e: unknown) =>
      this.refined(e, { op: 'rmdir' }, path, opts),
    );
  }
  /** REALPATH: the canonical absolute path. */
  async realpath(path: string, opts?: RequestOptions): Promise<string> {
    return this.oneName(await this.expect(T.NAME, { type: T.REALPATH, path }, 'realpath', path, opts), 'realpath');
  }
  /** RENAME (v3: fails when newPath exists on most servers; see posixRename). */
  async rename(oldPath: string, newPath: string, opts?: RequestOptions): Promise<void> {
    await this.simple({ type: T.RENAME, oldPath, newPath }, 'rename', oldPath, opts).catch((e: unknown) =>
      this.refined(e, { op: 'rename' }, newPath, opts),
    );
  }
  async readlink(path: string, opts?: RequestOptions): Promise<string> {
    return this.oneName(await this.expect(T.NAME, { type: T.READLINK, path }, 'readlink', path, opts), 'readlink');
  }
  /**
   * SYMLINK in Node's fs order: create `linkPath` pointing at `target` (wire order chosen for the
   * server). With symlinkOrder 'auto' the first symlink of the session is read back once (READLINK)
   * and, if the server took the paths the other way round, the wrong link is removed and the symlink
   * made in the other order, which the session keeps.
   */
  async symlink(target: string, linkPath: string, opts?: RequestOptions): Promise<void> {
    const sendSymlink = async (first: string, second: string, o?: RequestOptions): Promise<void> => {
      await this.simple({ type: T.SYMLINK, first, second } as RequestBody, 'symlink', linkPath, o);
    };
    await this.symlinkOrderCheck.symlink(
      { sendSymlink, readlink: (p, o) => this.readlink(p, o), remove: (p, o) => this.remove(p, o) },
      target,
      linkPath,
      opts,
    );
  }
  /**
   * SYMLINK's wire order now, and whether it is settled: `checked` once given explicitly
   * (symlinkOrder) or looked at after this session's first symlink (see symlink-order-check.ts).
   */
  get symlinkOrder(): { order: SymlinkWireOrder; checked: boolean } {
    return { order: this.symlinkOrderCheck.order, checked: this.symlinkOrderCheck.checked };
  }
  /** A raw EXTENDED request: `data` is everything after the request name. */
  async extended(name: string, data: Buffer = Buffer.alloc(0), opts?: RequestOptions): Promise<ExtendedReply> {
    const p = await this.send({ type: T.EXTENDED, request: name, data }, name, opts);
    if (p.type === T.EXTENDED_REPLY) return { type: 'data', data: p.data };
    if (p.type === T.NAME) return { type: 'name', entries: p.entries };
    if (p.type === T.STATUS && p.code === StatusCode.OK) return { type: 'status' };
    if (p.type === T.STATUS) throw SftpClient.statusError(p, name, undefined);
    throw new SftpProtocolError(`unexpected reply to ${name}`);
  }

  // ---- typed extension helpers -----------------------------------------------------------------

  /** True when the server advertised the extension (by key, e.g. 'posixRename', or by wire name). */
  supports(ext: ExtensionKey | string): boolean {
    const def = (Extensions as Record<string, { name: string }>)[ext];
    const name = def ? def.name : ext;
    if (name === Extensions.checkFileHandle.name) return this.checkFileHandleName !== undefined;
    return this.extensions.has(name);
  }

  private async ext<K extends ExtensionKey>(
    key: K,
    req: ExtensionRequest<K>,
    op: string,
    path: string | undefined,
    opts?: RequestOptions,
    /** The request name on the wire, when this server knows the extension by another. */
    wireName: string = Extensions[key].name,
  ): Promise<{ reply: ExtendedReply; value?: ExtensionReply<K> }> {
    const def = Extensions[key];
    if (!this.extensions.has(wireName)) throw notSupportedError(def.name, op, path);
    const data = encodeExtensionRequest(key, req);
    const p = await this.send({ type: T.EXTENDED, request: wireName, data }, op, opts);
    if (p.type === T.STATUS) {
      if (p.code !== StatusCode.OK) throw SftpClient.statusError(p, op, path);
      if (def.reply.kind !== 'status') throw new SftpProtocolError(`${def.name} answered STATUS OK instead of a reply`);
      return { reply: { type: 'status' } };
    }
    if (p.type === T.NAME) {
      if (def.reply.kind !== 'name') throw new SftpProtocolError(`${def.name} answered with a NAME`);
      return { reply: { type: 'name', entries: p.entries } };
    }
    if (p.type === T.EXTENDED_REPLY) {
      if (def.reply.kind !== 'extended') throw new SftpProtocolError(`${def.name} answered with an EXTENDED_REPLY`);
      // A reply body that does not decode rejects this call only; the session carries on.
      return { reply: { type: 'data', data: p.data }, value: decodeExtensionReply(key, p.data) };
    }
    throw new SftpProtocolError(`unexpected reply to ${def.name}`);
  }

  /** posix-rename@openssh.com: rename, replacing newPath atomically if it exists. */
  async posixRename(oldPath: string, newPath: string, opts?: RequestOptions): Promise<void> {
    await this.ext('posixRename', { oldPath, newPath }, 'posixRename', oldPath, opts);
  }
  /** statvfs@openssh.com. */
  async statvfs(path: string, opts?: RequestOptions): Promise<StatVfs> {
    return (await this.ext('statvfs', { path }, 'statvfs', path, opts)).value!;
  }
  /** fstatvfs@openssh.com. */
  async fstatvfs(handle: Buffer, opts?: RequestOptions): Promise<StatVfs> {
    return (await this.ext('fstatvfs', { handle }, 'fstatvfs', this.pathOf(handle), opts)).value!;
  }
  /** hardlink@openssh.com: create `newPath` as a hard link to the existing `oldPath`. */
  async hardlink(oldPath: string, newPath: string, opts?: RequestOptions): Promise<void> {
    await this.ext('hardlink', { oldPath, newPath }, 'hardlink', newPath, opts);
  }
  /** fsync@openssh.com on an open file handle. */
  async fsync(handle: Buffer, opts?: RequestOptions): Promise<void> {
    await this.ext('fsync', { handle }, 'fsync', this.pathOf(handle), opts);
  }
  /** lsetstat@openssh.com: setstat without following a final symlink. */
  async lsetstat(path: string, attrs: Attrs, opts?: RequestOptions): Promise<void> {
    await this.ext('lsetstat', { path, attrs }, 'lsetstat', path, opts);
  }
  /** limits@openssh.com, asked now (connect already asked once: see `client.limits`). */
  async fetchLimits(opts?: RequestOptions): Promise<Limits> {
    return (await this.ext('limits', {}, 'limits', undefined, opts)).value!;
  }
  /** expand-path@openssh.com: expand `~` and `~user` and make the path absolute. */
  async expandPath(path: string, opts?: RequestOptions): Promise<string> {
    const { reply } = await this.ext('expandPath', { path }, 'expandPath', path, opts);
    return this.oneName(reply as { entries: NameEntry[] }, 'expandPath');
  }
  /**
   * copy-data: server-side copy of `length` bytes (0: to the end) from `readHandle` at `readOffset`
   * into `writeHandle` at `writeOffset`.
   */
  async copyData(
    readHandle: Buffer,
    readOffset: number,
    length: number,
    writeHandle: Buffer,
    writeOffset: number,
    opts?: RequestOptions,
  ): Promise<void> {
    await this.ext(
      'copyData',
      { readHandle, readOffset, readLength: length, writeHandle, writeOffset },
      'copyData',
      this.pathOf(writeHandle),
      opts,
    );
  }
  /** home-directory: the home directory of `username` (OpenSSH's server answers FAILURE for ''). */
  async homeDirectory(username = '', opts?: RequestOptions): Promise<string> {
    const { reply } = await this.ext('homeDirectory', { username }, 'homeDirectory', undefined, opts);
    return this.oneName(reply as { entries: NameEntry[] }, 'homeDirectory');
  }
  /** users-groups-by-id@openssh.com: names for uids and gids ('' where unknown). */
  async usersGroupsById(uids: number[], gids: number[], opts?: RequestOptions): Promise<UsersGroupsReply> {
    const value = (await this.ext('usersGroupsById', { uids, gids }, 'usersGroupsById', undefined, opts)).value!;
    if (value.users.length !== uids.length || value.groups.length !== gids.length) {
      throw new SftpProtocolError(
        `users-groups-by-id answered ${value.users.length}/${value.groups.length} names for ${uids.length}/${gids.length} ids`,
      );
    }
    return value;
  }
  /**
   * check-file-name (path) or check-file-handle (handle): server-side hashes of a range. For a
   * handle, a server offering only 'check-file' (paramiko's) is asked under that name, within the
   * block sizes it hashes correctly (see check-file-names.ts).
   */
  async checkFile(target: string | Buffer, opts: CheckFileOptions = {}): Promise<CheckFileReply> {
    const key = typeof target === 'string' ? 'checkFileName' : 'checkFileHandle';
    const path = typeof target === 'string' ? target : this.pathOf(target);
    const length = opts.length ?? 0;
    const blockSize = opts.blockSize ?? 0;
    let algorithms = opts.algorithms ?? ['sha256', 'sha1', 'md5'];
    const named = key === 'checkFileHandle' ? this.checkFileHandleName : undefined;
    if (named) {
      assertCheckFileBlock(named, length, blockSize, path);
      algorithms = checkFileAlgorithms(named, algorithms);
    }
    const req = { target, algorithms, startOffset: opts.startOffset ?? 0, length, blockSize };
    return (await this.ext(key, req, 'checkFile', path, opts, named?.name)).value!;
  }

  // ---- listings --------------------------------------------------------------------------------

  /**
   * Entries of a directory as READDIR replies arrive (a few READDIRs in flight ahead). Includes '.'
   * and '..' as the server sends them. Breaking out of the loop (or an error) closes the handle.
   */
  scandir(path: string, opts?: ScandirOptions): AsyncIterable<DirEntry> {
    return scandir(this, path, opts);
  }
  /**
   * All entries of a directory, without '.' and '..', collected in memory: at most `maxEntries`
   * (default DEFAULT_LIST_MAX_ENTRIES). A directory with more (or a server whose READDIR never ends)
   * rejects with an SftpError of code 'ERR_SFTP_LIST_LIMIT' once one entry more has arrived; the
   * directory handle is closed. `scandir` has no limit: it holds one READDIR batch at a time.
   */
  async list(path: string, opts: ListOptions = {}): Promise<DirEntry[]> {
    const max = opts.maxEntries ?? DEFAULT_LIST_MAX_ENTRIES;
    if (!(max >= 0)) throw new TypeError(`maxEntries must be a number >= 0, got ${String(max)}`);
    const out: DirEntry[] = [];
    for await (const e of this.scandir(path, opts)) {
      if (e.filename === '.' || e.filename === '..') continue;
      if (out.length >= max) throw listLimitError(path, max); // leaving the loop closes the handle
      out.push(e);
    }
    return out;
  }

  // ---- transfers -------------------------------------------------------------------------------

  /** Download a remote file to a local path, many READs in flight. */
  get(remotePath: string, localPath: string, opts?: TransferOptions): Promise<TransferResult> {
    return withTransfers((m) => m.get(this, remotePath, localPath, opts));
  }
  /** Upload a local file to a remote path, many WRITEs in flight (sent in ascending offset order). */
  put(localPath: string, remotePath: string, opts?: TransferOptions): Promise<TransferResult> {
    return withTransfers((m) => m.put(this, localPath, remotePath, opts));
  }
  /** A whole remote file as a Buffer. */
  readFile(remotePath: string, opts?: TransferOptions): Promise<Buffer> {
    return withTransfers((m) => m.readFile(this, remotePath, opts));
  }
  /** Write a Buffer as a remote file (created or truncated). */
  writeFile(remotePath: string, data: Buffer | string, opts?: TransferOptions): Promise<TransferResult> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    return withTransfers((m) => m.writeFile(this, remotePath, bytes, opts));
  }
  /** A Readable of a remote file, with the transfer window (many READs in flight). */
  createReadStream(path: string, opts?: ReadStreamOptions): Readable {
    return createReadStream(this, path, opts);
  }
  /** A Writable to a remote file, with the transfer window (many WRITEs in flight). */
  createWriteStream(path: string, opts?: WriteStreamOptions): Writable {
    return createWriteStream(this, path, opts);
  }

  // ---- trees: one request window shared by every file ------------------------------------------

  /** Upload a local directory tree; later files' OPENs go out while earlier files' WRITEs are in flight. */
  putTree(localDir: string, remoteDir: string, opts?: TreeOptions): Promise<TreeResult> {
    return withTrees((m) => m.putTree(this, localDir, remoteDir, opts));
  }
  /** Download a remote tree, discovered with scandir in parallel while transfers already run. */
  getTree(remoteDir: string, localDir: string, opts?: TreeOptions): Promise<TreeResult> {
    return withTrees((m) => m.getTree(this, remoteDir, localDir, opts));
  }
  /** Remove a remote tree: files as they are found, directories bottom-up (counts in the result). */
  rmtree(remotePath: string, opts?: RmtreeOptions): Promise<TreeResult> {
    return withTrees((m) => m.rmtree(this, remotePath, opts));
  }
}
