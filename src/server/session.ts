import type { Duplex } from 'node:stream';
import { PacketType as T, StatusCode, SFTP_VERSION, packetTypeName } from '../protocol/constants.js';
import { decodePacket, isKnownPacketType, peekHeader, type Packet, type PacketOf } from '../protocol/packets.js';
import { PacketFramer, type OversizedPacket } from '../protocol/framing.js';
import type { RequestPacket, SessionContext } from './context.js';
import { statusReply } from './context.js';
import {
  advertisedExtensions,
  handleFirst,
  handlerOf,
  isRequestType,
  orderingKeys,
  requestWrites,
} from './request-table.js';
import { closeFileEntry, readBatch, writeBatch } from './handlers/file-handlers.js';
import { DATA_HEADER, wireBuffers, type Reply } from './wire-reply.js';
import { OutputMeter, WRITE_OVERHEAD } from './output-meter.js';
import { DEFAULT_BATCH_BOUNDS, IoBatch, type ReadRequest, type WriteRequest } from './io-batch.js';
import { OrderedQueues } from './ordered-queues.js';
import { doneAtCallback, FramePool } from './frame-pool.js';
import { splitWrite } from './split-write.js';
import { decodeIo } from './io-decode.js';

/**
 * DATA frames a session keeps for reuse during a download, at most (and at most half its
 * maxOutputBuffer): about what a client keeps in flight (our client: 32 x 256 KiB).
 */
const FRAME_POOL_BYTES = 8 * 1024 * 1024;
import { readOnlyError, statusFor } from './status-error.js';

/**
 * Packets of at least this many bytes that span input chunks arrive as views of those chunks (see
 * PacketFramer's onSplitPacket): a WRITE's data then goes to the file from where it was read, never
 * joined into one buffer first.
 */
const SPLIT_FROM = 8 * 1024;

/** A packet that arrived over several input chunks, as views of them. */
interface SplitPacket {
  pieces: Buffer[];
  length: number;
}

/** Handle strings are at most 256 bytes (draft-ietf-secsh-filexfer-02, 3.1). */
const MAX_HANDLE = 256;
/** Head bytes of an oversized packet kept: type, id, and the handle string a file request starts with. */
const HANDLE_HEAD = 1 + 4 + 4 + MAX_HANDLE;
/** The handle a request's head names (type, id, then a handle string), when it is all there. */
export function handleInHead(head: Buffer): Buffer | undefined {
  if (head.length < 9 || !handleFirst(head[0]!)) return undefined;
  const len = head.readUInt32BE(5);
  if (len > MAX_HANDLE || head.length < 9 + len) return undefined;
  return head.subarray(9, 9 + len);
}

export interface SessionOptions {
  /**
   * The connection under the stream, shared with the other sessions on it (an SSH connection's
   * socket): while it is blocked, this session takes no more requests either.
   */
  connection?: OutputMeter;
  /** Aborted when the transport under the stream is gone: the session ends as if its stream broke. */
  signal?: AbortSignal;
}

/**
 * One SFTP session on a byte stream: framing, INIT/VERSION, dispatch, per-handle ordering and flow
 * control. Input is paused while `maxInFlight` requests are unanswered, or while the replies queued
 * on the stream and the READs running count more than `maxOutputBuffer` (each write at least
 * WRITE_OVERHEAD bytes), or while the connection under the stream is at that bound, and resumed as
 * they drain, so memory stays bounded whatever the client sends. Replies are written as soon as they are ready; the stream
 * buffers them, so a client that writes a whole window of requests before reading never deadlocks.
 * Contiguous READs or WRITEs queued on one handle run as one vectored call (see IoBatch) and are
 * answered in arrival order. Requests that name paths run one at a time in arrival order, behind
 * everything sent before them (see orderingKeys); only different handles' work runs concurrently.
 */
