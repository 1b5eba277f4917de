import { SftpError, StatusCode } from '../../protocol/index.js';

/**
 * The name a server answers check-file-handle under, and the limits of its hashing.
 *
 * The extensions draft names the handle form `check-file-handle`. paramiko's server advertises it
 * as plain `check-file` (its data the hash list, "md5,sha1") and takes the same request body, so a
 * server that offers only `check-file` gets check-file-handle requests under that name. paramiko's
 * hashing loop only moves through a block correctly when it reads the block in one piece of at most
 * 64 KiB; a larger block hashes the wrong bytes and, near the end of the file, never finishes (and
 * it refuses blocks under 256 bytes). So with that name the client asks only for blocks it can
 * answer, and refuses other requests itself; the verifiers then read the bytes back instead.
 */
export interface CheckFileHandleName {
  /** The request name to send. */
  name: string;
  /** Hash names the server listed in its VERSION, when it listed any. */
  advertised?: string[];
  /** The largest block (or whole range, for block size 0) the server hashes correctly. */
  maxBlock?: number;
}

const PARAMIKO_MAX_BLOCK = 64 * 1024;

export function checkFileHandleName(extensions: ReadonlyMap<string, string>): CheckFileHandleName | undefined {
  if (extensions.has('check-file-handle')) return { name: 'check-file-handle' };
  const data = extensions.get('check-file');
  if (data === undefined) return undefined;
  const advertised = data
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return {
    name: 'check-file',
    advertised: advertised.length > 0 ? advertised : undefined,
    maxBlock: PARAMIKO_MAX_BLOCK,
  };
}

/** The caller's preferences, narrowed to what the server listed (unchanged when nothing is common). */
export function checkFileAlgorithms(n: CheckFileHandleName, wanted: string[]): string[] {
  if (!n.advertised) return wanted;
  const common = wanted.filter((a) => n.advertised!.includes(a));
  return common.length > 0 ? common : wanted;
}

/** Throws when the server behind `n` cannot hash blocks of this size correctly. */
export function assertCheckFileBlock(n: CheckFileHandleName, length: number, blockSize: number, path?: string): void {
  if (n.maxBlock === undefined) return;
  const block = blockSize === 0 ? length : blockSize;
  if (block > 0 && block <= n.maxBlock) return;
  throw new SftpError({
    status: StatusCode.OP_UNSUPPORTED,
    code: 'ENOTSUP',
    message: `the server's ${n.name} hashes blocks of at most ${n.maxBlock} bytes correctly; asked for ${block === 0 ? 'the whole file' : `${block}-byte blocks`}`,
    op: 'checkFile',
    path,
  });
}
