import { statSync } from 'node:fs';
import type { FileSystem } from './fs/file-system.js';
import { LocalFs } from './fs/local-fs.js';
import { normalizeVirtual } from './fs/vpath.js';
import {
  resolveLimits,
  type AtomicUploadMode,
  type ResolvedLimits,
  type ServerLimits,
  type SymlinkOrder,
} from './options.js';

/**
 * One session's own settings (e.g. one user's tree), given to `SftpServer.serve` in `settings`.
 * What is left out is taken from the server. `limits` here are per session: `maxServerHandles` is
 * the server's own budget across all its sessions and cannot be set per session.
 */
export interface SessionSettings {
  /** The storage this session serves; give `fs` or `root`, not both. */
  fs?: FileSystem;
  /** A directory served as "/" by a LocalFs (it must exist). */
  root?: string;
  /** Where relative paths start, inside the served tree (default "/", or the server's when neither fs nor root is given). */
  startDir?: string;
  readOnly?: boolean;
  atomicUploads?: AtomicUploadMode;
  limits?: Omit<ServerLimits, 'maxServerHandles'>;
  partialMaxAgeMs?: number;
  symlinkOrder?: SymlinkOrder;
}

/** Everything a session runs with (an SftpServer is one, for sessions without settings of their own). */
export interface SessionConfig {
  readonly fs: FileSystem;
  readonly limits: ResolvedLimits;
  readonly readOnly: boolean;
  readonly atomicUploads: AtomicUploadMode;
  readonly partialMaxAgeMs: number;
  readonly startDir: string;
  readonly symlinkOrder: SymlinkOrder;
}

const ATOMIC_MODES: readonly AtomicUploadMode[] = ['off', 'atomic', 'atomic-resume'];
const SYMLINK_ORDERS: readonly SymlinkOrder[] = ['auto', 'openssh', 'draft'];

/** A session's limits: those it sets (under either name), the others the server's. */
function sessionLimits(base: ResolvedLimits, own: ServerLimits): ResolvedLimits {
  const pick = (a: number | undefined, b: number | undefined, name: string, old: string): number | undefined => {
    if (a !== undefined && b !== undefined && a !== b)
      throw new RangeError(`limits.${name} and limits.${old} (its older name) disagree: ${a} and ${b}`);
    return a ?? b;
  };
  const merged = resolveLimits({
    maxPacketLength: pick(own.maxPacketLength, own.maxPacket, 'maxPacketLength', 'maxPacket') ?? base.maxPacket,
    maxReadLength: pick(own.maxReadLength, own.maxRead, 'maxReadLength', 'maxRead') ?? base.maxRead,
    maxWriteLength: pick(own.maxWriteLength, own.maxWrite, 'maxWriteLength', 'maxWrite') ?? base.maxWrite,
    maxOpenHandles: pick(own.maxOpenHandles, own.maxHandles, 'maxOpenHandles', 'maxHandles') ?? base.maxHandles,
    maxInFlight: own.maxInFlight ?? base.maxInFlight,
    maxOutputBuffer: own.maxOutputBuffer ?? base.maxOutputBuffer,
  });
  return { ...merged, maxServerHandles: base.maxServerHandles };
}

/**
 * The configuration of a session with `settings`, the rest taken from `base`. Throws a TypeError or
 * RangeError naming the setting that is wrong (a root that is not a directory, an unknown mode).
 */
export function sessionConfig(
  base: SessionConfig & { limits: ResolvedLimits; syncBudgetMs?: number },
  settings: SessionSettings,
): SessionConfig {
  if (settings.fs && settings.root !== undefined)
    throw new TypeError('session settings: give either fs or root, not both');
  let fs = settings.fs ?? base.fs;
  if (settings.root !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(settings.root).isDirectory();
    } catch (err) {
      throw new TypeError(
        `session settings: root ${settings.root}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`,
      );
    }
    if (!isDir) throw new TypeError(`session settings: root ${settings.root} is not a directory`);
    fs = new LocalFs(settings.root, { syncBudgetMs: base.syncBudgetMs });
  }
  const ownTree = settings.fs !== undefined || settings.root !== undefined;
  const atomicUploads = settings.atomicUploads ?? base.atomicUploads;
  if (!ATOMIC_MODES.includes(atomicUploads))
    throw new TypeError(`session settings: atomicUploads must be one of ${ATOMIC_MODES.join(', ')}`);
  const symlinkOrder = settings.symlinkOrder ?? base.symlinkOrder;
  if (!SYMLINK_ORDERS.includes(symlinkOrder))
    throw new TypeError(`session settings: symlinkOrder must be one of ${SYMLINK_ORDERS.join(', ')}`);
  if ((settings.limits as ServerLimits | undefined)?.maxServerHandles !== undefined) {
    throw new TypeError('session settings: maxServerHandles is a limit of the whole server, not of one session');
  }
  return {
    fs,
    limits: settings.limits ? sessionLimits(base.limits, settings.limits) : base.limits,
    readOnly: settings.readOnly ?? base.readOnly,
    atomicUploads,
    partialMaxAgeMs: settings.partialMaxAgeMs ?? base.partialMaxAgeMs,
    startDir: normalizeVirtual(settings.startDir ?? (ownTree ? '/' : base.startDir)),
    symlinkOrder,
  };
}
