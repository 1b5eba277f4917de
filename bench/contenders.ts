/**
 * Every contender of the bench: who talks to which server, with which program, on which workloads,
 * and which OpenSSH programs it needs. The raw-channel rows are the references LARGE rows are read
 * against.
 */
import type { NodeJobKind, Workload } from './jobs.js';
import { DEBIAN_PACKAGE, missingOpenSsh, type OpenSshProgram, type OpenSshPrograms } from './openssh-programs.js';
import { renderTable } from './text-table.js';

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

/** The OpenSSH programs a contender needs on this machine (none: it needs only Node). */
export function openSshNeeds(c: ContenderDef): OpenSshProgram[] {
  const needs: OpenSshProgram[] = c.target === 'openssh' ? ['sshd', 'sftp-server'] : [];
  if (c.runner.type === 'sftp') needs.push('sftp');
  if (c.runner.type === 'scp') needs.push('scp', 'ssh');
  return needs;
}

/** Needs only Node: sftp-wire's own server and the ssh2 raw channel beside it. */
export function needsOnlyNode(c: ContenderDef): boolean {
  return openSshNeeds(c).length === 0;
}

/** An sftp-wire client row (against either server). */
export function isSftpWireRow(c: ContenderDef): boolean {
  return c.runner.type === 'node' && c.runner.kind === 'sftp-wire';
}

/**
 * Why a contender cannot run on this machine, or null. `problems` holds start-up failures by target;
 * `programs` the OpenSSH programs found (see openssh-programs.ts).
 */
export function skipReason(c: ContenderDef, problems: { embedded?: string; openssh?: string; client?: string }, programs: OpenSshPrograms): string | null {
  const missing = missingOpenSsh(programs, openSshNeeds(c));
  if (missing) return missing;
  if (c.target !== 'openssh' && problems.embedded) return problems.embedded;
  if (c.target === 'openssh' && problems.openssh) return problems.openssh;
  if (isSftpWireRow(c) && problems.client) return problems.client;
  return null;
}

/** Contender ids by --contenders (all when empty); throws naming the known ids for an unknown one. */
export function selectContenders(ids: readonly string[]): ContenderDef[] {
  if (ids.length === 0) return [...CONTENDERS];
  const known = CONTENDERS.map((c) => c.id);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) throw new Error(`unknown contender ${unknown.map((u) => JSON.stringify(u)).join(', ')} (known: ${known.join(', ')}; see --list-contenders)`);
  return CONTENDERS.filter((c) => ids.includes(c.id));
}

/** The --list-contenders table: id, what runs, which server, workloads, what it needs, and whether this machine has it. */
export function renderContenderList(programs: OpenSshPrograms): string {
  const rows = CONTENDERS.map((c) => {
    const needs = openSshNeeds(c);
    const missing = missingOpenSsh(programs, needs);
    return [
      c.id,
      c.label,
      c.workloads.join(','),
      needs.length ? `OpenSSH ${needs.join(', ')}` : 'Node only',
      missing ? `no: install ${[...new Set(needs.filter((n) => !programs[n]).map((n) => DEBIAN_PACKAGE[n]))].join(' ')}` : 'yes',
    ];
  });
  return renderTable(['id', 'contender', 'workloads', 'needs', 'runs here'], rows, { align: ['l', 'l', 'l', 'l', 'l'] }) +
    '\nRun some: npm run bench -- --contenders sftp-wire,ssh2-fast   (limit-* rows are the raw SSH channel, the reference for LARGE)\n';
}
