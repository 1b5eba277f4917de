import type { Duplex } from 'node:stream';
import type { FileSystem } from './fs/file-system.js';
import { LocalFs } from './fs/local-fs.js';
import { HandleTable } from './handle-table.js';
import { UploadStore } from './atomic/upload-store.js';
import { SessionContext } from './context.js';
import { Session } from './session.js';
import { resolveLimits, type AtomicUploadMode, type ResolvedLimits, type SftpServerOptions } from './options.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const ATOMIC_MODES: readonly AtomicUploadMode[] = ['off', 'atomic', 'atomic-resume'];

/**
 * An SFTP version 3 server. One instance serves any number of sessions, each on its own byte
 * stream (an ssh2 subsystem channel, a child's stdio, a socket) via `serve`.
 */
export class SftpServer {
  readonly fs: FileSystem;
  readonly limits: ResolvedLimits;
  readonly atomicUploads: AtomicUploadMode;
  readonly readOnly: boolean;
  readonly partialMaxAgeMs: number;
  private readonly log: (message: string) => void;

  constructor(opts: SftpServerOptions = {}) {
    if (opts.fs && opts.root !== undefined) throw new TypeError('SftpServer: give either fs or root, not both');
    this.fs = opts.fs ?? new LocalFs(opts.root ?? process.cwd());
    this.limits = resolveLimits(opts.limits);
    this.atomicUploads = opts.atomicUploads ?? 'off';
    if (!ATOMIC_MODES.includes(this.atomicUploads)) {
      throw new TypeError(`SftpServer: atomicUploads must be one of ${ATOMIC_MODES.join(', ')}`);
    }
    this.readOnly = opts.readOnly ?? false;
    this.partialMaxAgeMs = opts.partialMaxAgeMs ?? DAY_MS;
    this.log = opts.log ?? (() => undefined);
  }

  /** Serve one SFTP session on `stream`; resolves when the session has ended and is cleaned up. */
  serve(stream: Duplex): Promise<void> {
    const ctx = new SessionContext(
      this.fs,
      this.limits,
      this.readOnly,
      new HandleTable(this.limits.maxHandles),
      new UploadStore(this.fs, this.atomicUploads, this.partialMaxAgeMs, this.readOnly),
    );
    return new Session(stream, ctx, this.log).run();
  }
}
