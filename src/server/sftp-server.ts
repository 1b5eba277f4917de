import type { Duplex } from 'node:stream';
import type { FileSystem } from './fs/file-system.js';
import { LocalFs } from './fs/local-fs.js';
import { HandleBudget, HandleTable } from './handle-table.js';
import type { Session, SessionOptions } from './session.js';
import { preloadSessionParts, withSessionParts } from './deferred-session.js';
import {
  resolveLimits,
  type AtomicUploadMode,
  type ResolvedLimits,
  type SftpServerOptions,
  type SymlinkOrder,
} from './options.js';
import { normalizeVirtual } from './fs/vpath.js';
import { symlinkOrderForClient } from './symlink-order.js';
import { sessionConfig, type SessionConfig, type SessionSettings } from './session-settings.js';
import { reportClosed, type TransferListener } from './transfer-report.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const ATOMIC_MODES: readonly AtomicUploadMode[] = ['off', 'atomic', 'atomic-resume'];
const SYMLINK_ORDERS: readonly SymlinkOrder[] = ['auto', 'openssh', 'draft'];

export interface ServeOptions extends SessionOptions {
  /**
   * The client's SSH identification ("SSH-2.0-AsyncSSH_2.14.2"), when the transport knows it: with
   * symlinkOrder 'auto' it decides the order SYMLINK's paths are read in (see symlinkOrderForClient).
   */
  clientIdent?: string;
  /** This server's own SSH identification as the client saw it (default "SSH-2.0-sftp-wire"). */
  serverIdent?: string;
  /**
   * This session's own tree and options (one user's root, read-only flag...); what it leaves out is
   * the server's. Invalid settings make `serve` reject before anything is read from the stream.
   */
  settings?: SessionSettings;
  /** Told of each completed upload and download of this session (see TransferReport). */
  onTransfer?: TransferListener;
}

export interface SftpServerStats {
  /** Sessions being served. */
  sessions: number;
  /** File and directory handles open in all sessions (bounded by limits.maxServerHandles). */
  openHandles: number;
  /** Bytes counted against maxOutputBuffer in all sessions: queued replies (with per-write overhead) and READs running. */
  queuedBytes: number;
}

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
  /** Where relative paths start (a path inside the served tree). */
  readonly startDir: string;
  readonly symlinkOrder: SymlinkOrder;
  /** Given to every LocalFs this server makes from a root (undefined: LocalFs's default). */
  readonly syncBudgetMs: number | undefined;
  private readonly log: (message: string) => void;
  private readonly handleBudget: HandleBudget;
  private readonly live = new Set<Session>();

  constructor(opts: SftpServerOptions = {}) {
    if (opts.fs && opts.root !== undefined) throw new TypeError('SftpServer: give either fs or root, not both');
    if (opts.fs && opts.syncBudgetMs !== undefined)
      throw new TypeError('SftpServer: syncBudgetMs is for the LocalFs made from root; give your fs its own');
    this.syncBudgetMs = opts.syncBudgetMs;
    const local = opts.fs ? undefined : new LocalFs(opts.root ?? process.cwd(), { syncBudgetMs: opts.syncBudgetMs });
    this.fs = opts.fs ?? local!;
    // Serving the whole file system, like OpenSSH's sftp-server, starts where the process runs.
    this.startDir = normalizeVirtual(opts.startDir ?? (local?.root === '/' ? process.cwd() : '/'));
    this.symlinkOrder = opts.symlinkOrder ?? 'auto';
    if (!SYMLINK_ORDERS.includes(this.symlinkOrder)) {
      throw new TypeError(`SftpServer: symlinkOrder must be one of ${SYMLINK_ORDERS.join(', ')}`);
    }
    this.limits = resolveLimits(opts.limits);
    this.handleBudget = new HandleBudget(this.limits.maxServerHandles);
    this.atomicUploads = opts.atomicUploads ?? 'off';
    if (!ATOMIC_MODES.includes(this.atomicUploads)) {
      throw new TypeError(`SftpServer: atomicUploads must be one of ${ATOMIC_MODES.join(', ')}`);
    }
    this.readOnly = opts.readOnly ?? false;
    this.partialMaxAgeMs = opts.partialMaxAgeMs ?? DAY_MS;
    this.log = opts.log ?? (() => undefined);
    preloadSessionParts();
  }

  /**
   * Serve one SFTP session on `stream`; resolves when the session has ended and is cleaned up.
   * `opts.connection` is the output meter of the transport the stream runs on, shared by its
   * sessions; `opts.signal`, aborted when that transport is gone, ends the session at once.
   */
  serve(stream: Duplex, opts: ServeOptions = {}): Promise<void> {
    let cfg: SessionConfig;
    try {
      cfg = opts.settings ? sessionConfig(this, opts.settings) : this;
    } catch (err) {
      return Promise.reject(err);
    }
    return withSessionParts(stream, ({ Session, SessionContext, UploadStore }) => {
      const ctx = new SessionContext(
        cfg.fs,
        cfg.limits,
        cfg.readOnly,
        new HandleTable(cfg.limits.maxHandles, this.handleBudget),
        new UploadStore(cfg.fs, cfg.atomicUploads, cfg.partialMaxAgeMs, cfg.readOnly),
        cfg.startDir,
        this.symlinkTargetFirst(opts, cfg.symlinkOrder),
      );
      const onTransfer = opts.onTransfer;
      if (onTransfer) ctx.onFileClosed = (entry) => reportClosed(entry, onTransfer, this.log);
      const session = new Session(stream, ctx, this.log, opts);
      this.live.add(session);
      return session.run().finally(() => this.live.delete(session));
    });
  }

  /** True when a session reads SYMLINK as OpenSSH's sftp sends it (target first). */
  private symlinkTargetFirst(opts: ServeOptions, order: SymlinkOrder = this.symlinkOrder): boolean {
    if (order !== 'auto') return order === 'openssh';
    return symlinkOrderForClient(opts.clientIdent, opts.serverIdent) === 'openssh';
  }

  /** What the server holds now, for monitoring and tests. */
  stats(): SftpServerStats {
    let queuedBytes = 0;
    for (const s of this.live) queuedBytes += s.queued;
    return { sessions: this.live.size, openHandles: this.handleBudget.used, queuedBytes };
  }
}
