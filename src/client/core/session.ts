import type { Duplex } from 'node:stream';
import {
  DEFAULT_MAX_PACKET,
  PacketFramer,
  PacketType as T,
  SFTP_VERSION,
  SftpError,
  SftpBadReplyError,
  SftpProtocolError,
  StatusCode,
  decodePacket,
  encodePacket,
  packetTypeName,
  type ExtensionPair,
  type Packet,
  type ReplyType,
  type RequestType,
} from '../../protocol/index.js';
import { piecesHead, slicePieces } from '../../protocol/framing-pieces.js';

/** Replies at least this long that span chunks are taken as pieces (smaller ones are copied once). */
const SPLIT_FROM = 16 * 1024;
import { abortError, connectionLostError, sessionClosedError } from './errors.js';
import { onAbort } from './abort-fanout.js';
import { END_CLOSE_GRACE_MS, END_STALL_MS, SESSION_MAX_BYTES, SESSION_MAX_REQUESTS } from '../defaults.js';
import { Window } from './window.js';
import { RequestTable } from './request-table.js';

type WithoutId<P> = P extends unknown ? Omit<P, 'id'> : never;

/** A request as a caller builds it: any request packet without its id (the session assigns it). */
export type RequestBody = WithoutId<Extract<Packet, { type: RequestType }>>;
/** Any reply packet. */
export type ReplyPacket = Extract<Packet, { type: ReplyType }>;

/** The reply types each request may legally get (STATUS is always allowed). */
const EXPECTED: Record<RequestType, readonly number[]> = {
  [T.OPEN]: [T.HANDLE],
  [T.OPENDIR]: [T.HANDLE],
  [T.CLOSE]: [],
  [T.READ]: [T.DATA],
  [T.WRITE]: [],
  [T.LSTAT]: [T.ATTRS],
  [T.FSTAT]: [T.ATTRS],
  [T.STAT]: [T.ATTRS],
  [T.SETSTAT]: [],
  [T.FSETSTAT]: [],
  [T.READDIR]: [T.NAME],
  [T.REMOVE]: [],
  [T.MKDIR]: [],
  [T.RMDIR]: [],
  [T.REALPATH]: [T.NAME],
  [T.RENAME]: [],
  [T.READLINK]: [T.NAME],
  [T.SYMLINK]: [],
  [T.EXTENDED]: [T.EXTENDED_REPLY, T.NAME],
};

export interface SessionOptions {
  /** Requests in flight at most, over the whole session (default 256). */
  maxRequests?: number;
  /** Bytes in flight at most (WRITE payloads plus READ lengths asked; default 32 MiB). One request is always allowed. */
  maxBytes?: number;
  /** Largest incoming packet accepted (default 256 KiB + 1024, DEFAULT_MAX_PACKET). */
  maxPacket?: number;
  /** The first request id (default 0); ids wrap at 2^32 and skip ids still in flight. For tests. */
  firstId?: number;
}

export interface RequestOptions {
  /** Aborting rejects this call with an AbortError; the session carries on (a late reply is dropped). */
  signal?: AbortSignal;
}

interface Req {
  body: RequestBody;
  op: string;
  id: number;
  state: 'queued' | 'sent' | 'done';
  /** Aborted after it was sent: its reply is still awaited, then dropped. */
  abandoned: boolean;
  cost: number;
  /** For READ: the largest DATA the reply may carry. */
  maxData: number;
  /** For READ (requestPieces): a DATA reply spread over several chunks resolves with its pieces. */
  pieces: boolean;
  resolve(p: ReplyPacket | Buffer[]): void;
  reject(e: unknown): void;
  signal?: AbortSignal;
  /** Stops waiting for `signal` (one shared listener per signal: abort-fanout.ts). */
  unwatch?: () => void;
}

/**
 * Packets up to this size are gathered and written together once per tick: a burst of small requests
 * (READs refilling a download's window, OPEN/WRITE/CLOSE of many small files) becomes one stream write,
 * which over SSH is one channel packet instead of one each.
 */
const GATHER_LIMIT = 64 * 1024;
/** Gathered packets are flushed at once when they reach this size (the SSH channel packet size). */
const FLUSH_BYTES = 32 * 1024;

function requestCost(b: RequestBody): number {
  if (b.type === T.WRITE) return b.data.length;
  if (b.type === T.READ) return b.length;
  return 0;
}

