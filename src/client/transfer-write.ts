import type { FileHandle } from 'node:fs/promises';
import { abortError, SourceChangedError } from './errors.js';
import type { RequestOptions } from './session.js';

/** What the write engine needs of a client. */
export interface ChunkWriter {
  write(handle: Buffer, offset: number, data: Buffer, opts?: RequestOptions): Promise<void>;
}

/**
 * Where upload bytes come from: positional reads that return fewer bytes than asked only at the end.
 * `release` takes back a buffer once its WRITE was acknowledged (for reuse).
 */
export interface ChunkSource {
  read(position: number, length: number): Promise<Buffer>;
  release?(buf: Buffer): void;
}

/** A local file as a ChunkSource, reusing a small pool of chunk buffers. */
export class FileSource implements ChunkSource {
  private readonly pool: Buffer[] = [];
  constructor(
    private readonly fh: FileHandle,
    private readonly chunkSize: number,
    private readonly poolMax = 64,
  ) {}
  async read(position: number, length: number): Promise<Buffer> {
    const buf = length === this.chunkSize && this.pool.length > 0 ? this.pool.pop()! : Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
  release(buf: Buffer): void {
    if (buf.length === this.chunkSize && this.pool.length < this.poolMax) this.pool.push(buf);
  }
}

/** A Buffer as a ChunkSource (views, no copies). */
export class BufferSource implements ChunkSource {
  constructor(private readonly data: Buffer) {}
  async read(position: number, length: number): Promise<Buffer> {
    return this.data.subarray(Math.min(position, this.data.length), Math.min(position + length, this.data.length));
  }
}

export interface WriteChunksOptions {
  /** Offset of the first byte, in the source and in the remote file alike (default 0). */
  start?: number;
  /**
   * The source size seen before the transfer. When given, a source that ends before it or has bytes
   * past it is a SourceChangedError. Without it, the source is read to its end.
   */
  expectSize?: number;
  chunkSize: number;
  /** WRITEs in flight at most. */
  requests: number;
  signal?: AbortSignal;
  /** Called with the total bytes acknowledged so far, after each WRITE is acknowledged. */
  onProgress?(bytes: number): void;
  /** For errors. */
  path?: string;
}

/**
 * Upload from a source with many WRITEs in flight, issued in ascending offset order (the session sends
 * requests in the order they are made). Memory: at most `requests` chunks. Resolves with the number of
 * bytes written once every WRITE is acknowledged; the first failure stops new WRITEs and rejects after
 * those in flight settle.
 */
export async function writeChunks(
  client: ChunkWriter,
  handle: Buffer,
  source: ChunkSource,
  opts: WriteChunksOptions,
): Promise<number> {
  const chunkSize = Math.max(1, Math.floor(opts.chunkSize));
  const maxInflight = Math.max(1, Math.floor(opts.requests));
  const start = opts.start ?? 0;
  const S = opts.expectSize;
  const reqOpts: RequestOptions = { signal: opts.signal };
  let pos = start;
  let acked = 0;
  let inflight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const signalWake = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitSlot = async () => {
    while (inflight >= maxInflight && failure === undefined) await new Promise<void>((r) => (wake = r));
  };

  if (opts.signal?.aborted) throw abortError(opts.signal);
  try {
    for (;;) {
      await waitSlot();
      if (failure !== undefined) break;
      if (opts.signal?.aborted) {
        failure = abortError(opts.signal);
        break;
      }
      const want = S !== undefined ? Math.min(chunkSize, S - pos) : chunkSize;
      if (want <= 0) {
        // At the expected end: one byte more would mean the source grew.
        const probe = await source.read(pos, 1);
        if (probe.length > 0) failure = new SourceChangedError(opts.path, S!, pos + probe.length);
        break;
      }
      const buf = await source.read(pos, want);
      if (buf.length < want && S !== undefined) {
        failure = new SourceChangedError(opts.path, S, pos + buf.length);
        break;
      }
      if (buf.length === 0) break;
      const offset = pos;
      pos += buf.length;
      inflight++;
      client.write(handle, offset, buf, reqOpts).then(
        () => {
          inflight--;
          acked += buf.length;
          source.release?.(buf);
          if (failure === undefined) opts.onProgress?.(acked);
          signalWake();
        },
        (err: unknown) => {
          inflight--;
          if (failure === undefined) failure = err;
          signalWake();
        },
      );
      if (buf.length < want) break; // the source's end (no expected size to check)
    }
  } catch (err) {
    if (failure === undefined) failure = err;
  }
  while (inflight > 0) await new Promise<void>((r) => (wake = r));
  if (failure !== undefined) throw failure;
  return acked;
}
