import { createHash } from 'node:crypto';
import { StatusCode } from '../protocol/constants.js';
import { CHECK_FILE_DIGEST_SIZE, type CheckFileReply } from '../protocol/extensions.js';
import type { FsFile } from './fs/file-system.js';
import { StatusError } from './status-error.js';

/** The hashes check-file answers with, in no particular preference (the client's list decides). */
export const CHECK_FILE_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
const SUPPORTED = new Set<string>(CHECK_FILE_ALGORITHMS);
const CHUNK = 64 * 1024;
/** The draft's smallest block size other than 0. */
export const MIN_BLOCK_SIZE = 256;

export interface CheckFileRange {
  algorithms: string[];
  startOffset: number;
  /** 0: to the end of the file. */
  length: number;
  /** 0: one hash over the range. */
  blockSize: number;
}

/**
 * check-file-name / check-file-handle: hash [start, start+length) of an open file, in blocks of
 * blockSize (or one hash), with the first algorithm of the client's list that is supported.
 * `maxReplyBytes` bounds the number of digests (each block's digest must fit in one reply).
 */
export async function checkFile(file: FsFile, q: CheckFileRange, maxReplyBytes: number): Promise<CheckFileReply> {
  const algorithm = q.algorithms.find((a) => SUPPORTED.has(a));
  if (!algorithm)
    throw new StatusError(
      StatusCode.OP_UNSUPPORTED,
      `ENOSYS: none of the hash algorithms ${q.algorithms.join(',')} is supported`,
    );
  if (q.blockSize !== 0 && q.blockSize < MIN_BLOCK_SIZE) {
    throw new StatusError(StatusCode.BAD_MESSAGE, `EINVAL: block size ${q.blockSize} is below ${MIN_BLOCK_SIZE}`);
  }
  const size = (await file.stat()).size;
  if (q.startOffset > size)
    throw new StatusError(StatusCode.FAILURE, 'EINVAL: start offset is past the end of the file');
  const end = q.length === 0 ? size : Math.min(size, q.startOffset + q.length);
  const digestSize = CHECK_FILE_DIGEST_SIZE[algorithm]!;
  const blocks = q.blockSize === 0 ? 1 : Math.ceil((end - q.startOffset) / q.blockSize);
  if (blocks * digestSize > maxReplyBytes) {
    throw new StatusError(
      StatusCode.FAILURE,
      `EFBIG: ${blocks} block hashes do not fit in one reply; use a larger block size`,
    );
  }
  const hashes: Buffer[] = [];
  const blockSize = q.blockSize === 0 ? Math.max(1, end - q.startOffset) : q.blockSize;
  let pos = q.startOffset;
  while (pos < end || (hashes.length === 0 && q.blockSize === 0)) {
    const h = createHash(algorithm);
    const blockEnd = Math.min(end, pos + blockSize);
    while (pos < blockEnd) {
      const data = await file.read(pos, Math.min(CHUNK, blockEnd - pos));
      if (data.length === 0) break; // the file shrank meanwhile
      h.update(data);
      pos += data.length;
    }
    hashes.push(h.digest());
    if (pos < blockEnd) break;
  }
  return { algorithm, hashes };
}