/**
 * One SFTP client session over a byte stream: INIT/VERSION, request ids, the in-flight table, a window
 * in requests and bytes, and the stream's backpressure. Requests may be issued without awaiting each
 * other; they go out in the order they were made (FIFO), as the window and the stream allow.
 *
 * A well-framed reply to a known id of a type its request cannot get (DATA to a WRITE) fails only that
 * request, with an SftpBadReplyError (code 'ERR_SFTP_BAD_REPLY'); the session carries on. Any other
 * violation by the peer — an undecodable packet, a reply with an unknown id, a DATA longer than asked —
 * fails the whole session: every pending call rejects with the SftpProtocolError and the stream is
 * destroyed. When the stream ends, closes or errors (or
 * `connectionLost` says the connection under it is gone), every pending call rejects with an SftpError
 * of code 'ECONNRESET'; calls after that (or after `end()`) reject with code 'ERR_SFTP_CLOSED'. No
 * promise is left hanging.
 */
export class Session {
  /** Requests in flight at most. */
  get maxRequests(): number {
    return this.window.maxCount;
  }
  /** Bytes in flight at most (one request is always allowed). */
  get maxBytes(): number {
    return this.window.maxBytes;
  }
  /** The largest packet the server accepts (from limits@openssh.com); larger requests are refused locally. */
  maxOutgoingPacket = Infinity;
  /** The largest packet this session accepts from the server (its framer's maximum). */
  get maxIncomingPacket(): number {
    return this.framer.maxPacket;
  }

  private readonly framer: PacketFramer;
  /** Requests sent and not yet answered, by id (see request-table.ts for why not a Map). */
  private readonly inflight = new RequestTable<Req>();
  /** The session's own window in requests and bytes: a request holds a slot from its sending to its reply. */
  private readonly window: Window;
  private queue: Req[] = [];
  private queueHead = 0;
  private nextId: number;
  private blocked = false;
  /** Small packets written this tick, not yet handed to the stream (see GATHER_LIMIT). */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private flushScheduled = false;
  private state: 'init' | 'ready' | 'ending' | 'closed' = 'init';
  private failure: Error | undefined;
  private lostWhy: string | undefined;
  private handshake?: { resolve(v: { version: number; extensions: ExtensionPair[] }): void; reject(e: unknown): void };
  private readonly closeWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  /** Replies received so far (end() watches it to tell a slow server from a stalled one). */
  private repliesSeen = 0;
  /** Resolves when the session is closed, with the reason (undefined after a clean end()). */
  readonly closed: Promise<Error | undefined>;
  private resolveClosed!: (e: Error | undefined) => void;

