/**
 * What a contender is: who talks to which server, on which workloads, and the code that does each
 * workload. A contender runs either in a Node worker process (its peak RSS is the worker's) or as
 * OpenSSH programs the orchestrator spawns (peak RSS from GNU time).
 */
import type { OpenSshProgram } from '../lib/openssh-programs.js';
import type { OpenSshJob, OpenSshResult } from './clients/openssh-clients.js';
import type { WorkerRunner } from './clients/worker-session.js';
import type { NodeJob, Workload } from './jobs.js';

export type TargetId = 'embedded' | 'embedded-raw' | 'openssh';

/** A contender's code for one workload, run by the orchestrator (OpenSSH programs). */
export type SpawnedRunner = (job: OpenSshJob, ctx: { scpSetupSeconds: number }) => Promise<OpenSshResult>;

/** The sftp-wire tuning of a main run (--requests, --chunk, --concurrency). */
export interface Tuning {
  requests?: number;
  chunkSize?: number;
  concurrency?: number;
}

interface Common<Id extends string> {
  id: Id;
  label: string;
  target: TargetId;
  /** The workloads it runs: each has its runner (checked by defineContender and by a test). */
  workloads: readonly Workload[];
  /** A raw-channel limit, not an SFTP client: its transfers carry no data to verify. */
  isLimit?: boolean;
  /** An sftp-wire client row (the run fails when none of these produce a result). */
  isSftpWire?: boolean;
  /** Pays round trips per file: runs a reduced SMALL count when RTT > 0 (times `slowScale`). */
  slowAtRtt?: boolean;
  slowScale?: number;
}

export interface WorkerContender<Id extends string = string> extends Common<Id> {
  runs: 'worker';
  /** Job fields this contender sets (sftp-wire: the run's tuning; ssh2-16: 16 files in flight). */
  jobOptions?: (tuning: Tuning) => Partial<NodeJob>;
  runners: { readonly [K in Workload]?: WorkerRunner };
}

export interface SpawnedContender<Id extends string = string> extends Common<Id> {
  runs: 'spawned';
  /** OpenSSH client programs it needs, beyond the server's. */
  programs: readonly OpenSshProgram[];
  /** Its runs share one master connection (scp), and have that connection's set-up time taken off. */
  sharedMaster?: boolean;
  runners: { readonly [K in Workload]?: SpawnedRunner };
}

export type ContenderDef<Id extends string = string> = WorkerContender<Id> | SpawnedContender<Id>;

/**
 * Declare a contender: the workloads it claims are inferred from `workloads` alone, so leaving out
 * the runner of a claimed workload (or adding one it does not claim) does not compile.
 */
export function defineContender<const Id extends string, const W extends Workload>(
  def:
    | (Omit<WorkerContender<Id>, 'runners' | 'workloads'> & {
        workloads: readonly W[];
        runners: { readonly [K in NoInfer<W>]: WorkerRunner };
      })
    | (Omit<SpawnedContender<Id>, 'runners' | 'workloads'> & {
        workloads: readonly W[];
        runners: { readonly [K in NoInfer<W>]: SpawnedRunner };
      }),
): ContenderDef<Id> {
  return def;
}

/** For switches over a closed union: a new case that is not handled does not compile. */
export function assertNever(x: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
