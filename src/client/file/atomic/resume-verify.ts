import { createHash, getHashes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { SftpError, StatusCode } from '../../../protocol/index.js';
import type { TransferHost } from '../../core/remote.js';
import { compareRange, verifyUntilContiguous, type RangeReader } from './resume-plan.js';

/**
 * Reading ranges for verification, and comparing a remote range with a local one either by reading
 * the remote bytes back or, where the server offers check-file-handle, by comparing block hashes.
 */

/** A remote handle as a RangeReader (short reads are asked again; shorter only at EOF). */
export function remoteReader(client: TransferHost, handle: Buffer, signal?: AbortSignal): RangeReader {
  return async (offset, length) => {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const b = await client.read(handle, offset + got, length - got, { signal });
      if (b.length === 0) break;
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  };
}

/** A local file handle as a RangeReader. */
export function localReader(fh: FileHandle): RangeReader {
  return async (offset, length) => {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  };
}

/** A Buffer as a RangeReader. */
export function bufferReader(data: Buffer): RangeReader {
  return async (offset, length) => data.subarray(Math.min(offset, data.length), Math.min(offset + length, data.length));
}

const CHECK_ALGORITHMS = ['sha256', 'sha1', 'md5'];
const READ_STEP = 256 * 1024;

/** Hashes of [from, to) of `reader` in blocks of `blockSize` (0: one hash over the range). */
export async function hashBlocks(
  reader: RangeReader,
  algorithm: string,
  from: number,
  to: number,
  blockSize: number,
): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const block = blockSize === 0 ? Math.max(1, to - from) : blockSize;
  let pos = from;
  do {
    const h = createHash(algorithm);
    const end = Math.min(to, pos + block);
    while (pos < end) {
      const b = await reader(pos, Math.min(READ_STEP, end - pos));
      if (b.length === 0) break;
      h.update(b);
      pos += b.length;
    }
    out.push(h.digest());
    if (pos < end) break; // ended early
  } while (pos < to);
  return out;
}

export interface RemoteCompare {
  client: TransferHost;
  /** The remote file's open handle (opened with READ access). */
  handle: Buffer;
  /** Bytes of the remote file. */
  remote: RangeReader;
  /** The same range as it should be (or is) on the local side. */
  local: RangeReader;
  signal?: AbortSignal;
}

/**
 * With check-file-handle: the first block of [from, to) whose hash differs (refined to the byte by
 * reading that block back when it is small), `to` when all match, or undefined when the server could
 * not answer (then the caller reads back instead).
 */
export async function firstDifferenceByHash(
  c: RemoteCompare,
  from: number,
  to: number,
  maxRefine = 4 * 1024 * 1024,
): Promise<number | undefined> {
  if (to <= from) return to;
  if (!c.client.supports('checkFileHandle')) return undefined;
  const len = to - from;
  const blockSize = Math.max(64 * 1024, Math.ceil(len / 1000 / 4096) * 4096);
  let reply;
  try {
    reply = await c.client.checkFile(c.handle, {
      algorithms: CHECK_ALGORITHMS,
      startOffset: from,
      length: len,
      blockSize: len <= blockSize ? 0 : blockSize,
      signal: c.signal,
    });
  } catch (err) {
    if ((err as { name?: string }).name === 'AbortError') throw err;
    return undefined;
  }
  if (!getHashes().includes(reply.algorithm)) return undefined;
  const bs = len <= blockSize ? 0 : blockSize;
  const mine = await hashBlocks(c.local, reply.algorithm, from, to, bs);
  const step = bs === 0 ? len : bs;
  for (let i = 0; i < mine.length; i++) {
    const theirs = reply.hashes[i];
    if (theirs && theirs.equals(mine[i]!)) continue;
    const blockStart = from + i * step;
    const blockEnd = Math.min(to, blockStart + step);
    if (blockEnd - blockStart > maxRefine) return blockStart;
    return compareRange(c.local, c.remote, blockStart, blockEnd, READ_STEP);
  }
  if (reply.hashes.length < mine.length) return from + reply.hashes.length * step;
  return to;
}

/** The whole range equal by one hash (check-file-handle), or undefined when not available. */
export async function equalByHash(c: RemoteCompare, from: number, to: number): Promise<boolean | undefined> {
  const d = await firstDifferenceByHash(c, from, to, 0);
  return d === undefined ? undefined : d >= to;
}

export interface ContiguousCheck extends RemoteCompare {
  /** Source side and partial side (one of them is `remote`, the other `local`). */
  source: RangeReader;
  partial: RangeReader;
  from: number;
  to: number;
  chunk: number;
  sample: number;
}

/**
 * Up to where the partial equals the source: by check-file-handle over the whole [0, to) when the
 * server offers it (every byte checked, holes anywhere found), else by reading back [from, to) (and
 * further back when the first difference is at its start).
 */
export async function verifiedPrefix(c: ContiguousCheck): Promise<number> {
  const byHash = await firstDifferenceByHash(c, 0, c.to);
  if (byHash !== undefined) return byHash;
  return verifyUntilContiguous(c.source, c.partial, { from: c.from, to: c.to, chunk: c.chunk, sample: c.sample });
}

/**
 * A RangeReader over a remote file known to hold `size` bytes: a read that ends before that is not a
 * difference but a check that could not run (a server that refuses or cuts the read), so it throws
 * an SftpError instead of returning short, and nothing is shortened or removed on its account.
 */
export function sizedReader(reader: RangeReader, size: number, path: string | undefined): RangeReader {
  return async (offset, length) => {
    const b = await reader(offset, length);
    const want = Math.max(0, Math.min(length, size - offset));
    if (b.length < want) {
      throw new SftpError({
        status: StatusCode.FAILURE,
        code: 'ERR_SFTP_VERIFY_READ',
        message: `reading back ${path !== undefined ? JSON.stringify(path) : 'the file'} ended at byte ${offset + b.length} of ${size}: cannot verify it (left as it is)`,
        op: 'verify',
        path,
      });
    }
    return b;
  };
}