  constructor(
    readonly stream: Duplex,
    opts: SessionOptions = {},
  ) {
    this.window = new Window(
      Math.max(1, opts.maxRequests ?? SESSION_MAX_REQUESTS),
      Math.max(1, opts.maxBytes ?? SESSION_MAX_BYTES),
    );
    this.nextId = (opts.firstId ?? 0) >>> 0;
    this.closed = new Promise((r) => (this.resolveClosed = r));
    // A large reply spread over chunks (a DATA over SSH always is) comes as views of those chunks.
    this.framer = new PacketFramer(
      {
        onPacket: (p) => this.onPacket(p),
        onSplitPacket: (pieces, length) => this.onPieces(pieces, length),
        splitFrom: SPLIT_FROM,
      },
      opts.maxPacket ?? DEFAULT_MAX_PACKET,
    );
    stream.on('data', (chunk: Buffer) => {
      if (this.state === 'closed') return;
      try {
        this.framer.push(chunk);
      } catch (err) {
        this.fail(err instanceof Error ? err : new SftpProtocolError(String(err)));
      }
    });
    stream.on('end', () => this.connectionLost('the stream ended'));
    stream.on('close', () => this.connectionLost('the stream closed'));
    stream.on('error', (err: Error) => this.connectionLost(`stream error: ${err.message}`, err));
    stream.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  /** Requests sent and not yet answered (including aborted ones whose reply is still due). */
  get inFlight(): number {
    return this.inflight.size;
  }
  /** Requests waiting for room in the window or for the stream to drain. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }
  get isOpen(): boolean {
    return this.state === 'ready';
  }

  /** Send INIT and wait for VERSION. */
  init(extensions: ExtensionPair[] = []): Promise<{ version: number; extensions: ExtensionPair[] }> {
    if (this.state === 'closed') return Promise.reject(this.failure ?? sessionClosedError('init'));
    if (this.state !== 'init' || this.handshake) return Promise.reject(new Error('Session.init called twice'));
    return new Promise((resolve, reject) => {
      this.handshake = { resolve, reject };
      this.writeParts(encodePacket({ type: T.INIT, version: SFTP_VERSION, extensions }));
    });
  }

  /**
   * Send a request and resolve with its reply packet (a STATUS or the type the request expects; the
   * caller turns a STATUS into a result or an error). Never throws synchronously.
   */
  request(body: RequestBody, op: string, opts: RequestOptions = {}): Promise<ReplyPacket> {
    return this.enqueue(body, op, opts, false) as Promise<ReplyPacket>;
  }

  /**
   * A READ whose DATA reply, when it arrived spread over several chunks of the stream (a large reply
   * over SSH always does), resolves with its bytes as pieces: views of the received chunks, in order,
   * never copied. Any other reply (a DATA within one chunk, a STATUS) resolves as with `request`.
   */
  requestPieces(
    body: Extract<RequestBody, { type: typeof T.READ }>,
    op: string,
    opts: RequestOptions = {},
  ): Promise<ReplyPacket | Buffer[]> {
    return this.enqueue(body, op, opts, true);
  }

  private enqueue(
    body: RequestBody,
    op: string,
    opts: RequestOptions,
    pieces: boolean,
  ): Promise<ReplyPacket | Buffer[]> {
    if (this.state !== 'ready') return Promise.reject(sessionClosedError(op, this.failure));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<ReplyPacket | Buffer[]>((resolve, reject) => {
      const req: Req = {
        body,
        op,
        id: -1,
        state: 'queued',
        abandoned: false,
        cost: requestCost(body),
        maxData: body.type === T.READ ? body.length : 0,
        pieces,
        resolve,
        reject,
        signal,
      };
      if (signal) req.unwatch = onAbort(signal, () => this.abort(req));
      this.queue.push(req);
      this.pump();
    });
  }

  /**
   * The connection under the stream is gone (`why` says how, e.g. "the SSH connection to host:22
   * failed (read ECONNRESET)"): every call pending — sent or still queued — rejects with an SftpError
   * ECONNRESET saying so, with `cause`; calls made afterwards reject with ERR_SFTP_CLOSED. Only the
   * first loss (or failure) counts.
   */
  connectionLost(why: string, cause?: unknown): void {
    if (this.state === 'closed') return;
    this.lostWhy = why;
    this.fail(connectionLostError(undefined, why, cause));
  }

  /** Fail the session from outside (e.g. a reply that decodes but lies, found by the caller). */
  fail(err: Error): void {
    if (this.state === 'closed') return;
    const wasEnding = this.state === 'ending';
    this.state = 'closed';
    this.failure = err;
    if (this.handshake) {
      this.handshake.reject(err);
      this.handshake = undefined;
    }
    const isProtocol = err instanceof SftpProtocolError;
    for (const req of this.inflight.values()) {
      this.settle(req);
      this.window.release(req.cost);
      if (!req.abandoned) req.reject(isProtocol ? err : connectionLostError(req.op, this.lostWhy ?? err.message, err));
    }
    this.inflight.clear();
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const req = this.queue[i]!;
      if (req.state !== 'queued') continue;
      this.settle(req);
      // Made before the loss, so lost with it (ECONNRESET); after end()/destroy() or a protocol error the
      // session was closed under it (ERR_SFTP_CLOSED).
      req.reject(
        this.lostWhy !== undefined ? connectionLostError(req.op, this.lostWhy, err) : sessionClosedError(req.op, err),
      );
    }
    this.queue = [];
    this.queueHead = 0;
    if (!this.stream.destroyed) this.stream.destroy();
    this.resolveClosed(wasEnding && !isProtocol ? undefined : err);
    this.wakeIdle();
    for (const w of this.closeWaiters.splice(0)) w();
  }

