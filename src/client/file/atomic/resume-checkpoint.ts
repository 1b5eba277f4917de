import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SourceIdentity } from './partial-names.js';

/**
 * Local checkpoints of resumable transfers: the highest contiguous offset known to be in the partial
 * (acknowledged WRITEs for uploads, bytes written in order for downloads). A checkpoint bounds how much
 * must be read back when resuming; it is never the only evidence (the bytes before it are sampled).
 *
 * - downloads: a sidecar next to the local partial: `<partial>.ckpt`
 * - uploads: `<stateDir>/<hash of destination and partial>.json`, stateDir defaulting to
 *   `os.tmpdir()/sftp-wire-resume` (the source's folder may be read-only; the remote side may not be
 *   ours to litter).
 */

export const CHECKPOINT_SUFFIX = '.ckpt';

export function defaultStateDir(): string {
  return join(tmpdir(), 'sftp-wire-resume');
}

export interface CheckpointKey {
  /** Where the partial is (remote path for uploads, local path for downloads). */
  partial: string;
  /** The final destination. */
  destination: string;
  source: SourceIdentity;
}

interface CheckpointRecord extends CheckpointKey {
  v: 1;
  offset: number;
}

export function uploadCheckpointPath(stateDir: string, key: Pick<CheckpointKey, 'destination' | 'partial'>): string {
  const h = createHash('sha256').update(`${key.destination}\0${key.partial}`).digest('hex').slice(0, 24);
  return join(stateDir, `${h}.json`);
}

export function downloadCheckpointPath(localPartial: string): string {
  return localPartial + CHECKPOINT_SUFFIX;
}

/** The checkpoint's offset when the file exists, parses and matches `key` exactly; otherwise undefined. */
export async function readCheckpoint(file: string, key: CheckpointKey): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as Partial<CheckpointRecord>;
    if (
      r.v !== 1 ||
      r.partial !== key.partial ||
      r.destination !== key.destination ||
      r.source?.path !== key.source.path ||
      r.source?.size !== key.source.size ||
      r.source?.mtime !== key.source.mtime ||
      typeof r.offset !== 'number' ||
      !Number.isSafeInteger(r.offset) ||
      r.offset < 0 ||
      r.offset > key.source.size
    ) {
      return undefined;
    }
    return r.offset;
  } catch {
    return undefined; // torn or foreign: ignore
  }
}

/**
 * Keeps a checkpoint file up to date without slowing the transfer: at most one write at a time,
 * coalesced, and only when the offset moved by at least `step` bytes. Write errors are ignored (a
 * missing checkpoint only means more is read back next time).
 */
export class Checkpointer {
  private latest: number;
  private written = -1;
  private writing: Promise<void> | undefined;
  private dirReady = false;
  private stopped = false;

  constructor(
    readonly file: string,
    private readonly key: CheckpointKey,
    start: number,
    private readonly step: number,
  ) {
    this.latest = start;
  }

  get offset(): number {
    return this.latest;
  }

  /** The contiguous offset moved to `offset`. */
  update(offset: number): void {
    if (offset <= this.latest) return;
    this.latest = offset;
    if (!this.writing && !this.stopped && this.latest - this.written >= this.step) this.writing = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && this.latest !== this.written) {
        const v = this.latest;
        await this.write(v);
        this.written = v;
        if (this.latest - this.written < this.step) break;
      }
    } catch {
      // ignored: see the class comment
    } finally {
      this.writing = undefined;
    }
  }

  private async write(offset: number): Promise<void> {
    if (!this.dirReady) {
      await mkdir(dirname(this.file), { recursive: true });
      this.dirReady = true;
    }
    const rec: CheckpointRecord = { v: 1, ...this.key, offset };
    // O_NOFOLLOW: a symlink planted under the checkpoint's name is never written through.
    const fh = await open(this.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(JSON.stringify(rec));
    } finally {
      await fh.close();
    }
  }

  /** Write the latest offset now (after a failure, before giving up). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.stopped || this.latest === this.written) return;
    try {
      await this.write(this.latest);
      this.written = this.latest;
    } catch {
      // ignored
    }
  }

  /** The transfer completed: delete the checkpoint. */
  async remove(): Promise<void> {
    this.stopped = true;
    while (this.writing) await this.writing;
    await rm(this.file, { force: true }).catch(() => {});
  }
}
