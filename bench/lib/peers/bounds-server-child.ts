/**
 * An SFTP-over-SSH server in its own process, for tests and benches of what a hostile peer can make
 * the server hold. Started with fork(); talks over IPC:
 *   <- { hello: true }
 *   -> BoundsChildConfig
 *   <- { ready: true, port }
 *   -> { cmd: 'stats' }    <- BoundsChildStats
 *   -> { cmd: 'close' }    <- { closed: true } and the process exits
 * User "u", password "p". Log lines go to stderr when SFTP_WIRE_CHILD_LOG is set. Run with
 * --expose-gc, every stats reading follows a full garbage collection.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import {
  LocalFs,
  SftpServer,
  startSftpSshServer,
  type AtomicUploadMode,
  type ServerLimits,
} from '../../../src/index.js';
import { CountingFs } from './counting-fs.js';

export interface BoundsChildConfig {
  root: string;
  limits?: ServerLimits;
  atomicUploads?: AtomicUploadMode;
  maxConnections?: number;
  maxSessions?: number;
  maxStartups?: number;
  loginGraceMs?: number;
  idleTimeoutMs?: number;
}

export interface BoundsChildStats {
  rss: number;
  /** Peak RSS from /proc/self/status (VmHWM), in bytes. */
  hwm: number;
  heapUsed: number;
  arrayBuffers: number;
  /** The SSH server's stats (undefined where the server has none). */
  ssh?: { connections: number; unauthenticated: number; sessions: number; queuedBytes: number; socketBytes: number };
  /** The SFTP server's stats (undefined where the server has none). */
  sftp?: { sessions: number; openHandles: number; queuedBytes: number };
  /** Files and directories open on the storage. */
  storageHandles: number;
  /** Log lines so far. */
  logs: string[];
}

const send = (m: unknown): void => void process.send?.(m);

function vmHwm(): number {
  try {
    const text = readFileSync('/proc/self/status', 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

process.once('message', async (cfg: BoundsChildConfig) => {
  const logs: string[] = [];
  const log = (m: string): void => {
    if (logs.length < 1000) logs.push(m);
    if (process.env.SFTP_WIRE_CHILD_LOG) process.stderr.write(`child: ${m}\n`);
  };
  const fs = new CountingFs(new LocalFs(cfg.root));
  const server = new SftpServer({ fs, limits: cfg.limits, atomicUploads: cfg.atomicUploads, log });
  const host = ssh2.utils.generateKeyPairSync('ed25519');
  const running = await startSftpSshServer({
    server,
    hostKeys: [host.private],
    users: [{ username: 'u', password: 'p' }],
    maxConnections: cfg.maxConnections,
    maxSessions: cfg.maxSessions,
    maxStartups: cfg.maxStartups,
    loginGraceMs: cfg.loginGraceMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
    log,
  } as Parameters<typeof startSftpSshServer>[0]);
  process.on('message', async (m: { cmd?: string }) => {
    if (m.cmd === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      const r = running as { stats?: () => BoundsChildStats['ssh'] };
      const s = server as { stats?: () => BoundsChildStats['sftp'] };
      const stats: BoundsChildStats = {
        rss: mem.rss,
        hwm: vmHwm(),
        heapUsed: mem.heapUsed,
        arrayBuffers: mem.arrayBuffers,
        ssh: r.stats?.(),
        sftp: s.stats?.(),
        storageHandles: fs.openHandles,
        logs: [...logs],
      };
      send(stats);
    } else if (m.cmd === 'close') {
      await running.close();
      send({ closed: true });
      process.disconnect();
      setTimeout(() => process.exit(0), 200).unref();
    }
  });
  send({ ready: true, port: running.port });
});
send({ hello: true });