  /**
   * End the session cleanly: refuse new requests, wait for those in flight, then end the stream and
   * wait (at most `graceMs`) for the peer to close it.
   */
  async end(graceMs = END_CLOSE_GRACE_MS, stallMs = END_STALL_MS): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'init') {
      this.fail(sessionClosedError('end'));
      return;
    }
    this.state = 'ending';
    // Wait for what is in flight while the server keeps answering; a server that answers nothing for
    // `stallMs` (e.g. one that never replies to a CLOSE) must not hold end() forever.
    let seen = this.repliesSeen;
    const watchdog = setInterval(() => {
      if (this.repliesSeen === seen)
        this.fail(sessionClosedError('end', new Error(`no reply for ${stallMs} ms while ending`)));
      seen = this.repliesSeen;
    }, stallMs);
    try {
      while (this.inflight.size > 0 || this.queued > 0) {
        await new Promise<void>((r) => this.idleWaiters.push(r));
        if ((this.state as string) === 'closed') return;
      }
    } finally {
      clearInterval(watchdog);
    }
    const closed = new Promise<void>((r) => this.closeWaiters.push(r));
    this.stream.end();
    const timer = setTimeout(() => this.fail(sessionClosedError('end')), graceMs);
    await closed;
    clearTimeout(timer);
  }

  /** Close the stream now; everything pending rejects. */
  destroy(reason?: Error): void {
    this.fail(reason ?? sessionClosedError('destroy'));
  }

  private abort(req: Req): void {
    if (req.state === 'done') return;
    if (req.state === 'queued') {
      req.state = 'done';
      req.reject(abortError(req.signal));
      return;
    }
    // Sent: the server will answer; keep the id reserved and drop the reply when it comes.
    req.abandoned = true;
    req.reject(abortError(req.signal));
  }

  private settle(req: Req): void {
    req.state = 'done';
    req.unwatch?.();
  }

  private allocId(): number {
    // Wrap at 2^32, skipping ids still in flight (an aborted request keeps its id until answered) and
    // any whose slot in the table one in flight holds.
    const id = this.inflight.freeId(this.nextId);
    this.nextId = (id + 1) >>> 0;
    return id;
  }

  private pump(): void {
    while (!this.blocked && this.queueHead < this.queue.length && (this.state === 'ready' || this.state === 'ending')) {
      const req = this.queue[this.queueHead]!;
      if (req.state !== 'queued') {
        this.queueHead++;
        continue;
      }
      if (!this.window.tryAcquire(req.cost)) break;
      this.queueHead++;
      const id = this.allocId();
      let parts: Buffer[];
      try {
        parts = encodePacket({ ...req.body, id } as Packet);
      } catch (err) {
        this.window.release(req.cost);
        this.settle(req);
        req.reject(err);
        continue;
      }
      const size = parts.reduce((n, b) => n + b.length, 0) - 4;
      if (size > this.maxOutgoingPacket) {
        this.window.release(req.cost);
        this.settle(req);
        req.reject(
          new SftpError({
            status: StatusCode.BAD_MESSAGE,
            code: 'E2BIG',
            message: `${packetTypeName(req.body.type)} packet of ${size} bytes exceeds the server's maximum of ${this.maxOutgoingPacket}`,
            op: req.op,
          }),
        );
        continue;
      }
      req.id = id;
      req.state = 'sent';
      this.inflight.add(req);
      this.writeParts(parts);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.queueHead === this.queue.length && this.queueHead > 0) {
      this.queue = [];
      this.queueHead = 0;
    }
  }

  /**
   * Write one encoded packet, in order after everything written before. Small packets are gathered and
   * flushed together at the end of the tick (or sooner, once FLUSH_BYTES are gathered); a large packet
   * flushes what was gathered, joined with its header, then writes its payload.
   */
  private writeParts(parts: Buffer[]): void {
    const size = parts.length === 1 ? parts[0]!.length : parts[0]!.length + parts[1]!.length;
    if (size <= GATHER_LIMIT) {
      for (const p of parts) this.gathered.push(p);
      this.gatheredBytes += size;
      if (this.gatheredBytes >= FLUSH_BYTES) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        process.nextTick(this.flushTick);
      }
      return;
    }
    // A large WRITE: [gathered..., header] in one write, then the payload as is (never copied).
    const [header, payload] = parts as [Buffer, Buffer];
    this.gathered.push(header);
    this.gatheredBytes += header.length;
    const s = this.stream;
    s.cork();
    this.flush();
    if (!s.write(payload)) this.blocked = true;
    s.uncork();
  }

  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    const n = this.gathered.length;
    if (n === 0 || this.state === 'closed') {
      this.gathered = [];
      this.gatheredBytes = 0;
      return;
    }
    const buf = n === 1 ? this.gathered[0]! : Buffer.concat(this.gathered, this.gatheredBytes);
    this.gathered = [];
    this.gatheredBytes = 0;
    if (!this.stream.write(buf)) this.blocked = true;
  }

  private onPacket(payload: Buffer): void {
    if (this.state === 'closed') return;
    const p = decodePacket(payload); // a throw here reaches the framer's caller, which fails the session
    if (this.state === 'init') {
      if (p.type !== T.VERSION) throw new SftpProtocolError(`expected VERSION first, got ${packetTypeName(p.type)}`);
      if (p.version !== SFTP_VERSION)
        throw new SftpProtocolError(`server speaks SFTP version ${p.version}; only version 3 is supported`);
      this.state = 'ready';
      const h = this.handshake;
      this.handshake = undefined;
      h?.resolve({ version: p.version, extensions: p.extensions });
      this.pump();
      return;
    }
    if (!('id' in p)) throw new SftpProtocolError(`unexpected ${packetTypeName(p.type)} after the handshake`);
    const req = this.inflight.get(p.id);
    if (!req) throw new SftpProtocolError(`${packetTypeName(p.type)} reply to unknown request id ${p.id}`);
    const reqType = req.body.type;
    if (p.type !== T.STATUS && !EXPECTED[reqType].includes(p.type)) {
      // Framing and id are intact: only this request is wrong, so only it fails.
      const expected = [T.STATUS, ...EXPECTED[reqType]].map(packetTypeName);
      this.retire(req, p.id);
      if (!req.abandoned)
        req.reject(new SftpBadReplyError(packetTypeName(reqType), expected, packetTypeName(p.type), p.id));
      // A HANDLE nobody asked for still names something open on the server: close it — unless it
      // answers a CLOSE (which opens nothing): closing again would let a lying server ping-pong forever.
      if (p.type === T.HANDLE && reqType !== T.CLOSE && this.state === 'ready') {
        this.request({ type: T.CLOSE, handle: Buffer.from(p.handle) }, 'close').catch(() => {});
      }
      this.pump();
      if (this.inflight.size === 0 && this.queued === 0) this.wakeIdle();
      return;
    }
    if (p.type === T.DATA && p.data.length > req.maxData) {
      throw new SftpProtocolError(`DATA of ${p.data.length} bytes answers a READ of ${req.maxData} (id ${p.id})`);
    }
    const abandoned = req.abandoned;
    this.retire(req, p.id);
    if (!abandoned) req.resolve(p as ReplyPacket);
    else if (p.type === T.HANDLE && this.state === 'ready') {
      // An OPEN/OPENDIR given up by its caller still opened something: close it, or it stays open on
      // the server until the session ends.
      this.request({ type: T.CLOSE, handle: Buffer.from(p.handle) }, 'close').catch(() => {});
    }
    this.pump();
    if (this.inflight.size === 0 && this.queued === 0) this.wakeIdle();
  }

  /**
   * A large packet that arrived in pieces. A DATA answering a READ made with requestPieces is handed
   * over as its pieces; anything else is joined into one buffer and handled as every packet is.
   */
  private onPieces(pieces: Buffer[], length: number): void {
    if (this.state === 'closed') return;
    const head = piecesHead(pieces, 9); // type, request id, data length
    if (this.state !== 'init' && head.length === 9 && head[0] === T.DATA) {
      const id = head.readUInt32BE(1);
      const n = head.readUInt32BE(5);
      const req = this.inflight.get(id);
      // Checked as decodePacket and onPacket would; anything unusual takes their path, for their errors.
      if (req && req.pieces && req.body.type === T.READ && n <= length - 9) {
        if (n > req.maxData) {
          throw new SftpProtocolError(`DATA of ${n} bytes answers a READ of ${req.maxData} (id ${id})`);
        }
        const abandoned = req.abandoned;
        this.retire(req, id);
        if (!abandoned) req.resolve(n === 0 ? [] : slicePieces(pieces, 9, n));
        this.pump();
        if (this.inflight.size === 0 && this.queued === 0) this.wakeIdle();
        return;
      }
    }
    this.onPacket(Buffer.concat(pieces, length));
  }

  /** A reply came for `req`: it leaves the window. */
  private retire(req: Req, id: number): void {
    this.inflight.delete(id);
    this.window.release(req.cost);
    this.repliesSeen++;
    this.settle(req);
  }

  private wakeIdle(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
