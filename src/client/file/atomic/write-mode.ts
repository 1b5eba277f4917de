import type { ResolvedTransfer, TransferOptions } from '../transfer-options.js';
import { DEFAULT_TAIL_WINDOW, VERIFY_SAMPLE } from '../../defaults.js';

/** Where an atomic/resume/verify transfer writes: a resume partial, a temporary file, or the destination itself. */
export type WriteMode = 'resume' | 'atomic' | 'direct';

export function writeModeOf(opts: TransferOptions): WriteMode {
  return opts.resume ? 'resume' : opts.atomic ? 'atomic' : 'direct';
}

/**
 * The sizes verification works with, alike for uploads and downloads: the tail window read back
 * (`tailWindow`, default max(1 MiB, chunk x requests)), the sample compared first, and the bytes
 * between two saves of a resume checkpoint.
 */
export function verifySizes(
  opts: TransferOptions,
  t: ResolvedTransfer,
): { window: number; sample: number; checkpointEvery: number } {
  const window = Math.max(1, opts.tailWindow ?? Math.max(DEFAULT_TAIL_WINDOW, t.chunkSize * t.requests));
  return {
    window,
    sample: Math.min(VERIFY_SAMPLE, window),
    checkpointEvery: Math.max(t.chunkSize, Math.floor((t.chunkSize * t.requests) / 4)),
  };
}
