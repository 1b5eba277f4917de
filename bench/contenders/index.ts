/**
 * The registry of the bench's contenders: every one in its own file (bench/contenders/<id>.ts), here
 * in the order the tables list them. The raw-channel rows are the references LARGE rows are read
 * against. A contender's id, its entry in BY_ID and its place in CONTENDER_IDS are checked by the
 * compiler: a missing or misspelt one does not compile.
 */
import { DEBIAN_PACKAGE, missingOpenSsh, type OpenSshProgram, type OpenSshPrograms } from '../lib/openssh-programs.js';
import { renderTable } from '../lib/text-table.js';
import type { Workload } from './jobs.js';
import { limitSsh2 } from './limit-ssh2.js';
import { limitSshd } from './limit-sshd.js';
import { opensshSftp } from './openssh-sftp.js';
import { scp } from './scp.js';
import { sftpWire } from './sftp-wire.js';
import { sftpWireSshd } from './sftp-wire-sshd.js';
import { ssh2Parallel16 } from './ssh2-16.js';
import { ssh2Fast } from './ssh2-fast.js';
import { ssh2Readdir } from './ssh2-readdir.js';
import { ssh2Serial } from './ssh2-serial.js';
import { assertNever, type ContenderDef } from './types.js';

export type { ContenderDef, SpawnedContender, TargetId, Tuning, WorkerContender } from './types.js';

/** Every contender id, in table order. */
export const CONTENDER_IDS = [
  'limit-sshd',
  'limit-ssh2',
  'sftp-wire',
  'sftp-wire-sshd',
  'ssh2-fast',
  'ssh2-serial',
  'ssh2-16',
  'ssh2-readdir',
  'openssh-sftp',
  'scp',
] as const;
export type ContenderId = (typeof CONTENDER_IDS)[number];
/** A registered contender. */
export type Contender = ContenderDef<ContenderId>;

/** Each id's definition; the mapped type makes a missing, extra or mismatched entry a compile error. */
const BY_ID: { readonly [K in ContenderId]: ContenderDef<K> } = {
  'limit-sshd': limitSshd,
  'limit-ssh2': limitSsh2,
  'sftp-wire': sftpWire,
  'sftp-wire-sshd': sftpWireSshd,
  'ssh2-fast': ssh2Fast,
  'ssh2-serial': ssh2Serial,
  'ssh2-16': ssh2Parallel16,
  'ssh2-readdir': ssh2Readdir,
  'openssh-sftp': opensshSftp,
  scp,
};

export const CONTENDERS: readonly ContenderDef<ContenderId>[] = CONTENDER_IDS.map((id) => BY_ID[id]);

/** The contender with this id, or undefined. */
export function contenderById(id: string): ContenderDef<ContenderId> | undefined {
  return (CONTENDER_IDS as readonly string[]).includes(id) ? BY_ID[id as ContenderId] : undefined;
}

/** Whether a contender has a runner for a workload (every workload it claims has one). */
export function runsWorkload(c: ContenderDef, workload: Workload): boolean {
  return c.workloads.includes(workload) && typeof c.runners[workload] === 'function';
}

/** The limit a contender's LARGE figures are read against (same server, same transport). */
export function limitFor(c: ContenderDef): ContenderId {
  return c.target === 'openssh' ? 'limit-sshd' : 'limit-ssh2';
}

/** The sftp-wire row that other contenders are compared with: the one against the same server. */
export const REFERENCE_ID: ContenderId = 'sftp-wire-sshd';
/** Used instead where the reference row has no result (marked * in the table). */
export const FALLBACK_REFERENCE_ID: ContenderId = 'sftp-wire';

/** The OpenSSH programs a contender needs on this machine (none: it needs only Node). */
export function openSshNeeds(c: ContenderDef): OpenSshProgram[] {
  const needs: OpenSshProgram[] = c.target === 'openssh' ? ['sshd', 'sftp-server'] : [];
  switch (c.runs) {
    case 'worker':
      break;
    case 'spawned':
      needs.push(...c.programs);
      break;
    default:
      assertNever(c, 'contender kind');
  }
  return needs;
}

/** Needs only Node: sftp-wire's own server and the ssh2 raw channel beside it. */
export function needsOnlyNode(c: ContenderDef): boolean {
  return openSshNeeds(c).length === 0;
}

/** An sftp-wire client row (against either server). */
export function isSftpWireRow(c: ContenderDef): boolean {
  return c.isSftpWire === true;
}

/**
 * Why a contender cannot run on this machine, or null. `problems` holds start-up failures by target;
 * `programs` the OpenSSH programs found (see lib/openssh-programs.ts).
 */
export function skipReason(
  c: ContenderDef,
  problems: { embedded?: string; openssh?: string; client?: string },
  programs: OpenSshPrograms,
): string | null {
  const missing = missingOpenSsh(programs, openSshNeeds(c));
  if (missing) return missing;
  if (c.target !== 'openssh' && problems.embedded) return problems.embedded;
  if (c.target === 'openssh' && problems.openssh) return problems.openssh;
  if (isSftpWireRow(c) && problems.client) return problems.client;
  return null;
}

/** Contender ids by --contenders (all when empty); throws naming the known ids for an unknown one. */
export function selectContenders(ids: readonly string[]): ContenderDef<ContenderId>[] {
  if (ids.length === 0) return [...CONTENDERS];
  const known = CONTENDERS.map((c) => c.id as string);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length)
    throw new Error(
      `unknown contender ${unknown.map((u) => JSON.stringify(u)).join(', ')} (known: ${known.join(', ')}; see --list-contenders)`,
    );
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
      missing
        ? `no: install ${[...new Set(needs.filter((n) => !programs[n]).map((n) => DEBIAN_PACKAGE[n]))].join(' ')}`
        : 'yes',
    ];
  });
  return (
    renderTable(['id', 'contender', 'workloads', 'needs', 'runs here'], rows, { align: ['l', 'l', 'l', 'l', 'l'] }) +
    '\nRun some: npm run bench -- --contenders sftp-wire,ssh2-fast   (limit-* rows are the raw SSH channel, the reference for LARGE)\n'
  );
}
