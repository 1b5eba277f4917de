/**
 * Every contender of the bench: who talks to which server, with which program, on which workloads.
 * The raw-channel rows are the limits the others are read against.
 */
import { existsSync } from 'node:fs';
import type { NodeJobKind, Workload } from './jobs.js';
import { SCP_BIN, SFTP_BIN } from './openssh-jobs.js';

export type TargetId = 'embedded' | 'embedded-raw' | 'openssh';

export type Runner =
  | { type: 'node'; kind: NodeJobKind; concurrency?: number }
  | { type: 'sftp' }
  | { type: 'scp' };

export interface ContenderDef {
  id: string;
  label: string;
  target: TargetId;
  runner: Runner;
  workloads: Workload[];
  /** A raw-channel limit, not an SFTP client. */
  isLimit?: boolean;
  /** Pays round trips per file: runs a reduced SMALL count when RTT > 0 (times `slowScale`). */
  slowAtRtt?: boolean;
  slowScale?: number;
}

export const CONTENDERS: readonly ContenderDef[] = [
  { id: 'limit-sshd', label: 'limit: raw SSH channel, ssh2 -> sshd', target: 'openssh', runner: { type: 'node', kind: 'raw' }, workloads: ['large'], isLimit: true },
  { id: 'limit-ssh2', label: 'limit: raw SSH channel, ssh2 -> ssh2 Server', target: 'embedded-raw', runner: { type: 'node', kind: 'raw' }, workloads: ['large'], isLimit: true },
  { id: 'sftp-wire', label: 'sftp-wire -> sftp-wire server', target: 'embedded', runner: { type: 'node', kind: 'sftp-wire' }, workloads: ['large', 'small', 'list'] },
  { id: 'sftp-wire-sshd', label: 'sftp-wire -> OpenSSH sftp-server', target: 'openssh', runner: { type: 'node', kind: 'sftp-wire' }, workloads: ['large', 'small', 'list'] },
  { id: 'ssh2-fast', label: 'ssh2 SFTP fastPut/fastGet', target: 'openssh', runner: { type: 'node', kind: 'ssh2-fast' }, workloads: ['large'] },
  { id: 'ssh2-serial', label: 'ssh2 SFTP, 1 file at a time', target: 'openssh', runner: { type: 'node', kind: 'ssh2-serial' }, workloads: ['small'], slowAtRtt: true },
  { id: 'ssh2-16', label: 'ssh2 SFTP, 16 files in flight', target: 'openssh', runner: { type: 'node', kind: 'ssh2-parallel', concurrency: 16 }, workloads: ['small'], slowAtRtt: true, slowScale: 8 },
  { id: 'ssh2-readdir', label: 'ssh2 SFTP readdir(path)', target: 'openssh', runner: { type: 'node', kind: 'ssh2-serial' }, workloads: ['list'] },
  { id: 'openssh-sftp', label: 'OpenSSH sftp -b', target: 'openssh', runner: { type: 'sftp' }, workloads: ['large', 'small', 'list'], slowAtRtt: true },
  { id: 'scp', label: 'OpenSSH scp', target: 'openssh', runner: { type: 'scp' }, workloads: ['large', 'small'], slowAtRtt: true },
];

/** The limit a contender's LARGE figures are read against (same server, same transport). */
export function limitFor(c: ContenderDef): string {
  return c.target === 'openssh' ? 'limit-sshd' : 'limit-ssh2';
}

/** The sftp-wire row that other contenders are compared with: the one against the same server. */
export const REFERENCE_ID = 'sftp-wire-sshd';
/** Used instead where the reference row has no result (marked * in the table). */
export const FALLBACK_REFERENCE_ID = 'sftp-wire';

/** Why a contender cannot run on this machine, or null. `problems` holds start-up failures by target. */
export function skipReason(c: ContenderDef, problems: { embedded?: string; openssh?: string; client?: string }): string | null {
  if (c.target !== 'openssh' && problems.embedded) return problems.embedded;
  if (c.target === 'openssh' && problems.openssh) return problems.openssh;
  if (c.runner.type === 'node' && c.runner.kind === 'sftp-wire' && problems.client) return problems.client;
  if (c.runner.type === 'sftp' && !existsSync(SFTP_BIN)) return `${SFTP_BIN} not installed`;
  if (c.runner.type === 'scp' && !existsSync(SCP_BIN)) return `${SCP_BIN} not installed`;
  return null;
}