export class Session {
  private readonly framer: PacketFramer;
  private readonly queues = new OrderedQueues();
  /** Per handle: the READ/WRITE batch queued and not started yet, which later requests may join. */
  private readonly openBatches = new Map<string, IoBatch>();
  private readonly tasks = new Set<Promise<void>>();
  private initialized = false;
  private inFlight = 0;
  private paused = false;
  /** No more input is taken. */
  private ending = false;
  /** The stream broke: queued requests are dropped, not answered. */
  private dropped = false;
  private finished!: Promise<void>;
  private resolveFinished!: () => void;
  /** This session's replies queued on the stream and being prepared. */
  private readonly meter: OutputMeter;
  private readonly connection?: OutputMeter;
  private readonly signal?: AbortSignal;
  private readonly onRoom = (): void => {
    this.drainBacklog();
    this.updateFlow();
  };
  private readonly onAbort = (): void => void this.shutdown(false);
  /**
   * DATA frames reused once sent: only on a stream known to be done with a buffer at its write
   * callback (see doneAtCallback): a plain socket, as under `serve --stdio`, never an SSH channel.
   * Emptied at every CLOSE (a download is over) and when the session ends.
   */
  private readonly frames?: FramePool;

  constructor(
    private readonly stream: Duplex,
    private readonly ctx: SessionContext,
    private readonly log: (message: string) => void,
    opts: SessionOptions = {},
  ) {
    this.connection = opts.connection;
    this.signal = opts.signal;
    this.meter = new OutputMeter(ctx.limits.maxOutputBuffer, opts.connection);
    if (doneAtCallback(stream)) this.frames = new FramePool(Math.min(FRAME_POOL_BYTES, ctx.limits.maxOutputBuffer / 2));
    this.framer = new PacketFramer(
      {
        onPacket: (p) => this.onPacket(p),
        onOversized: (info) => this.onOversized(info),
        oversizedHead: HANDLE_HEAD,
        onSplitPacket: (pieces, length) => this.onPacket({ pieces, length }),
        splitFrom: SPLIT_FROM,
      },
      ctx.limits.maxPacket,
    );
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** Serve until the peer ends the stream or the session fails; never rejects. */
  run(): Promise<void> {
    const s = this.stream;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => void this.shutdown(true));
    s.on('close', () => void this.shutdown(false));
    s.on('error', () => void this.shutdown(false));
    s.on('drain', this.onRoom);
    this.meter.on('room', this.onRoom);
    this.connection?.on('room', this.onRoom);
    if (this.signal?.aborted) void this.shutdown(false);
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
    return this.finished;
  }

  /** Bytes counted against maxOutputBuffer for this session now (queued replies and READs running). */
  get queued(): number {
    return this.meter.queued;
  }

  private onData(chunk: Buffer): void {
    if (this.ending) return;
    try {
      this.framer.push(chunk);
    } catch (err) {
      // a zero-length packet (or a broken framer): nothing to answer, close cleanly
      this.log(`sftp session: ${(err as Error).message}; closing`);
      void this.shutdown(true);
    }
  }

  private send(p: Reply): void {
    this.sendAll([p]);
  }

  /** Replies are being gathered on the corked stream until the end of this turn (see sendAll). */
  private gathering = false;
  private readonly flushGathered = (): void => {
    this.gathering = false;
    this.stream.uncork();
  };

