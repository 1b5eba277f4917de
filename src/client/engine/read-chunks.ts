import { SftpProtocolError } from '../../protocol/index.js';
import { abortError, SourceChangedError } from '../core/errors.js';
import type { RequestOptions } from '../core/session.js';
import { Wakeup } from '../core/wakeup.js';
import { Window } from '../core/window.js';

/** What the read engine needs of a client. */
export interface ChunkReader {
  read(handle: Buffer, offset: number, length: number, opts?: RequestOptions): Promise<Buffer>;
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
  /** Requests in flight at most; chunks received out of order and not yet consumed count too. */
  requests: number;
  signal?: AbortSignal;
  /** For errors. */
  path?: string;
}

interface Range {
  offset: number;
  length: number;
}

/**
 * Read a remote file with many READs in flight and yield its bytes IN ORDER (each buffer follows the
 * previous one). Short reads are asked again for the missing part (never taken as the end); the end
 * is the first STATUS EOF (or `expectSize`). Memory is bounded: at most `requests` READs in flight
 * plus chunks waiting for an earlier one, all counted against the same `requests` slots of the
 * window: a READ takes a slot when it is sent and gives it back once its bytes are consumed (or it
 * brought none). With nothing in flight and the slots all held by chunks past a hole, one READ is
 * sent anyway: the head gap must be filled.
 */
export async function* readChunks(
  client: ChunkReader,
  handle: Buffer,
  opts: ReadChunksOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const chunkSize = Math.max(1, Math.floor(opts.chunkSize));
  const window = new Window(Math.max(1, Math.floor(opts.requests))); // this call's own
  const start = opts.start ?? 0;
  const S = opts.length === undefined ? opts.expectSize : undefined; // the size to check, if any
  const hardEnd = opts.length !== undefined ? start + opts.length : Infinity;
  // With a size to check, read one byte past it: data there means the file grew.
  const requestEnd = S !== undefined ? Math.max(S, start) + 1 : hardEnd;
  const reqOpts: RequestOptions = { signal: opts.signal };

  let next = start; // next new range to ask
  const retries: Range[] = []; // parts of short reads still missing, lowest offset first
  const ready = new Map<number, Buffer>(); // received, waiting for earlier bytes
  let deliver = start;
  let inflight = 0;
  let eofAt = Infinity;
  let dataEnd = start; // highest offset+length received
  let failure: unknown;
  const wakeup = new Wakeup();
  const changed = (actual: number) => new SourceChangedError(opts.path, S!, actual);

  const onReply = (r: Range, buf: Buffer) => {
    inflight--;
    if (!keep(r, buf)) window.release();
  };
  /** Handle a reply; true when its bytes wait in `ready` (its slot is then given back once they are consumed). */
  const keep = (r: Range, buf: Buffer): boolean => {
    if (failure !== undefined) return false;
    if (buf.length === 0) {
      eofAt = Math.min(eofAt, r.offset);
      if (S !== undefined && r.offset < S) failure = changed(r.offset);
      else if (dataEnd > eofAt)
        failure =
          S !== undefined
            ? changed(dataEnd)
            : new SftpProtocolError(`READ at ${r.offset} hit EOF but data exists up to ${dataEnd}`);
      return false;
    }
    if (buf.length > r.length) {
      failure = new SftpProtocolError(`READ of ${r.length} bytes answered with ${buf.length}`);
      return false;
    }
    const end = r.offset + buf.length;
    dataEnd = Math.max(dataEnd, end);
    if (S !== undefined && end > S) {
      failure = changed(end);
      return false;
    }
    if (end > eofAt) {
      failure = new SftpProtocolError(`READ at ${r.offset} returned data past an earlier EOF at ${eofAt}`);
      return false;
    }
    const twice = ready.has(r.offset);
    ready.set(r.offset, buf);
    if (buf.length < r.length && !(S !== undefined && end === S)) {
      // A short read: ask for the rest (unless it ended exactly at the expected size: only the probe byte was missing).
      const rest = { offset: end, length: r.length - buf.length };
      let i = retries.length;
      while (i > 0 && retries[i - 1]!.offset > rest.offset) i--;
      retries.splice(i, 0, rest);
    }
    return !twice;
  };

  const fill = () => {
    while (failure === undefined) {
      const frontier = Math.min(requestEnd, eofAt);
      // Drop retries at or past a known end; they can only answer EOF.
      while (retries.length > 0 && retries[0]!.offset >= frontier) retries.shift();
      const hasRetry = retries.length > 0;
      const hasNew = next < frontier;
      if (!hasRetry && !hasNew) return;
      // The slot rule has one exception: with nothing in flight, always ask (the head gap must be filled).
      if (!window.tryAcquire()) {
        if (inflight > 0 || ready.has(deliver)) return;
        window.force();
      }
      let r: Range;
      if (hasRetry) r = retries.shift()!;
      else {
        r = { offset: next, length: Math.min(chunkSize, frontier - next) };
        next += r.length;
      }
      inflight++;
      client.read(handle, r.offset, r.length, reqOpts).then(
        (buf) => {
          onReply(r, buf);
          wakeup.wake();
        },
        (err: unknown) => {
          inflight--;
          window.release();
          if (failure === undefined) failure = err;
          wakeup.wake();
        },
      );
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
        const buf = ready.get(deliver);
        if (!buf) break;
        ready.delete(deliver);
        window.release();
        deliver += buf.length;
        yield buf;
        fill();
      }
      if (failure !== undefined) throw failure;
      const frontier = Math.min(requestEnd, eofAt);
      if (inflight === 0 && retries.every((r) => r.offset >= frontier) && next >= frontier && ready.size === 0) break;
      if (inflight === 0 && ready.size > 0 && !ready.has(deliver) && retries.length === 0 && next >= frontier) {
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
