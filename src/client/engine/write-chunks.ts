import type { FileHandle } from 'node:fs/promises';
import { abortError, SourceChangedError } from '../core/errors.js';
import type { RequestOptions } from '../core/session.js';
import { Window } from '../core/window.js';
import { FILE_SOURCE_BLOCK, FILE_SOURCE_SPARE_BYTES } from '../defaults.js';

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

interface Block {
  /** The bytes read (a view of `mem`, shorter at the end of the file). */
  data: Buffer;
  /** The block's own memory (reused once every chunk handed out of it is released). */
  mem: Buffer;
  /** Chunks handed out and not released yet. */
  out: number;
}

/**
 * A local file as a ChunkSource. It reads blocks of several chunks (FILE_SOURCE_BLOCK) through the
 * thread pool and hands out chunks as views of them, reading the next block while the current one is
 * being sent: one thread-pool trip per block instead of one per chunk. A block's memory is reused
 * once every chunk of it was released (fresh memory costs page faults). Memory: the chunks in flight
 * plus two blocks, and spare blocks up to FILE_SOURCE_SPARE_BYTES.
 */
export class FileSource implements ChunkSource {
  private readonly blockSize: number;
  /** The block being handed out, and the file offset of its first byte. */
  private block: Block | undefined;
  private blockPos = 0;
  /** The next block, being read ahead. */
  private ahead: { pos: number; block: Promise<Block> } | undefined;
  /** Blocks with chunks out, by their memory. */
  private readonly lent = new Map<ArrayBufferLike, Block>();
  private readonly spare: Buffer[] = [];
  private readonly spareMax: number;

  constructor(
    private readonly fh: FileHandle,
    chunkSize: number,
    blockSize = FILE_SOURCE_BLOCK,
  ) {
    const chunk = Math.max(1, Math.floor(chunkSize));
    this.blockSize = Math.max(1, Math.floor(blockSize / chunk)) * chunk;
    this.spareMax = Math.max(2, Math.floor(FILE_SOURCE_SPARE_BYTES / this.blockSize));
  }

  async read(position: number, length: number): Promise<Buffer> {
    let b = this.block;
    if (!b || position < this.blockPos || position + length > this.blockPos + b.data.length) {
      // Not in the current block. A short block was the file's end when it was read: past it the
      // file is read again (it may have grown since), never answered from the old block.
      const ahead = this.ahead;
      this.ahead = undefined;
      const size = Math.max(length, this.blockSize);
      if (ahead && ahead.pos === position) b = await ahead.block;
      else {
        ahead?.block.then(
          (x) => this.recycle(x),
          () => {},
        );
        b = await this.readBlock(position, size);
      }
      const old = this.block;
      this.block = b;
      this.blockPos = position;
      if (old) this.recycle(old);
      if (b.data.length === size) this.readAhead(position + size);
    }
    const from = position - this.blockPos;
    b.out++;
    this.lent.set(b.mem.buffer, b);
    return b.data.subarray(from, Math.min(from + length, b.data.length));
  }

  release(buf: Buffer): void {
    const b = this.lent.get(buf.buffer);
    if (!b) return;
    b.out--;
    this.recycle(b);
  }

  /** Keep a block's memory for reuse once it is neither current nor has chunks out. */
  private recycle(b: Block): void {
    if (b.out > 0 || b === this.block) return;
    this.lent.delete(b.mem.buffer);
    if (b.mem.length === this.blockSize && this.spare.length < this.spareMax && !this.spare.includes(b.mem))
      this.spare.push(b.mem);
  }

  private readAhead(pos: number): void {
    const block = this.readBlock(pos, this.blockSize);
    block.catch(() => {}); // its error is seen by the read() that takes it
    this.ahead = { pos, block };
  }

  private async readBlock(position: number, length: number): Promise<Block> {
    const mem = length === this.blockSize && this.spare.length > 0 ? this.spare.pop()! : Buffer.allocUnsafeSlow(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(mem, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return { data: got === length ? mem : mem.subarray(0, got), mem, out: 0 };
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
  const window = new Window(Math.max(1, Math.floor(opts.requests))); // this call's own
  const start = opts.start ?? 0;
  const S = opts.expectSize;
  const reqOpts: RequestOptions = { signal: opts.signal };
  let pos = start;
  let acked = 0;
  let failure: unknown;

  if (opts.signal?.aborted) throw abortError(opts.signal);
  try {
    for (;;) {
      // A slot is taken before the chunk is read: memory stays within the window.
      const want = S !== undefined ? Math.min(chunkSize, S - pos) : chunkSize;
      const w = window.acquire();
      if (w) await w;
      let sent = false;
      try {
        if (failure !== undefined) break;
        if (opts.signal?.aborted) {
          failure = abortError(opts.signal);
          break;
        }
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
        sent = true;
        client.write(handle, offset, buf, reqOpts).then(
          () => {
            window.release();
            acked += buf.length;
            source.release?.(buf);
            if (failure === undefined) opts.onProgress?.(acked);
          },
          (err: unknown) => {
            window.release();
            if (failure === undefined) failure = err;
          },
        );
        if (buf.length < want) break; // the source's end (no expected size to check)
      } finally {
        if (!sent) window.release();
      }
    }
  } catch (err) {
    if (failure === undefined) failure = err;
  }
  await window.idle();
  if (failure !== undefined) throw failure;
  return acked;
}