  /**
   * Replies in order; small ones merged into one buffer. Everything sent in one turn of the event
   * loop (one input chunk's requests answered, or one file call's completion) leaves in one vectored
   * write: the stream is corked at the first reply and uncorked once the turn's callbacks and
   * promise jobs have run.
   */
  private sendAll(replies: readonly Reply[]): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    const bufs = wireBuffers(replies);
    if (!this.gathering) {
      this.gathering = true;
      this.stream.cork();
      process.nextTick(this.flushGathered);
    }
    const sent = this.frames && this.framesOf(replies);
    // writes complete in order: after the last one's callback, every pooled frame here has been sent
    this.meter.writeAll(this.stream, bufs, sent && (() => this.giveFrames(sent)));
  }

  /** The pooled frames holding `replies`, if any. */
  private framesOf(replies: readonly Reply[]): Buffer[] | undefined {
    let out: Buffer[] | undefined;
    for (const r of replies) if ('frame' in r && r.frame) (out ??= []).push(r.frame);
    return out;
  }

  private giveFrames(frames: readonly Buffer[]): void {
    for (const f of frames) this.frames!.give(f);
  }

  private onOversized(info: OversizedPacket): void {
    if (this.ending) return;
    if (!this.initialized || info.id === undefined || info.type === T.INIT) {
      // before INIT nothing is answered: the first packet must be INIT
      this.log(
        `sftp session: oversized packet of ${info.length} bytes ${this.initialized ? 'without a request id' : 'before INIT'}; closing`,
      );
      void this.shutdown(true);
      return;
    }
    // in its place in the stream, like any request: behind the backlog
    this.onPacket(info);
  }

  /**
   * Answer a request that is not run (too big, or undecodable) without overtaking earlier replies:
   * through its handle's queue when its head names a handle (so it keeps its place among that file's
   * replies both ways), else after every request received before it.
   */
  private answerInPlace(id: number, code: number, message: string, head: Buffer | undefined): void {
    const reply = statusReply(id, code, message);
    this.inFlight++;
    this.meter.charge(WRITE_OVERHEAD);
    this.updateFlow();
    const handle = head && handleInHead(head);
    if (handle) {
      const key = handle.toString('hex');
      this.sealBatch(key);
      this.track(
        this.queues.run([key], async () => this.send(reply)),
        () => 1,
        () => WRITE_OVERHEAD,
      );
      return;
    }
    const earlier = [...this.tasks];
    this.track(
      Promise.all(earlier)
        .then(() => this.send(reply))
        .catch(() => undefined),
      () => 1,
      () => WRITE_OVERHEAD,
    );
  }

  /** Packets (and oversized packets' heads) received while at a bound: handled in arrival order as room frees up. */
  private readonly backlog: Array<Buffer | OversizedPacket | SplitPacket> = [];

  private atBound(): boolean {
    return this.inFlight >= this.ctx.limits.maxInFlight || this.meter.blocked || this.connection?.blocked === true;
  }

  /** What a request's reply may take until it is sent: a READ's bytes, and one write's overhead. */
  private replyCost(req: RequestPacket): number {
    return WRITE_OVERHEAD + (req.type === T.READ ? DATA_HEADER + Math.min(req.length, this.ctx.limits.maxRead) : 0);
  }

  /**
   * One chunk may hold thousands of small requests; beyond the bound they wait here (as views of
   * the chunk, so no more memory than the chunk itself) while the stream is paused.
   */
  private onPacket(payload: Buffer | OversizedPacket | SplitPacket): void {
    if (this.ending) return;
    if (this.backlog.length > 0 || this.atBound()) {
      this.backlog.push(payload);
      this.updateFlow();
      return;
    }
    this.handlePacket(payload);
  }

  private drainBacklog(): void {
    while (this.backlog.length > 0 && !this.dropped && !this.atBound()) this.handlePacket(this.backlog.shift()!);
  }

  private handlePacket(packet: Buffer | OversizedPacket | SplitPacket): void {
    let payload: Buffer | OversizedPacket;
    if ('pieces' in packet) {
      // a WRITE is run from its pieces; anything else is joined and handled like any packet
      const write = this.initialized ? splitWrite(packet.pieces, packet.length) : undefined;
      if (write) return this.dispatch(write);
      payload = Buffer.concat(packet.pieces, packet.length);
    } else payload = packet;
    if (!Buffer.isBuffer(payload)) {
      const info = payload;
      const message = `EMSGSIZE: packet of ${info.length} bytes exceeds the limit of ${this.ctx.limits.maxPacket}`;
      return this.answerInPlace(info.id!, StatusCode.BAD_MESSAGE, message, info.head);
    }
    if (!this.initialized) return this.onInit(payload);
    let req: Packet;
    try {
      req = decodeIo(payload) ?? decodePacket(payload);
    } catch (err) {
      const { type, id } = peekHeader(payload);
      if (id === undefined) {
        this.log(`sftp session: undecodable packet without an id; closing`);
        void this.shutdown(true);
        return;
      }
      const code = isKnownPacketType(type) ? StatusCode.BAD_MESSAGE : StatusCode.OP_UNSUPPORTED;
      const message =
        code === StatusCode.BAD_MESSAGE
          ? `EBADMSG: ${(err as Error).message}`
          : `ENOSYS: unsupported packet type ${type}`;
      this.answerInPlace(id, code, message, payload);
      return;
    }
    if (!isRequestType(req.type)) {
      if ('id' in req)
        this.send(statusReply(req.id, StatusCode.BAD_MESSAGE, `EBADMSG: packet type ${req.type} is not a request`));
      return; // a second INIT (or VERSION) is ignored
    }
    this.dispatch(req as RequestPacket);
  }

  private onInit(payload: Buffer): void {
    let req: Packet | undefined;
    try {
      req = decodePacket(payload);
    } catch {
      req = undefined;
    }
    if (req?.type !== T.INIT) {
      this.log('sftp session: the first packet is not INIT; closing');
      void this.shutdown(true);
      return;
    }
    this.initialized = true;
    this.send({ type: T.VERSION, version: SFTP_VERSION, extensions: advertisedExtensions(this.ctx.fs) });
  }

  /**
   * Queue a request where its table row says. The one read-only check of the server is here: a
   * request whose row `writes` is refused (answered in its place, like any reply) and never runs.
   */
  private dispatch(req: RequestPacket): void {
    if (req.type === T.CLOSE) this.frames?.clear();
    this.inFlight++;
    const cost = this.replyCost(req);
    this.meter.charge(cost);
    this.updateFlow();
    const refused = this.ctx.readOnly && requestWrites(req);
    if (!refused && (req.type === T.WRITE || req.type === T.READ) && IoBatch.batchable(req))
      return this.dispatchIo(req);
    const keys = orderingKeys(req);
    // work queued behind a batch: later READs/WRITEs must not join it and overtake this one
    if (keys === null) for (const k of [...this.openBatches.keys()]) this.sealBatch(k);
    else for (const k of keys) this.sealBatch(k);
    const task = async (): Promise<void> =>
      this.send(refused ? this.failure(req, readOnlyError()) : await this.answer(req));
    this.track(
      keys === null ? this.queues.runAlone(task) : this.queues.run(keys, task),
      () => 1,
      () => cost,
    );
  }

  /**
   * READ/WRITE: join the handle's batch still waiting in its queue when it continues it, or queue a
   * new batch. A batch runs as one vectored call when the handle's earlier work is done.
   */
  private dispatchIo(req: WriteRequest | ReadRequest): void {
    const key = req.handle.toString('hex');
    if (this.openBatches.get(key)?.offer(req)) return;
    const batch = new IoBatch(req, this.ctx.limits.maxRead, DEFAULT_BATCH_BOUNDS);
    this.openBatches.set(key, batch);
    this.track(
      this.queues.run([key], async () => {
        this.sealBatch(key, batch);
        let replies: Reply[];
        try {
          replies =
            batch.type === T.WRITE
              ? await writeBatch(batch.requests as WriteRequest[], this.ctx, (r) => this.answer(r))
              : await readBatch(batch.requests as ReadRequest[], this.ctx, (r) => this.answer(r), this.frames);
        } catch (err) {
          // the handle's checks failed (or the read did): the same error answers each request
          const first = this.failure(batch.requests[0]!, err) as PacketOf<typeof T.STATUS>;
          replies = batch.requests.map((r) => ({ ...first, id: r.id }));
        }
        this.sendAll(replies);
      }),
      () => batch.requests.length,
      () => batch.requests.reduce((sum, r) => sum + this.replyCost(r), 0),
    );
  }

  private sealBatch(key: string, only?: IoBatch): void {
    const b = this.openBatches.get(key);
    if (b && (only === undefined || b === only)) {
      b.seal();
      this.openBatches.delete(key);
    }
  }

  /** Run one request's handler; errors become its STATUS reply. */
  private async answer(req: RequestPacket): Promise<Reply> {
    try {
      return await handlerOf(req)(req, this.ctx);
    } catch (err) {
      return this.failure(req, err);
    }
  }

  private failure(req: RequestPacket, err: unknown): Packet {
    const s = statusFor(err);
    if (s.internal) this.log(`sftp session: ${packetTypeName(req.type)} failed: ${(err as Error)?.stack ?? err}`);
    return statusReply(req.id, s.code, s.message);
  }

  /**
   * Count a queued task's requests out of flight when it is done, and give back what was reserved
   * for their replies (`answered` and `reserved` are read then).
   */
  private track(task: Promise<void>, answered: () => number, reserved: () => number): void {
    this.tasks.add(task);
    void task.then(() => {
      this.tasks.delete(task);
      this.inFlight -= answered();
      this.meter.release(reserved());
      this.drainBacklog();
      this.updateFlow();
    });
  }

  /** Resolves when there is room for more replies, or the stream or its transport is gone. */
  private outputRoom(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.meter.off('room', done);
        this.connection?.off('room', done);
        this.signal?.removeEventListener('abort', done);
        resolve();
      };
      if (this.stream.destroyed || this.signal?.aborted) return resolve();
      this.stream.on('drain', done);
      this.stream.on('close', done);
      this.meter.on('room', done);
      this.connection?.on('room', done);
      this.signal?.addEventListener('abort', done);
    });
  }

  /** Pause input at the in-flight bound or while replies pile up unread; resume when both clear. */
  private updateFlow(): void {
    if (this.ending) return;
    const full = this.backlog.length > 0 || this.atBound();
    if (full && !this.paused) {
      this.paused = true;
      this.stream.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.stream.resume();
    }
  }

  /**
   * End the session: stop reading, let requests already running finish (answering them when the
   * stream can still carry replies), close every handle — uploads not closed by the client are
   * abandoned — then end our side of the stream.
   */
  private async shutdown(graceful: boolean): Promise<void> {
    if (!graceful || this.stream.destroyed || this.signal?.aborted) this.dropped = true;
    if (this.ending) return this.finished;
    this.ending = true;
    this.ctx.end(); // requests still running that take long (copy-data) stop
    try {
      // answer what was received before the end: running requests and the backlog
      while (this.tasks.size > 0 || (!this.dropped && this.backlog.length > 0)) {
        this.drainBacklog();
        if (this.tasks.size > 0) await Promise.race([...this.tasks]);
        else if (this.backlog.length > 0 && !this.dropped) {
          await this.outputRoom();
          if (this.stream.destroyed || this.signal?.aborted) this.dropped = true;
        }
      }
      this.backlog.length = 0;
      for (const entry of this.ctx.handles.drain()) {
        try {
          if (entry.kind === 'dir') await entry.dir.close();
          else await closeFileEntry(entry, this.ctx, false);
        } catch (err) {
          this.log(`sftp session: closing a handle at session end failed: ${(err as Error).message}`);
        }
      }
    } finally {
      if (graceful && !this.dropped && !this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
      // the connection outlives its sessions: nothing of this one stays attached to it
      this.connection?.off('room', this.onRoom);
      this.signal?.removeEventListener('abort', this.onAbort);
      // the session's writes no longer count against the connection: a closed channel never finishes them
      this.meter.detach();
      this.frames?.clear();
      this.resolveFinished();
    }
  }
}
