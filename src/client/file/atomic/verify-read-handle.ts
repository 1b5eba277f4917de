/**
 * The handle an upload's read-back reads the file being written through.
 *
 * A read-only handle of its own, opened by the file's name, is tried first (some servers cannot read
 * a write handle). But the name does not always show the file being written: ProFTPD with
 * `HiddenStores on` writes under a hidden name and renames it into place only at CLOSE, so the name
 * is missing (ENOENT) or still holds an older file (a resume partial it has started afresh). Then the
 * read-back goes through the write handle itself (opened with READ), which sees the bytes written.
 */
import { SftpError } from '../../../protocol/index.js';
import type { TransferHost } from '../../core/remote.js';
import { closeHandle } from '../../core/close-handle.js';
import { remoteReader, sizedReader } from './resume-verify.js';
import type { RangeReader } from './resume-plan.js';

export async function withVerifyReadHandle<T>(
  client: TransferHost,
  path: string,
  writeHandle: Buffer,
  size: number,
  signal: AbortSignal | undefined,
  check: (handle: Buffer, reader: RangeReader) => Promise<T>,
): Promise<T> {
  const through = (h: Buffer): Promise<T> => check(h, sizedReader(remoteReader(client, h, signal), size, path));
  let handle: Buffer;
  try {
    handle = await client.open(path, 'r', {}, { signal });
  } catch (err) {
    if (err instanceof SftpError && err.code === 'ENOENT') return through(writeHandle);
    throw err;
  }
  try {
    const seen = (await client.fstat(handle, { signal })).size;
    return await through(seen === undefined || seen === size ? handle : writeHandle);
  } finally {
    await closeHandle(client, handle, signal).catch(() => {});
  }
}
