import { compareRange } from './resume-plan.js';
import { equalByHash, type RemoteCompare } from './resume-verify.js';
import type { VerifyMode } from '../transfer-options.js';
import { VerifyError } from './verify-error.js';

// VerifyError has a module of its own: the public entry exports it without loading this one.
export { VerifyError };

export function sizeMismatch(path: string | undefined, expected: number, actual: number | undefined): VerifyError {
  return new VerifyError(
    `the copy of ${path !== undefined ? JSON.stringify(path) : 'the file'} has ${actual ?? 'an unknown number of'} bytes, the source ${expected}: not committed`,
    path,
    'size',
  );
}

export interface VerifyCopy extends RemoteCompare {
  mode: VerifyMode;
  size: number;
  /** Bytes compared at the end for 'tail'. */
  window: number;
  chunk: number;
  path?: string;
}

/**
 * Check a finished copy before it is committed (sizes were compared already): 'tail' reads the last
 * `window` bytes back, 'hash' compares the whole file (check-file-handle where the server offers it,
 * else by reading it back). Throws a VerifyError on a difference.
 */
export async function verifyCopy(v: VerifyCopy): Promise<void> {
  if (v.mode === 'size') return;
  if (v.mode === 'hash') {
    const eq = await equalByHash(v, 0, v.size);
    if (eq === true) return;
    if (eq === false)
      throw new VerifyError(
        `hash of ${JSON.stringify(v.path)} differs from the source's: not committed`,
        v.path,
        'hash',
      );
    const d = await compareRange(v.local, v.remote, 0, v.size, v.chunk);
    if (d < v.size)
      throw new VerifyError(
        `${JSON.stringify(v.path)} differs from the source at byte ${d}: not committed`,
        v.path,
        'hash',
        d,
      );
    return;
  }
  const from = Math.max(0, v.size - v.window);
  const d = await compareRange(v.local, v.remote, from, v.size, v.chunk);
  if (d < v.size)
    throw new VerifyError(
      `${JSON.stringify(v.path)} differs from the source at byte ${d}: not committed`,
      v.path,
      'tail',
      d,
    );
}
