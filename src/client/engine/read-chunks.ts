import { SftpProtocolError } from '../../protocol/index.js';
import { abortError, SourceChangedError } from '../core/errors.js';
import type { RequestOptions } from '../core/session.js';
import { Wakeup } from '../core/wakeup.js';
import { Window } from '../core/window.js';
import { piecesLength } from '../../protocol/framing-pieces.js';
import { OffsetTable } from './offset-table.js';

/** What the read engine needs of a client. */
export interface ChunkReader {
  read(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer>;
}

/** What readChunkPieces needs of a client: READs whose bytes come as a list of buffers (empty at the end). */
export interface ChunkPieceReader {
  readPieces(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer[]>;
}

export interface ReadChunksOptions {
  /** First offset to read (default 0). */
  start?: number;
  /** Read at most this many bytes from `start`; undefined: to the end of the file. */
  length?: number;
  /**
   * The file's size as seen before the transfer (FSTAT). When given (and `length` is not), the engine
   * checks it: an end before it, or bytes past it, is a SourceChangedError. The last READ asks for one
   * byte more than the size, so a file that grew is noticed without an extra round trip.
   */
  expectSize?: number;
  chunkSize: number;
  /**
   * Chunks in flight at most: a chunk holds its slot from its READ until its last byte is consumed, so
   * chunks received out of order and waiting count too (memory: `requests` x `chunkSize`).
   */
  requests: number;
  /**
   * New READs are asked in groups: once this many slots are free (or fewer ranges are left to ask),
   * never one at a time while READs are in flight. Over SSH each group goes out as one packet and one
   * write system call, and the server wakes once for it instead of once per READ. Default:
   * `requests / 8` (4 of the default 32), at least 1; 1 refills each slot as soon as it is free.
   */
  refillBatch?: number;
  signal?: AbortSignal;
  /** For errors. */
  path?: string;
}

/** One range asked as a new READ: it holds one slot of the window until all of its bytes are consumed. */
interface Slot {
  /** What keeps the slot: its READ in flight, pieces waiting in `ready`, a retry queued or parked. */
  live: number;
  /** Its pieces waiting in `ready`. */
  pieces: number;
}

interface Range {
  offset: number;
  length: number;
  slot: Slot;
}

/**
 * Pieces of one range (short reads) kept waiting behind a hole at most; past this, the rest of that
 * range is asked only once the delivery reaches it. It bounds the entries held against a server that
 * answers in crumbs: `requests` x this, whatever it does.
 */
const MAX_PIECES_PER_RANGE = 16;

/**
 * Read a remote file with many READs in flight and yield its bytes IN ORDER (each buffer follows the
 * previous one). Short reads are asked again for the missing part (never taken as the end); the end
 * is the first STATUS EOF (or `expectSize`). Memory is bounded: the window has `requests` slots, and
 * each new READ of up to `chunkSize` bytes takes one, kept until every byte of its range has been
 * consumed. A short reply's rest is asked at once within the same slot (one READ in flight per range,
 * so at most `requests` in flight): a server that caps its replies below the chunk size still gets a
 * full window of requests every round trip, never one at a time.
 */
export async function* readChunks(
  client: ChunkReader,
  handle: Buffer,
  opts: ReadChunksOptions,
): AsyncGenerator<Buffer, void, undefined> {
  yield* readRanges((offset, length, o) => client.read(handle, offset, length, o), bufferLength, opts);
}

/**
 * readChunks with each reply's bytes as the list of buffers it arrived in (ChunkPieceReader): the
 * same order, checks and memory bound, with no copy of a large reply. Each list follows the previous
 * one; none is empty.
 */
export async function* readChunkPieces(
  client: ChunkPieceReader,
  handle: Buffer,
  opts: ReadChunksOptions,
): AsyncGenerator<Buffer[], void, undefined> {
  yield* readRanges((offset, length, o) => client.readPieces(handle, offset, length, o), piecesLength, opts);
}

const bufferLength = (b: Buffer): number => b.length;

/** The engine of readChunks and readChunkPieces, over replies of any shape `T` whose byte count is `size`. */
async function* readRanges<T>(
  read: (offset: number, length: number, opts: RequestOptions) => Promise<T>,
  size: (reply: T) => number,
  opts: ReadChunksOptions,
): AsyncGenerator<T, void, undefined> {
  const chunkSize = Math.max(1, Math.floor(opts.chunkSize));
  const requests = Math.max(1, Math.floor(opts.requests));
  const window = new Window(requests); // this call's own
  const batch = Math.min(requests, Math.max(1, Math.floor(opts.refillBatch ?? requests / 8)));
  const start = opts.start ?? 0;
  const S = opts.length === undefined ? opts.expectSize : undefined; // the size to check, if any
  const hardEnd = opts.length !== undefined ? start + opts.length : Infinity;
  // With a size to check, read one byte past it: data there means the file grew.
  const requestEnd = S !== undefined ? Math.max(S, start) + 1 : hardEnd;
  const reqOpts: RequestOptions = { signal: opts.signal };

  let next = start; // next new range to ask
  const retries: Range[] = []; // rests of short reads to ask now, lowest offset first
  const parked = new Map<number, Range>(); // rests held back (MAX_PIECES_PER_RANGE) until delivery reaches them
  const ready = new OffsetTable<{ buf: T; length: number; slot: Slot }>(); // received, waiting for earlier bytes
  let deliver = start;
  let inflight = 0;
  let eofAt = Infinity;
  let dataEnd = start; // highest offset+length received
  let failure: unknown;
  const wakeup = new Wakeup();
  const changed = (actual: number) => new SourceChangedError(opts.path, S!, actual);

  const drop = (slot: Slot) => {
    if (--slot.live === 0) window.release();
  };
  const queueRetry = (rest: Range) => {
    let i = retries.length;
    while (i > 0 && retries[i - 1]!.offset > rest.offset) i--;
    retries.splice(i, 0, rest);
  };

  const onReply = (r: Range, buf: T) => {
    inflight--;
    keep(r, buf, size(buf));
    drop(r.slot); // the READ itself
  };
  /** Handle a reply: its bytes wait in `ready`, its rest (a short read) is queued, each counted on the range's slot. */
  const keep = (r: Range, buf: T, length: number): void => {
    if (failure !== undefined) return;
    if (length === 0) {
      eofAt = Math.min(eofAt, r.offset);
      if (S !== undefined && r.offset < S) failure = changed(r.offset);
      else if (dataEnd > eofAt)
        failure =
          S !== undefined
            ? changed(dataEnd)
            : new SftpProtocolError(`READ at ${r.offset} hit EOF but data exists up to ${dataEnd}`);
      return;
    }
    if (length > r.length) {
      failure = new SftpProtocolError(`READ of ${r.length} bytes answered with ${length}`);
      return;
    }
    const end = r.offset + length;
    dataEnd = Math.max(dataEnd, end);
    if (S !== undefined && end > S) {
      failure = changed(end);
      return;
    }
    if (end > eofAt) {
      failure = new SftpProtocolError(`READ at ${r.offset} returned data past an earlier EOF at ${eofAt}`);
      return;
    }
    const slot = r.slot;
    const old = ready.get(r.offset);
    if (old) {
      old.slot.pieces--;
      drop(old.slot);
    }
    ready.set(r.offset, { buf, length, slot });
    slot.pieces++;
    slot.live++;
    if (length < r.length && !(S !== undefined && end === S)) {
      // A short read: ask for the rest (unless it ended exactly at the expected size: only the probe byte was missing).
      const rest: Range = { offset: end, length: r.length - length, slot };
      slot.live++;
      if (slot.pieces >= MAX_PIECES_PER_RANGE && end !== deliver) parked.set(end, rest);
      else queueRetry(rest);
    }
  };

  const send = (r: Range) => {
    inflight++;
    read(r.offset, r.length, reqOpts).then(
      (buf) => {
        onReply(r, buf);
        wakeup.wake();
      },
      (err: unknown) => {
        inflight--;
        drop(r.slot);
        if (failure === undefined) failure = err;
        wakeup.wake();
      },
    );
  };

  const fill = () => {
    if (failure !== undefined) return;
    const frontier = Math.min(requestEnd, eofAt);
    // Rests first (their slots are held already); those at or past a known end can only answer EOF.
    while (retries.length > 0) {
      const r = retries.shift()!;
      if (r.offset >= frontier) drop(r.slot);
      else send(r);
    }
    // Wait for a group of free slots while replies are still to come (each reply wakes this again).
    if (inflight > 0 && window.limit - window.inUse < Math.min(batch, Math.ceil((frontier - next) / chunkSize))) return;
    while (next < frontier && window.tryAcquire()) {
      const r: Range = { offset: next, length: Math.min(chunkSize, frontier - next), slot: { live: 1, pieces: 0 } };
      next += r.length;
      send(r);
    }
  };

  const onAbort = () => {
    if (failure === undefined) failure = abortError(opts.signal);
    wakeup.wake();
  };
  if (opts.signal?.aborted) throw abortError(opts.signal);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      fill();
      while (failure === undefined) {
        const entry = ready.get(deliver);
        if (!entry) {
          const rest = parked.get(deliver);
          if (!rest) break;
          parked.delete(deliver); // the delivery reached a held-back rest: ask it now
          queueRetry(rest);
          fill();
          break;
        }
        ready.delete(deliver);
        deliver += entry.length;
        entry.slot.pieces--;
        drop(entry.slot);
        yield entry.buf;
        fill();
      }
      if (failure !== undefined) throw failure;
      const frontier = Math.min(requestEnd, eofAt);
      for (const [at, rest] of parked)
        if (at >= frontier) {
          parked.delete(at);
          drop(rest.slot);
        }
      if (inflight === 0 && retries.length === 0 && next >= frontier && ready.size === 0 && parked.size === 0) break;
      if (inflight === 0 && retries.length === 0 && next >= frontier && !ready.has(deliver) && !parked.has(deliver)) {
        // Data waiting past a hole nobody will fill: the file ended (EOF) inside what we hold.
        throw S !== undefined ? changed(deliver) : new SftpProtocolError(`READ replies left a hole at ${deliver}`);
      }
      await wakeup.wait();
    }
    const end = S !== undefined ? Math.max(S, start) : Math.min(eofAt, hardEnd);
    if (deliver !== end)
      throw S !== undefined
        ? changed(deliver)
        : new SftpProtocolError(`READ replies ended at ${deliver}, expected ${end}`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
